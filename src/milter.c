/* milter.c: hand one message to a running milter (include/milter.h).
 *
 * The wire format is libmilter's (sendmail's include/libmilter/mfdef.h,
 * protocol version 6): every packet is a 4-byte length in network order
 * (counting the command byte), a command byte and its data. We offer what
 * Postfix offers except SMFIP_HDR_LEADSPC, so header values go without
 * their leading space and the filter puts back one, which is how the test
 * message is written (no folding, one space after the colon).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter.h"

#define SMFI_VERSION 6
/* actions we let the filter take */
#define SMFIF_ADDHDRS 0x01
#define SMFIF_CHGBODY 0x02
#define SMFIF_ADDRCPT 0x04
#define SMFIF_DELRCPT 0x08
#define SMFIF_CHGHDRS 0x10
#define SMFIF_QUARANTINE 0x20
#define SMFIF_CHGFROM 0x40
#define SMFIF_ADDRCPT_PAR 0x80
#define SMFIF_SETSYMLIST 0x100
/* protocol steps: "don't send" and "don't reply" */
#define SMFIP_NOCONNECT 0x01
#define SMFIP_NOHELO 0x02
#define SMFIP_NOMAIL 0x04
#define SMFIP_NORCPT 0x08
#define SMFIP_NOBODY 0x10
#define SMFIP_NOHDRS 0x20
#define SMFIP_NOEOH 0x40
#define SMFIP_NR_HDR 0x80
#define SMFIP_NOUNKNOWN 0x100
#define SMFIP_NODATA 0x200
#define SMFIP_NR_CONN 0x1000
#define SMFIP_NR_HELO 0x2000
#define SMFIP_NR_MAIL 0x4000
#define SMFIP_NR_RCPT 0x8000
#define SMFIP_NR_DATA 0x10000
#define SMFIP_NR_EOH 0x40000
#define SMFIP_NR_BODY 0x80000
#define OFFER_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | \
		       SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST)
#define OFFER_PROTO (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | \
		     SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA | \
		     SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | \
		     SMFIP_NR_EOH | SMFIP_NR_BODY)
#define REPLY_MAX (1024 * 1024)
#define BODY_CHUNK 65535

/* ---- sockets ---- */

int milter_socket_canon(const char *spec, char *canon, size_t len)
{
	char host[256], port[16];
	const char *p;
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 || spec[0] == '/') {
		p = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
		if (p[0] != '/')
			return -1;   /* relative: Postfix's queue directory, not ours to guess */
		return snprintf(canon, len, "unix:%s", p) < (int)len ? 0 : -1;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
		return -1;
	p = strchr(spec, ':') + 1;
	const char *at = strchr(p, '@');
	if (at != NULL) {   /* OpenDKIM: PORT@HOST */
		if ((size_t)(at - p) >= sizeof port || strlen(at + 1) >= sizeof host)
			return -1;
		snprintf(port, sizeof port, "%.*s", (int)(at - p), p);
		snprintf(host, sizeof host, "%s", at + 1);
	} else {            /* Postfix: HOST:PORT, [v6]:PORT */
		const char *c = strrchr(p, ':');
		if (c == NULL || (size_t)(c - p) >= sizeof host || strlen(c + 1) >= sizeof port)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(c - p), p);
		snprintf(port, sizeof port, "%s", c + 1);
	}
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (host[0] == '\0' || strcasecmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port))
		return -1;
	return snprintf(canon, len, "inet:%s:%s", host, port) < (int)len ? 0 : -1;
}

static int sock_connect(const char *spec, char *said, size_t saidlen, int *fd_out)
{
	char canon[4200];
	*fd_out = -1;
	if (milter_socket_canon(spec, canon, sizeof canon) < 0) {
		snprintf(said, saidlen, "cannot use the socket %s", spec);
		return MILTER_FAILED;
	}
	int fd = -1;
	if (strncmp(canon, "unix:", 5) == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(canon + 5) >= sizeof sa.sun_path) {
			snprintf(said, saidlen, "socket path too long: %s", canon + 5);
			return MILTER_FAILED;
		}
		memcpy(sa.sun_path, canon + 5, strlen(canon + 5) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			*fd_out = fd;
			return MILTER_PASSED;
		}
	} else {
		char *host = canon + 5, *c = strrchr(host, ':');
		*c = '\0';
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
		struct addrinfo *ai = NULL;
		if (getaddrinfo(host, c + 1, &hints, &ai) != 0 || ai == NULL) {
			snprintf(said, saidlen, "%s is not a numeric address (the proof asks no resolver)", host);
			return MILTER_FAILED;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* macros and their command go back to back: no Nagle wait between */
		int one = 1;
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		int ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		freeaddrinfo(ai);
		*c = ':';
		if (ok) {
			*fd_out = fd;
			return MILTER_PASSED;
		}
	}
	int e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(said, saidlen, "cannot connect to %s: %s", spec, strerror(e));
	return e == ECONNREFUSED || e == ENOENT ? MILTER_NO_CONNECT : MILTER_FAILED;
}

/* ---- packets ---- */

struct conn {
	int fd;
	int timeout_ms;
	uint32_t proto;      /* the filter's protocol flags */
	char *said;
	size_t saidlen;
};

static int send_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(c->said, c->saidlen, "the filter closed the connection: %s", strerror(errno));
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One packet in one write: a small header sent apart from its data would
 * wait for the peer's delayed ACK (Nagle), some 40 ms per step. */
static int send_pkt(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);
	char *b = malloc(len + 5);
	if (b == NULL) {
		snprintf(c->said, c->saidlen, "out of memory");
		return -1;
	}
	memcpy(b, &n, 4);
	b[4] = cmd;
	if (len > 0)
		memcpy(b + 5, data, len);
	int rc = send_all(c, b, len + 5);
	free(b);
	return rc;
}

static int recv_all(struct conn *c, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pf, 1, c->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			snprintf(c->said, c->saidlen, "the filter did not answer within %d s", c->timeout_ms / 1000);
			return -1;
		}
		ssize_t n = r > 0 ? recv(c->fd, p, len, 0) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->said, c->saidlen, "the filter closed the connection");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply: its command byte, and its data (malloc'd, NUL-terminated). */
static int recv_pkt(struct conn *c, char *cmd, char **data, size_t *len)
{
	uint32_t n;
	*data = NULL;
	if (recv_all(c, &n, 4) < 0)
		return -1;
	n = ntohl(n);
	if (n == 0 || n > REPLY_MAX) {
		snprintf(c->said, c->saidlen, "the filter sent a packet of %u bytes", (unsigned)n);
		return -1;
	}
	char *b = malloc(n + 1);
	if (b == NULL || recv_all(c, b, n) < 0) {
		free(b);
		return -1;
	}
	b[n] = '\0';
	*cmd = b[0];
	memmove(b, b + 1, n - 1);
	b[n - 1] = '\0';
	*data = b;
	*len = n - 1;
	return 0;
}

/* ---- the message, as a list of header fields and a body ---- */

struct hdr {
	char *name;
	char *value;          /* without the leading space; folds as "\n" + WSP */
};

struct parsed {
	struct hdr *h;
	size_t n, cap;
	char *body;           /* CRLF */
};

static void parsed_free(struct parsed *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->h[i].name);
		free(m->h[i].value);
	}
	free(m->h);
	free(m->body);
	memset(m, 0, sizeof *m);
}

static int hdr_insert(struct parsed *m, size_t at, const char *name, const char *value)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct hdr *h = realloc(m->h, cap * sizeof *h);
		if (h == NULL)
			return -1;
		m->h = h;
		m->cap = cap;
	}
	if (at > m->n)
		at = m->n;
	memmove(m->h + at + 1, m->h + at, (m->n - at) * sizeof *m->h);
	m->h[at].name = strdup(name);
	/* folds as the filter sends them: "\n" (libmilter) or "\r\n" */
	char *v = malloc(strlen(value) + 1);
	size_t k = 0;
	for (const char *p = value; v != NULL && *p; p++)
		if (!(*p == '\r' && p[1] == '\n'))
			v[k++] = *p;
	if (v != NULL)
		v[k] = '\0';
	m->h[at].value = v;
	m->n++;
	return m->h[at].name != NULL && v != NULL ? 0 : -1;
}

static int parse_msg(const char *text, struct parsed *m)
{
	memset(m, 0, sizeof *m);
	const char *end = strstr(text, "\r\n\r\n");
	if (end == NULL)
		return -1;
	for (const char *p = text; p < end + 2;) {
		const char *e = p;
		do
			e = strstr(e, "\r\n") + 2;
		while (e < end + 2 && (*e == ' ' || *e == '\t'));
		const char *colon = memchr(p, ':', (size_t)(e - p));
		if (colon == NULL)
			return -1;
		char *name = strndup(p, (size_t)(colon - p));
		const char *v = colon + 1;
		if (*v == ' ')
			v++;
		char *value = strndup(v, (size_t)(e - 2 - v));
		int rc = name != NULL && value != NULL ? hdr_insert(m, m->n, name, value) : -1;
		free(name);
		free(value);
		if (rc < 0)
			return -1;
		p = e;
	}
	m->body = strdup(end + 4);
	return m->body != NULL ? 0 : -1;
}

static char *unparse(const struct parsed *m)
{
	size_t len = strlen(m->body) + 3;
	for (size_t i = 0; i < m->n; i++)
		len += strlen(m->h[i].name) + 2 * strlen(m->h[i].value) + 5;
	char *o = malloc(len), *q = o;
	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		q += sprintf(q, "%s: ", m->h[i].name);
		for (const char *p = m->h[i].value; *p; p++) {
			if (*p == '\n')
				*q++ = '\r';
			*q++ = *p;
		}
		*q++ = '\r';
		*q++ = '\n';
	}
	q += sprintf(q, "\r\n%s", m->body);
	return o;
}

/* SMFIR_CHGHEADER: the index-th (1-based) field called name gets value;
 * an empty value deletes it. */
static int hdr_change(struct parsed *m, uint32_t index, const char *name, const char *value)
{
	uint32_t seen = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (strcasecmp(m->h[i].name, name) != 0 || ++seen != index)
			continue;
		free(m->h[i].name);
		free(m->h[i].value);
		memmove(m->h + i, m->h + i + 1, (m->n - i - 1) * sizeof *m->h);
		m->n--;
		return value[0] != '\0' ? hdr_insert(m, i, name, value) : 0;
	}
	return value[0] != '\0' ? hdr_insert(m, m->n, name, value) : 0;
}

/* ---- the conversation ---- */

/* name\0value\0 pairs of a SMFIC_MACRO packet for command `for` */
static int send_macros(struct conn *c, char cmd, const char *const *kv)
{
	char buf[2048];
	size_t k = 0;
	buf[k++] = cmd;
	for (size_t i = 0; kv[i] != NULL; i += 2) {
		size_t a = strlen(kv[i]) + 1, b = strlen(kv[i + 1]) + 1;
		if (k + a + b > sizeof buf)
			return -1;
		memcpy(buf + k, kv[i], a);
		memcpy(buf + k + a, kv[i + 1], b);
		k += a + b;
	}
	return send_pkt(c, 'D', buf, k);
}

/* A final reply: its outcome (c->said gets the words), or -2 for others. */
static int verdict(struct conn *c, char cmd, const char *d)
{
	switch (cmd) {
	case 'c':
	case 'a':
		return MILTER_PASSED;
	case 't':
		snprintf(c->said, c->saidlen, "tempfail");
		return MILTER_TEMPFAIL;
	case 'r':
		snprintf(c->said, c->saidlen, "reject");
		return MILTER_REJECT;
	case 'd':
		snprintf(c->said, c->saidlen, "discard");
		return MILTER_DISCARD;
	case 'y':
		snprintf(c->said, c->saidlen, "%.*s", (int)strcspn(d, "\r\n"), d);
		return d[0] == '4' ? MILTER_TEMPFAIL : MILTER_REJECT;
	default:
		return -2;
	}
}

/* The reply to one step: MILTER_PASSED for continue, or the verdict. */
static int step_reply(struct conn *c, int *early)
{
	for (;;) {
		char cmd, *d;
		size_t n;
		if (recv_pkt(c, &cmd, &d, &n) < 0)
			return MILTER_FAILED;
		int r = verdict(c, cmd, d);
		if (cmd == 'a')
			*early = 1;
		else if (r == -2 && cmd != 'p') {   /* progress: keep waiting */
			snprintf(c->said, c->saidlen, "unexpected reply '%c' from the filter", cmd);
			r = MILTER_FAILED;
		}
		free(d);
		if (r != -2)
			return r;
	}
}

/* Send one step unless the filter asked to skip it; read the reply unless
 * it asked for none. */
static int step(struct conn *c, uint32_t skip, uint32_t noreply, char cmd, const void *data, size_t len,
		int *early)
{
	if (c->proto & skip)
		return MILTER_PASSED;
	if (send_pkt(c, cmd, data, len) < 0)
		return MILTER_FAILED;
	if (c->proto & noreply)
		return MILTER_PASSED;
	return step_reply(c, early);
}

/* The end of the body: modifications until the final verdict. */
static int eom(struct conn *c, struct parsed *m, int *oom)
{
	if (send_pkt(c, 'E', NULL, 0) < 0)
		return MILTER_FAILED;
	for (;;) {
		char cmd, *d;
		size_t n;
		if (recv_pkt(c, &cmd, &d, &n) < 0)
			return MILTER_FAILED;
		int r = -2;
		const char *name, *value;
		uint32_t idx;
		switch (cmd) {
		case 'h':   /* add header: name\0value\0 */
			name = d;
			value = d + strlen(d) + 1;
			if ((size_t)(value - d) > n || hdr_insert(m, m->n, name, value) < 0)
				*oom = 1;
			break;
		case 'i':   /* insert header: index, name\0value\0 */
		case 'm':   /* change header: index, name\0value\0 */
			if (n < 6) {
				r = MILTER_FAILED;
				snprintf(c->said, c->saidlen, "a short header change from the filter");
				break;
			}
			memcpy(&idx, d, 4);
			idx = ntohl(idx);
			name = d + 4;
			value = name + strlen(name) + 1;
			if ((size_t)(value - d) > n)
				value = "";
			if ((cmd == 'i' ? hdr_insert(m, idx, name, value) : hdr_change(m, idx, name, value)) < 0)
				*oom = 1;
			break;
		default:           /* the verdict; body, recipients, quarantine, progress: not ours */
			r = verdict(c, cmd, d);
			break;
		}
		free(d);
		if (r != -2)
			return r;
	}
}

static int negotiate(struct conn *c)
{
	uint32_t o[3] = { htonl(SMFI_VERSION), htonl(OFFER_ACTIONS), htonl(OFFER_PROTO) };
	if (send_pkt(c, 'O', o, sizeof o) < 0)
		return MILTER_FAILED;
	char cmd, *d;
	size_t n;
	if (recv_pkt(c, &cmd, &d, &n) < 0)
		return MILTER_FAILED;
	if (cmd != 'O' || n < 12) {
		free(d);
		snprintf(c->said, c->saidlen, "the filter did not negotiate (reply '%c')", cmd);
		return MILTER_FAILED;
	}
	uint32_t p;
	memcpy(&p, d + 8, 4);
	c->proto = ntohl(p);
	free(d);
	return MILTER_PASSED;
}

/* Everything up to the end of the headers, then the body. */
static int converse(struct conn *c, const struct milter_env *env, struct parsed *m, int *early)
{
	char buf[1024];
	int r = negotiate(c);
	const char *const cmac[] = { "j", env->myhostname, "{daemon_name}", "dkim-setup", "_",
				     env->client_name, "{client_addr}", env->client_addr, NULL };
	if (r == MILTER_PASSED && send_macros(c, 'C', cmac) < 0)
		r = MILTER_FAILED;
	if (r == MILTER_PASSED) {
		int k = snprintf(buf, sizeof buf, "%s%c4", env->client_name, 0);
		uint16_t port = htons(25);
		memcpy(buf + k, &port, 2);
		k += 2 + snprintf(buf + k + 2, sizeof buf - (size_t)k - 2, "%s", env->client_addr) + 1;
		r = step(c, SMFIP_NOCONNECT, SMFIP_NR_CONN, 'C', buf, (size_t)k, early);
	}
	if (r == MILTER_PASSED && !*early)
		r = step(c, SMFIP_NOHELO, SMFIP_NR_HELO, 'H', env->helo, strlen(env->helo) + 1, early);
	const char *const mmac[] = { "i", env->queue_id, "{mail_addr}", env->sender, NULL };
	if (r == MILTER_PASSED && !*early && send_macros(c, 'M', mmac) < 0)
		r = MILTER_FAILED;
	if (r == MILTER_PASSED && !*early) {
		int k = snprintf(buf, sizeof buf, "<%s>", env->sender) + 1;
		r = step(c, SMFIP_NOMAIL, SMFIP_NR_MAIL, 'M', buf, (size_t)k, early);
	}
	const char *const rmac[] = { "{rcpt_addr}", env->rcpt, NULL };
	if (r == MILTER_PASSED && !*early && send_macros(c, 'R', rmac) < 0)
		r = MILTER_FAILED;
	if (r == MILTER_PASSED && !*early) {
		int k = snprintf(buf, sizeof buf, "<%s>", env->rcpt) + 1;
		r = step(c, SMFIP_NORCPT, SMFIP_NR_RCPT, 'R', buf, (size_t)k, early);
	}
	if (r == MILTER_PASSED && !*early)
		r = step(c, SMFIP_NODATA, SMFIP_NR_DATA, 'T', NULL, 0, early);
	for (size_t i = 0; i < m->n && r == MILTER_PASSED && !*early; i++) {
		size_t a = strlen(m->h[i].name) + 1, b = strlen(m->h[i].value) + 1;
		char *h = malloc(a + b);
		if (h == NULL)
			return MILTER_FAILED;
		memcpy(h, m->h[i].name, a);
		memcpy(h + a, m->h[i].value, b);
		r = step(c, SMFIP_NOHDRS, SMFIP_NR_HDR, 'L', h, a + b, early);
		free(h);
	}
	if (r == MILTER_PASSED && !*early)
		r = step(c, SMFIP_NOEOH, SMFIP_NR_EOH, 'N', NULL, 0, early);
	size_t blen = strlen(m->body);
	for (size_t off = 0; off < blen && r == MILTER_PASSED && !*early; off += BODY_CHUNK) {
		size_t n = blen - off < BODY_CHUNK ? blen - off : BODY_CHUNK;
		r = step(c, SMFIP_NOBODY, SMFIP_NR_BODY, 'B', m->body + off, n, early);
	}
	return r;
}

int milter_send(const char *socket, const struct milter_env *env, char **msg, char *said, size_t saidlen,
		struct dk_err *err)
{
	struct parsed m;
	said[0] = '\0';
	if (parse_msg(*msg, &m) < 0) {
		parsed_free(&m);
		return dk_fail(err, DK_SYSERR, "the test message cannot be parsed (internal error)");
	}
	struct conn c = { .fd = -1, .timeout_ms = env->timeout_ms > 0 ? env->timeout_ms : 10000,
			  .said = said, .saidlen = saidlen };
	int r = sock_connect(socket, said, saidlen, &c.fd);
	int early = 0, oom = 0;
	if (r == MILTER_PASSED)
		r = converse(&c, env, &m, &early);
	if (r == MILTER_PASSED && early)
		r = MILTER_ACCEPTED_EARLY;
	else if (r == MILTER_PASSED)
		r = eom(&c, &m, &oom);
	if (c.fd >= 0) {
		send_pkt(&c, 'Q', NULL, 0);
		close(c.fd);
	}
	if (r == MILTER_PASSED) {
		char *t = oom ? NULL : unparse(&m);
		if (t == NULL) {
			parsed_free(&m);
			return dk_fail(err, DK_SYSERR, "out of memory");
		}
		free(*msg);
		*msg = t;
	}
	parsed_free(&m);
	return r;
}
