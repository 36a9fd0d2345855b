/*
 * dns_net.c: moving ldns-built queries and answers over the network.
 *
 * Many queries run at once in one poll() loop: a slow or dead server never
 * delays the others, each query has its own deadline, and the owner can
 * abandon everything at once (the wizard quitting mid-query). A UDP answer
 * with TC set is asked again over TCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dns_priv.h"

enum { ST_IDLE, ST_UDP, ST_TCP_CONNECT, ST_TCP_SEND, ST_TCP_READ, ST_DONE };

#define UDP_MAX 65535

double dns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int dns_addr_set(struct dns_addr *a, const char *text, uint16_t port)
{
	memset(a, 0, sizeof *a);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		a->len = sizeof *in4;
	} else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof *in6;
	} else {
		return -1;
	}
	snprintf(a->text, sizeof a->text, "%s", text);
	a->port = port;
	return 0;
}

int dns_addr_from_rdf(struct dns_addr *a, const ldns_rdf *rdf, uint16_t port)
{
	char buf[64];
	int af;
	if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_A && ldns_rdf_size(rdf) == 4)
		af = AF_INET;
	else if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(rdf) == 16)
		af = AF_INET6;
	else
		return -1;
	if (inet_ntop(af, ldns_rdf_data(rdf), buf, sizeof buf) == NULL)
		return -1;
	return dns_addr_set(a, buf, port);
}

void dns_dname_text(const ldns_rdf *rdf, char *out, size_t outlen)
{
	char *s = ldns_rdf2str(rdf);
	if (s == NULL) {
		snprintf(out, outlen, "?");
		return;
	}
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	for (char *c = s; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	snprintf(out, outlen, "%s", s);
	free(s);
}

bool dns_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool dns_name_in(const char *name, const char *zone)
{
	size_t ln = strlen(name), lz = strlen(zone);
	if (ln > 0 && name[ln - 1] == '.')
		ln--;
	if (lz > 0 && zone[lz - 1] == '.')
		lz--;
	if (lz == 0)
		return true;   /* the root */
	if (ln == lz)
		return strncasecmp(name, zone, ln) == 0;
	return ln > lz && name[ln - lz - 1] == '.' && strncasecmp(name + ln - lz, zone, lz) == 0;
}

static int prepare_wire(struct dns_xfer *x, const struct dns_addr *to, double timeout)
{
	x->to = *to;
	x->timeout = timeout > 0 ? timeout : DNS_DEFAULT_TIMEOUT;
	x->fd = -1;
	x->state = ST_IDLE;
	if (ldns_pkt2wire(&x->wire, x->query, &x->wirelen) != LDNS_STATUS_OK)
		return -1;
	return 0;
}

int dns_xfer_query(struct dns_xfer *x, const struct dns_addr *to, const char *name,
		   ldns_rr_type type, bool rd, double timeout)
{
	memset(x, 0, sizeof *x);
	x->fd = -1;
	ldns_rdf *dname = ldns_dname_new_frm_str(name);
	if (dname == NULL)
		return -1;
	x->query = ldns_pkt_query_new(dname, type, LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0);
	if (x->query == NULL)
		return -1;
	ldns_pkt_set_random_id(x->query);
	return prepare_wire(x, to, timeout);
}

int dns_xfer_packet(struct dns_xfer *x, const struct dns_addr *to, ldns_pkt *pkt, double timeout)
{
	memset(x, 0, sizeof *x);
	x->fd = -1;
	x->query = pkt;
	return prepare_wire(x, to, timeout);
}

void dns_xfer_clear(struct dns_xfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	ldns_pkt_free(x->query);
	ldns_pkt_free(x->reply);
	free(x->wire);
	free(x->in);
	free(x->reply_wire);
	memset(x, 0, sizeof *x);
	x->fd = -1;
}

static void finish(struct dns_xfer *x, enum xfer_result r, int errnum)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->state = ST_DONE;
	x->result = r;
	x->errnum = errnum;
}

static enum xfer_result errno_result(int e)
{
	return e == ECONNREFUSED || e == ECONNRESET ? XFER_CONNREFUSED : XFER_NETERR;
}

static void start_udp(struct dns_xfer *x, double now)
{
	x->fd = socket(x->to.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		finish(x, XFER_NETERR, errno);
		return;
	}
	/* A connected socket: only the server's answers arrive, and an ICMP
	 * "port unreachable" comes back as ECONNREFUSED. */
	if (connect(x->fd, (struct sockaddr *)&x->to.ss, x->to.len) < 0 ||
	    send(x->fd, x->wire, x->wirelen, 0) < 0) {
		finish(x, errno_result(errno), errno);
		return;
	}
	x->state = ST_UDP;
	x->deadline = now + x->timeout;
}

static void start_tcp(struct dns_xfer *x, double now)
{
	if (x->fd >= 0)
		close(x->fd);
	x->used_tcp = true;
	x->inlen = x->sent = 0;
	x->fd = socket(x->to.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		finish(x, XFER_NETERR, errno);
		return;
	}
	x->deadline = now + x->timeout;
	if (connect(x->fd, (struct sockaddr *)&x->to.ss, x->to.len) < 0) {
		if (errno != EINPROGRESS) {
			finish(x, errno_result(errno), errno);
			return;
		}
		x->state = ST_TCP_CONNECT;
		return;
	}
	x->state = ST_TCP_SEND;
}

/* Is this answer ours? Same id, QR set, same question. */
static bool answers(const struct dns_xfer *x, const ldns_pkt *r)
{
	if (ldns_pkt_id(r) != ldns_pkt_id(x->query) || !ldns_pkt_qr(r))
		return false;
	const ldns_rr_list *qq = ldns_pkt_question(x->query), *rq = ldns_pkt_question(r);
	if (ldns_rr_list_rr_count(qq) == 0)
		return true;
	/* Some servers (FORMERR, NOTIMP, ...) send no question back. */
	if (ldns_rr_list_rr_count(rq) == 0)
		return ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR;
	const ldns_rr *a = ldns_rr_list_rr(qq, 0), *b = ldns_rr_list_rr(rq, 0);
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
	       ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* Parse a complete answer. Returns 1 done, 0 keep waiting (not ours). */
static int take_answer(struct dns_xfer *x, const uint8_t *buf, size_t len, double now)
{
	ldns_pkt *r = NULL;
	if (ldns_wire2pkt(&r, buf, len) != LDNS_STATUS_OK) {
		if (x->state == ST_UDP)
			return 0;   /* junk on UDP: wait for the real answer */
		finish(x, XFER_BADREPLY, 0);
		return 1;
	}
	if (!answers(x, r)) {
		ldns_pkt_free(r);
		if (x->state == ST_UDP)
			return 0;
		finish(x, XFER_BADREPLY, 0);
		return 1;
	}
	if (x->state == ST_UDP && ldns_pkt_tc(r)) {
		/* Truncated: the whole answer only comes over TCP. */
		ldns_pkt_free(r);
		start_tcp(x, now);
		return 1;
	}
	x->reply_wire = malloc(len);
	if (x->reply_wire == NULL) {
		ldns_pkt_free(r);
		finish(x, XFER_NETERR, ENOMEM);
		return 1;
	}
	memcpy(x->reply_wire, buf, len);
	x->reply_len = len;
	x->reply = r;
	finish(x, XFER_OK, 0);
	return 1;
}

static void step_udp(struct dns_xfer *x, double now)
{
	uint8_t *buf = malloc(UDP_MAX);
	if (buf == NULL) {
		finish(x, XFER_NETERR, ENOMEM);
		return;
	}
	for (;;) {
		ssize_t n = recv(x->fd, buf, UDP_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			finish(x, errno_result(errno), errno);
			break;
		}
		if (take_answer(x, buf, (size_t)n, now))
			break;
	}
	free(buf);
}

static void step_tcp(struct dns_xfer *x, double now)
{
	if (x->state == ST_TCP_CONNECT) {
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e != 0) {
			finish(x, errno_result(e), e);
			return;
		}
		x->state = ST_TCP_SEND;
	}
	if (x->state == ST_TCP_SEND) {
		/* DNS over TCP: a two-byte length, then the message (RFC 1035 4.2.2). */
		uint8_t len[2] = { (uint8_t)(x->wirelen >> 8), (uint8_t)x->wirelen };
		while (x->sent < x->wirelen + 2) {
			ssize_t n;
			if (x->sent < 2)
				n = send(x->fd, len + x->sent, 2 - x->sent, MSG_NOSIGNAL | MSG_MORE);
			else
				n = send(x->fd, x->wire + (x->sent - 2), x->wirelen - (x->sent - 2), MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				finish(x, errno_result(errno), errno);
				return;
			}
			x->sent += (size_t)n;
		}
		x->state = ST_TCP_READ;
		return;
	}
	/* ST_TCP_READ */
	for (;;) {
		size_t want = 2;
		if (x->inlen >= 2)
			want = 2 + ((size_t)x->in[0] << 8 | x->in[1]);
		if (x->inlen == want && want > 2) {
			take_answer(x, x->in + 2, want - 2, now);
			return;
		}
		if (x->incap < want) {
			uint8_t *nb = realloc(x->in, want);
			if (nb == NULL) {
				finish(x, XFER_NETERR, ENOMEM);
				return;
			}
			x->in = nb;
			x->incap = want;
		}
		ssize_t n = recv(x->fd, x->in + x->inlen, want - x->inlen, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			finish(x, errno_result(errno), errno);
			return;
		}
		if (n == 0) {
			finish(x, XFER_NETERR, ECONNRESET);
			return;
		}
		x->inlen += (size_t)n;
	}
}

int dns_xfer_run(struct dns_xfer *x, size_t n, int cancel_fd, const atomic_bool *stop)
{
	struct pollfd *pfd = calloc(n + 1, sizeof *pfd);
	size_t *idx = calloc(n + 1, sizeof *idx);
	if (pfd == NULL || idx == NULL) {
		free(pfd);
		free(idx);
		for (size_t i = 0; i < n; i++)
			if (x[i].state != ST_DONE)
				finish(&x[i], XFER_NETERR, ENOMEM);
		return 0;
	}
	double start = dns_now();
	for (size_t i = 0; i < n; i++)
		if (x[i].state == ST_IDLE && x[i].wire != NULL)
			start_udp(&x[i], start);
		else if (x[i].wire == NULL && x[i].state != ST_DONE)
			finish(&x[i], XFER_NETERR, EINVAL);
	bool watch_cancel = cancel_fd >= 0;
	int rc = 0;
	for (;;) {
		double now = dns_now(), next = 0;
		size_t np = 0;
		for (size_t i = 0; i < n; i++) {
			if (x[i].state == ST_DONE)
				continue;
			if (now >= x[i].deadline) {
				finish(&x[i], XFER_TIMEOUT, 0);
				continue;
			}
			if (next == 0 || x[i].deadline < next)
				next = x[i].deadline;
			pfd[np].fd = x[i].fd;
			pfd[np].events = x[i].state == ST_TCP_CONNECT || x[i].state == ST_TCP_SEND ? POLLOUT : POLLIN;
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (np == 0)
			break;
		size_t nx = np;
		if (watch_cancel) {
			pfd[np].fd = cancel_fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			np++;
		}
		int ms = (int)((next - now) * 1000.0) + 1;
		int pr = poll(pfd, np, ms);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		if (watch_cancel && pfd[nx].revents != 0) {
			if (stop != NULL && atomic_load(stop)) {
				for (size_t i = 0; i < n; i++)
					if (x[i].state != ST_DONE)
						finish(&x[i], XFER_CANCELLED, 0);
				rc = -1;
				break;
			}
			/* "check now": the owner sees its flag after this round; empty the
			 * pipe so that a later "stop" wakes us again */
			char buf[64];
			while (read(cancel_fd, buf, sizeof buf) > 0)
				;
		}
		now = dns_now();
		for (size_t k = 0; k < nx; k++) {
			if (pfd[k].revents == 0)
				continue;
			struct dns_xfer *xi = &x[idx[k]];
			if (xi->state == ST_UDP)
				step_udp(xi, now);
			else
				step_tcp(xi, now);
			if (xi->state == ST_DONE && xi->result == XFER_OK)
				xi->rtt = now - start;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (x[i].state != ST_DONE)
			finish(&x[i], XFER_TIMEOUT, 0);
	free(pfd);
	free(idx);
	return rc;
}

void dns_xfer_describe(const struct dns_xfer *x, char *out, size_t outlen)
{
	const char *via = x->used_tcp ? " (over TCP)" : "";
	switch (x->result) {
	case XFER_OK:
		snprintf(out, outlen, "answered%s", via);
		break;
	case XFER_TIMEOUT:
		snprintf(out, outlen, "no answer within %.1f s%s", x->timeout, via);
		break;
	case XFER_CONNREFUSED:
		snprintf(out, outlen, "connection refused: no DNS server listens on port %u%s",
			 (unsigned)x->to.port, via);
		break;
	case XFER_NETERR:
		snprintf(out, outlen, "network error: %s%s", strerror(x->errnum), via);
		break;
	case XFER_BADREPLY:
		snprintf(out, outlen, "an answer that is not valid DNS%s", via);
		break;
	case XFER_CANCELLED:
		snprintf(out, outlen, "cancelled");
		break;
	}
}

/* --resolver, set once at start-up before any thread asks. */
static struct dns_addr given_res[DK_MAX_NAMESERVERS];
static size_t n_given_res;

int dns_set_resolvers(const struct dk_nameserver *r, size_t n, struct dk_err *err)
{
	n_given_res = 0;
	for (size_t i = 0; i < n && i < DK_MAX_NAMESERVERS; i++) {
		if (dns_addr_set(&given_res[i], r[i].addr, r[i].port) < 0)
			return dk_fail(err, DK_USAGE, "--resolver '%s': not a usable address", r[i].addr);
		n_given_res++;
	}
	return 0;
}

size_t dns_system_resolvers(struct dns_addr *out, size_t max)
{
	if (n_given_res > 0) {
		size_t n = n_given_res < max ? n_given_res : max;
		memcpy(out, given_res, n * sizeof *out);
		return n;
	}
	ldns_resolver *r = NULL;
	if (ldns_resolver_new_frm_file(&r, NULL) != LDNS_STATUS_OK || r == NULL)
		return 0;
	size_t n = 0;
	ldns_rdf **ns = ldns_resolver_nameservers(r);
	for (size_t i = 0; i < ldns_resolver_nameserver_count(r) && n < max; i++)
		if (dns_addr_from_rdf(&out[n], ns[i], ldns_resolver_port(r)) == 0)
			n++;
	ldns_resolver_deep_free(r);
	return n;
}
