/*
 * dns.h: asking the authoritative servers of a zone, with libldns.
 *
 * CONTRACT (the wizard codes against it): everything here is usable from a
 * UI loop. dns_watch_start() spawns one worker thread that owns all DNS
 * traffic; the UI waits on dns_watch_fd() together with the keyboard and,
 * when it is readable, takes a copy of the latest view with dns_watch_view().
 * Nothing here blocks the caller for longer than taking a mutex, except the
 * synchronous dns_check()/dns_fetch_txt()/dns_publish_ex() meant for batch
 * (each bounded: about one 2 s timeout per step, all servers asked at once).
 *
 * How (src/dns*.c): ldns builds and parses every packet; our own poll() loop
 * moves the bytes over non-blocking sockets, all servers at once, UDP first
 * and TCP when the answer is truncated (no EDNS: a 4096-bit record always
 * takes TCP). The worker's poll also watches a wake pipe, so
 * dns_watch_check_now() is immediate and dns_watch_stop() returns at once
 * even mid-query. No sleep() anywhere.
 *
 * Servers: without cfg->ns, the zone apex (SOA owner for the name or a
 * parent), its NS set and every A/AAAA of each NS, all through the system
 * resolver (resolv.conf); these are the only recursive queries we make: the
 * record itself is asked only of the authoritative servers. With cfg->ns,
 * exactly those servers are asked, for everything.
 *
 * Pace of a watch: a round (one TXT query per server, RD off, plus a SOA
 * query after a server's answer changed; negative answers carry the SOA)
 * every second for 3 minutes, every 3 s until 10 minutes, then every 10 s,
 * and every 10 s once all match; check-now restarts the fast pace. The
 * server list is looked up again (at most every 30 s) while every server
 * fails. The view's generation grows with every round (counters change).
 */
#ifndef DKIM_DNS_H
#define DKIM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common.h"
#include "keygen.h"
#include "options.h"

enum dns_status {
	DNS_PENDING,      /* not asked yet */
	DNS_ABSENT,       /* NXDOMAIN or NODATA */
	DNS_WRONG_KEY,    /* a valid record with another p= (or k=) */
	DNS_MATCH,        /* p= equal to the local key */
	DNS_REVOKED,      /* empty p= */
	DNS_INVALID,      /* not a DKIM key record; detail has the parser's reason */
	DNS_MULTIPLE,     /* several TXT records at the name */
	DNS_ERROR,        /* timeout, REFUSED, SERVFAIL, not authoritative, ... */
};

/* A mistake recognised from what the servers serve, with its fix in the
 * detail text. */
enum dns_diag {
	DIAG_NONE,
	DIAG_QUOTES,          /* quote marks inside the value */
	DIAG_CUT,             /* the value stops after 255 characters */
	DIAG_NAME_DOUBLED,    /* found at <sel>._domainkey.<d>.<zone> */
	DIAG_SPLIT_RECORDS,   /* the value spread over several TXT records */
	DIAG_OTHER_SELECTOR,  /* our key under another selector */
	DIAG_CNAME_NOWHERE,   /* a CNAME to a name that holds nothing */
	DIAG_OTHER_ALG,       /* the key of another algorithm */
};
/* "quotes", "cut", "name_doubled", "split_records", "other_selector",
 * "cname_nowhere", "other_algorithm"; NULL for DIAG_NONE. */
const char *dns_diag_id(enum dns_diag d);

/* Short words for tables: "waiting", "missing", "wrong key", "OK", ... */
const char *dns_status_name(enum dns_status st);
/* Stable identifiers for JSON: "pending", "absent", "wrong_key", "match",
 * "revoked", "invalid", "multiple", "error". */
const char *dns_status_id(enum dns_status st);

struct dns_server_view {
	char name[256];           /* NS host name, or the address given */
	char addr[64];            /* numeric address */
	uint16_t port;
	enum dns_status status;
	char detail[384];         /* reason in plain words, and the fix; "" if none */
	enum dns_diag diag;       /* the mistake recognised, if any */
	bool have_serial;
	uint32_t serial;          /* SOA serial this server reported */
	unsigned queries;         /* queries sent to it so far */
	time_t last_asked;        /* 0: never */
	bool tcp;                 /* the last answer came over TCP (truncated over UDP) */
	bool testing;             /* the record has t=y */
	unsigned rtt_ms;          /* time of the last answer */
	bool unreachable;         /* found by NS lookup, but this host has no route to
				     its address family (say IPv6): shown as an
				     error, not counted in all_match */
};

struct dns_view {
	char zone[256];           /* zone apex, "" if not found yet */
	size_t n;
	struct dns_server_view *servers;   /* malloc'd copy, n entries */
	bool have_neg_ttl;
	uint32_t neg_ttl;         /* min(SOA MINIMUM, SOA TTL): negative caching */
	bool all_match;           /* every server DNS_MATCH (servers this host cannot
				     route to aside), and at least one */
	char error[256];          /* whole-lookup problem (no zone, no servers) */
	unsigned long generation; /* increases with every change */
	/* The system resolver, asked only once every authoritative server
	 * matches (and never with cfg->ns): does it see the record yet, or does
	 * it still remember "missing"? */
	bool resolver_asked;
	struct dns_server_view resolver;
};

struct dns_watch_cfg {
	const char *fqdn;         /* <selector>._domainkey.<domain> */
	const char *expect_p;     /* local p= to compare; NULL: only report
				     (a valid record then counts as DNS_MATCH) */
	enum dk_alg alg;          /* local key type, compared with k= */
	const struct dk_nameserver *ns;   /* n_ns > 0: ask exactly these */
	size_t n_ns;
	double timeout;           /* per query, seconds; 0 means 2.0 */
};

/* One synchronous round over every server (for `check` and batch). */
int dns_check(const struct dns_watch_cfg *cfg, struct dns_view *out, struct dk_err *err);

/* Fetch the record as the servers serve it: the concatenated TXT strings of
 * the first server that answers with exactly one record. malloc'd. */
int dns_fetch_txt(const struct dns_watch_cfg *cfg, char **txt, struct dk_err *err);

/* The record as EVERY authoritative server (or every cfg->ns) serves it:
 * 0 with *txt (malloc'd) when each one that this host can reach serves
 * exactly one TXT record there and all are the same; *n_servers says how
 * many. -1 + err otherwise: DK_MISMATCH when a server lacks it or they
 * differ (named in err), DK_SYSERR when a server or the lookup failed. */
int dns_fetch_txt_all(const struct dns_watch_cfg *cfg, char **txt, size_t *n_servers, struct dk_err *err);

/* The zone of cfg->fqdn and the host names of its NS records (who hosts
 * the zone's DNS), asked of cfg->ns or through the resolver. Up to max
 * names; returns the count, 0 when nobody said (err says why). */
size_t dns_zone_ns(const struct dns_watch_cfg *cfg, char (*names)[256], size_t max,
		   struct dk_err *err);

struct dns_watch;

/* Start watching in a worker thread. cfg strings are copied. */
struct dns_watch *dns_watch_start(const struct dns_watch_cfg *cfg, struct dk_err *err);
/* Readable whenever the view changed; drained by dns_watch_view(). */
int dns_watch_fd(const struct dns_watch *w);
/* Ask every server again now (the admin just pasted the record). */
void dns_watch_check_now(struct dns_watch *w);
/* Copy the latest view into *out (clear it first with dns_view_clear).
 * Returns 1 if it changed since the previous call, 0 if not. */
int dns_watch_view(struct dns_watch *w, struct dns_view *out);
/* Stop and join the worker, free everything. NULL is fine. */
void dns_watch_stop(struct dns_watch *w);

void dns_view_clear(struct dns_view *v);

/* Negative caching in plain words: the zone's own value (min of SOA TTL and
 * MINIMUM) and what common resolvers really keep, since they cap it
 * (Unbound's cache-max-negative-ttl defaults to 1 hour, BIND's
 * max-ncache-ttl to 3 hours). One sentence, for every front end. */
#define DNS_NEG_CAP_UNBOUND 3600u
#define DNS_NEG_CAP_BIND 10800u
void dns_neg_caching_text(uint32_t neg_ttl, char *out, size_t outlen);
/* "45 s", "5 min", "3 hours", "24855 days". */
void dns_duration_text(uint32_t secs, char *out, size_t outlen);

/* Recursive resolvers to use instead of /etc/resolv.conf's (--resolver):
 * for finding the zone's servers, for a CNAME that leaves the zone, and for
 * the "does your resolver see it" question. Call once, before any lookup
 * starts; 0 when every address is usable, -1 + err otherwise. */
int dns_set_resolvers(const struct dk_nameserver *r, size_t n, struct dk_err *err);

/* A TSIG key for RFC 2136 UPDATE. */
struct dns_tsig {
	char name[256];
	char algorithm[64];       /* "hmac-sha256." style, as ldns wants it */
	char secret[256];         /* base64; wiped by dns_tsig_clear */
};
/* Read a key file: "algorithm:name:secret" (knsupdate/nsupdate -y style),
 * "name:secret" (hmac-sha256 assumed, as knsupdate does), or BIND's
 * `key "name" { algorithm hmac-sha256; secret "..."; };` (tsig-keygen output;
 * # // and C comments allowed; the first key block is used).
 * hmac-sha256, hmac-sha512 and hmac-sha1 are accepted; hmac-md5 is refused
 * with the reason, hmac-sha224/384 because libldns cannot sign them.
 * -1 + err (DK_USAGE); *key is wiped on failure. */
int dns_tsig_load(const char *path, struct dns_tsig *key, struct dk_err *err);
void dns_tsig_clear(struct dns_tsig *key);

/* Replace any TXT at cfg->fqdn with `value` (strings of <= 255 bytes, TTL
 * 3600) by one TSIG-signed UPDATE sent to the zone's primary (the addresses
 * of SOA MNAME, through the system resolver) or to cfg->ns in turn (the next
 * only when one does not answer at all). The answer must be signed with the
 * key. Errors name the cause: BADSIG (wrong secret), BADKEY (unknown key
 * name), BADTIME, REFUSED (policy/zone), NOTAUTH, NOTZONE; DK_SYSERR.
 * `info` (NULL ok) says where and when the update was accepted. */
struct dns_publish_info {
	char server[64];          /* numeric address that accepted it */
	uint16_t port;
	char zone[256];
	double acked_at;          /* CLOCK_MONOTONIC seconds of the answer */
};
int dns_publish_ex(const struct dns_watch_cfg *cfg, const char *value, const struct dns_tsig *key,
		   struct dns_publish_info *info, struct dk_err *err);

/* Monotonic seconds (CLOCK_MONOTONIC), the clock of every DNS time above. */
double dns_now(void);

#endif
