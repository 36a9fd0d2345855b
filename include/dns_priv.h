/*
 * dns_priv.h: internals shared by src/dns*.c (not a contract for other
 * modules; include/dns.h is).
 *
 * Transport: ldns builds and parses every packet; dns_net.c only moves the
 * wire bytes over non-blocking sockets (UDP, then TCP when the answer is
 * truncated), many queries at once, each with its own deadline, and gives up
 * at once when the owner's cancel pipe says "stop". No sleep() anywhere.
 */
#ifndef DKIM_DNS_PRIV_H
#define DKIM_DNS_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dns.h"

#define DNS_DEFAULT_TIMEOUT 2.0
#define DNS_CNAME_DEPTH 8

struct dns_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];      /* numeric address */
	uint16_t port;
};

/* Numeric address + port. 0, or -1 if not an IPv4/IPv6 literal. */
int dns_addr_set(struct dns_addr *a, const char *text, uint16_t port);
/* From an A or AAAA rdf. 0 or -1. */
int dns_addr_from_rdf(struct dns_addr *a, const ldns_rdf *rdf, uint16_t port);

enum xfer_result {
	XFER_OK,            /* reply parsed, id and question match */
	XFER_TIMEOUT,       /* no answer before the deadline */
	XFER_CONNREFUSED,   /* ICMP port unreachable / TCP RST: nothing listens */
	XFER_NETERR,        /* other socket error (errnum) */
	XFER_BADREPLY,      /* an answer ldns could not parse */
	XFER_CANCELLED,
};

struct dns_xfer {
	/* in */
	struct dns_addr to;
	uint8_t *wire;       /* query wire form (owned, freed by dns_xfer_clear) */
	size_t wirelen;
	ldns_pkt *query;     /* owned */
	double timeout;      /* per transport attempt, seconds */
	/* state (private to dns_net.c) */
	int fd;
	int state;
	double deadline;
	uint8_t *in;
	size_t inlen, incap, sent;
	/* out */
	enum xfer_result result;
	int errnum;
	bool used_tcp;
	double rtt;          /* seconds from send to reply */
	ldns_pkt *reply;     /* owned */
	uint8_t *reply_wire; /* owned, for TSIG verification */
	size_t reply_len;
};

/* Prepare a query (name, type, RD flag) for `to`. 0 or -1 (out of memory,
 * bad name). */
int dns_xfer_query(struct dns_xfer *x, const struct dns_addr *to, const char *name,
		   ldns_rr_type type, bool rd, double timeout);
/* Prepare sending an already built packet (it is taken over). */
int dns_xfer_packet(struct dns_xfer *x, const struct dns_addr *to, ldns_pkt *pkt, double timeout);
/* Run every prepared transfer to completion (reply, error or deadline).
 * cancel_fd (-1: none) readable and *stop set: abandon all (XFER_CANCELLED)
 * and return -1. Readable without stop: emptied and ignored (the owner's
 * requests are flags; the pipe only wakes). */
int dns_xfer_run(struct dns_xfer *x, size_t n, int cancel_fd, const atomic_bool *stop);
void dns_xfer_clear(struct dns_xfer *x);
/* "no answer within 2 s", "connection refused: nothing listens on port 5353"... */
void dns_xfer_describe(const struct dns_xfer *x, char *out, size_t outlen);

/* Seconds between two rounds of a watch, `since_start` seconds after it
 * started (or after the last check-now). */
double dns_watch_interval(double since_start, bool all_match);

/* Monotonic seconds. */
double dns_now(void);

/* The recursive resolvers (--resolver, else resolv.conf's), for finding the
 * zone's servers when no --nameserver is given. Returns the count (0: none). */
size_t dns_system_resolvers(struct dns_addr *out, size_t max);

/* One server as the state machine sees it; `v` is what views copy. */
struct dns_srv {
	struct dns_server_view v;
	struct dns_addr addr;
	char *txt;              /* the one TXT record it served (joined), or NULL */
	size_t txt_len;
	bool have_neg;
	uint32_t neg_ttl;
	bool need_soa;          /* its answer changed: ask the SOA (new serial) next round */
	/* the last diagnosis of a missing record (asked every few rounds) */
	enum dns_diag absent_diag;
	char absent_detail[384];
};

/* What dns_check, dns_fetch_txt and the watch worker share. */
struct dns_state {
	char fqdn[256];
	char *expect_p;
	enum dk_alg alg;
	double timeout;
	struct dns_addr given[DK_MAX_NAMESERVERS];
	size_t n_given;
	struct dns_addr res[1];  /* the resolver that found the zone (CNAMEs leaving it) */
	size_t nres;
	char zone[256];
	bool zone_error;        /* --nameserver: none of them gave the SOA */
	struct dns_srv *srv;
	size_t n;
	char error[256];
	unsigned long rounds;
	bool one_shot;          /* dns_check: one round, every diagnosis at once */
	bool resolver_asked;
	struct dns_srv resolver;
	int cancel_fd;          /* -1, or the watch's wake pipe */
	const atomic_bool *stop;
};

int dns_state_init(struct dns_state *s, const struct dns_watch_cfg *cfg, struct dk_err *err);
void dns_state_free(struct dns_state *s);
/* Find the zone and its servers (or take the given ones). 0, or -1 with
 * s->error. */
int dns_discover(struct dns_state *s);
/* The zone apex of s->fqdn: SOA for the name, then its parents, asked of
 * every address in `to` at once (rd: recursion desired). 0 with s->zone
 * (and *answered_by, the index that said so), or -1 with s->error. */
int dns_find_zone(struct dns_state *s, const struct dns_addr *to, size_t nto, bool rd,
		  size_t *answered_by);
/* Ask every server once (TXT, following CNAMEs; SOA too when with_soa).
 * 0, -1 out of memory, -2 cancelled. */
int dns_round(struct dns_state *s, bool with_soa);
/* Once every server matches (and no --nameserver): ask the system resolver
 * too, into s->resolver. */
void dns_ask_resolver(struct dns_state *s);
/* Copy into a view (servers malloc'd). */
void dns_state_view(const struct dns_state *s, struct dns_view *out);

/* Lower-case presentation form of a dname without the trailing dot. */
void dns_dname_text(const ldns_rdf *rdf, char *out, size_t outlen);
/* Same name (case-insensitive, trailing dots ignored)? */
bool dns_name_eq(const char *a, const char *b);
/* Is `name` the zone or below it? */
bool dns_name_in(const char *name, const char *zone);

#endif
