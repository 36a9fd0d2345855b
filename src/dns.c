/*
 * dns.c: what each authoritative server of the zone serves at the selector.
 *
 * Finding the servers: the zone apex is the owner of the SOA that comes back
 * for the record's name (answer or authority section), walking up labels when
 * none does; then its NS set and every A and AAAA of each NS. Without
 * --nameserver those three lookups go to the system's resolvers (the only
 * recursive queries we make); with --nameserver the given servers are asked
 * for the SOA directly and are the only servers asked anything.
 *
 * Each server is then asked directly, recursion off, for TXT at the name
 * (following CNAMEs) and for the SOA (serial, negative-caching time). All
 * servers are asked at once (dns_net.c), so a dead one costs no one else time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_priv.h"
#include "record.h"

const char *dns_status_name(enum dns_status st)
{
	static const char *names[] = { "waiting", "missing", "wrong key", "OK", "revoked",
				       "invalid", "several records", "error" };
	return (size_t)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *dns_diag_id(enum dns_diag d)
{
	static const char *ids[] = { NULL, "quotes", "cut", "name_doubled", "split_records",
				     "other_selector", "cname_nowhere", "other_algorithm" };
	return (size_t)d < sizeof ids / sizeof ids[0] ? ids[d] : NULL;
}

const char *dns_status_id(enum dns_status st)
{
	static const char *ids[] = { "pending", "absent", "wrong_key", "match", "revoked",
				     "invalid", "multiple", "error" };
	return (size_t)st < sizeof ids / sizeof ids[0] ? ids[st] : "unknown";
}

void dns_view_clear(struct dns_view *v)
{
	free(v->servers);
	memset(v, 0, sizeof *v);
}

void dns_duration_text(uint32_t secs, char *out, size_t outlen)
{
	if (secs < 120)
		snprintf(out, outlen, "%u s", (unsigned)secs);
	else if (secs < 7200)
		snprintf(out, outlen, "%u min", (unsigned)(secs / 60));
	else if (secs < 172800)
		snprintf(out, outlen, "%u hours", (unsigned)(secs / 3600));
	else
		snprintf(out, outlen, "%u days", (unsigned)(secs / 86400));
}

void dns_neg_caching_text(uint32_t neg_ttl, char *out, size_t outlen)
{
	char zone[32], keep[32];
	dns_duration_text(neg_ttl, zone, sizeof zone);
	uint32_t worst = neg_ttl < DNS_NEG_CAP_BIND ? neg_ttl : DNS_NEG_CAP_BIND;
	dns_duration_text(worst, keep, sizeof keep);
	if (neg_ttl <= DNS_NEG_CAP_UNBOUND)
		snprintf(out, outlen, "A resolver that asks before the record exists remembers "
			 "\"no such record\" for %s (the zone's negative-caching time).", zone);
	else
		snprintf(out, outlen, "A resolver that asks before the record exists remembers "
			 "\"no such record\" for up to %s: the zone allows %s, but resolvers cap it "
			 "(Unbound at 1 hour, BIND at 3 hours by default).", keep, zone);
}

/* ---- state shared by dns_check and the watch ---- */

int dns_state_init(struct dns_state *s, const struct dns_watch_cfg *cfg, struct dk_err *err)
{
	memset(s, 0, sizeof *s);
	s->cancel_fd = -1;
	if (cfg->fqdn == NULL || strlen(cfg->fqdn) >= sizeof s->fqdn)
		return dk_fail(err, DK_USAGE, "no record name to look up");
	snprintf(s->fqdn, sizeof s->fqdn, "%s", cfg->fqdn);
	if (cfg->expect_p != NULL && (s->expect_p = strdup(cfg->expect_p)) == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	s->alg = cfg->alg;
	s->timeout = cfg->timeout > 0 ? cfg->timeout : DNS_DEFAULT_TIMEOUT;
	s->n_given = cfg->n_ns < DK_MAX_NAMESERVERS ? cfg->n_ns : DK_MAX_NAMESERVERS;
	for (size_t i = 0; i < s->n_given; i++) {
		if (dns_addr_set(&s->given[i], cfg->ns[i].addr, cfg->ns[i].port) < 0) {
			char pb[80];
			return dk_fail(err, DK_USAGE, "nameserver '%s' is not a numeric address",
				       dk_printable(cfg->ns[i].addr, pb, sizeof pb));
		}
	}
	return 0;
}

static void servers_free(struct dns_srv *srv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(srv[i].txt);
	free(srv);
}

void dns_state_free(struct dns_state *s)
{
	free(s->resolver.txt);
	s->resolver.txt = NULL;
	servers_free(s->srv, s->n);
	free(s->expect_p);
	s->srv = NULL;
	s->n = 0;
	s->expect_p = NULL;
}

static bool stopped(const struct dns_state *s)
{
	return s->stop != NULL && atomic_load(s->stop);
}

/* The zone apex from an answer to "name SOA", or "" when it does not say. */
static void zone_from_reply(const ldns_pkt *r, const char *name, char *zone, size_t zlen)
{
	zone[0] = '\0';
	const ldns_rr_list *an = ldns_pkt_answer(r), *au = ldns_pkt_authority(r);
	char owner[256];
	bool cname = false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		dns_dname_text(ldns_rr_owner(rr), owner, sizeof owner);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && dns_name_eq(owner, name)) {
			snprintf(zone, zlen, "%s", owner);
			return;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
			cname = true;
	}
	/* After a CNAME the authority SOA is the target's zone, not ours. */
	if (cname)
		return;
	for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			continue;
		dns_dname_text(ldns_rr_owner(rr), owner, sizeof owner);
		size_t lo = strlen(owner), ln = strlen(name);
		/* the SOA owner must be the name or one of its ancestors */
		if (dns_name_eq(owner, name) || strcmp(owner, ".") == 0 ||
		    (ln > lo && name[ln - lo - 1] == '.' && dns_name_eq(name + ln - lo, owner))) {
			snprintf(zone, zlen, "%s", owner);
			return;
		}
	}
}

/*
 * Find the zone apex by asking `to` (all at once) for SOA at the name, then
 * at each parent. Stops walking up when nobody gave a usable answer (all
 * silent or refusing: asking the parent would not help). 0 found, -1 not.
 */
int dns_find_zone(struct dns_state *s, const struct dns_addr *to, size_t nto, bool rd,
		  size_t *answered_by)
{
	const char *name = s->fqdn;
	s->zone[0] = '\0';
	struct dns_xfer *x = calloc(nto, sizeof *x);
	size_t *idx = calloc(nto, sizeof *idx);
	if (x == NULL || idx == NULL) {
		free(x);
		free(idx);
		snprintf(s->error, sizeof s->error, "out of memory");
		return -1;
	}
	int rc = -1;
	char why[160] = "";
	while (name != NULL && name[0] != '\0' && rc < 0 && !stopped(s)) {
		size_t nq = 0;
		for (size_t i = 0; i < nto; i++)
			if (dns_xfer_query(&x[nq], &to[i], name, LDNS_RR_TYPE_SOA, rd, s->timeout) == 0)
				idx[nq++] = i;
			else
				dns_xfer_clear(&x[nq]);
		dns_xfer_run(x, nq, s->cancel_fd, s->stop);
		bool usable = false;
		for (size_t i = 0; i < nq && rc < 0; i++) {
			if (x[i].result != XFER_OK) {
				dns_xfer_describe(&x[i], why, sizeof why);
				continue;
			}
			ldns_pkt_rcode rcode = ldns_pkt_get_rcode(x[i].reply);
			if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
				char *rs = ldns_pkt_rcode2str(rcode);
				snprintf(why, sizeof why, "answered %s", rs != NULL ? rs : "an error");
				free(rs);
				continue;
			}
			usable = true;
			zone_from_reply(x[i].reply, name, s->zone, sizeof s->zone);
			if (s->zone[0] != '\0') {
				rc = 0;
				if (answered_by != NULL)
					*answered_by = idx[i];
			}
		}
		for (size_t i = 0; i < nq; i++)
			dns_xfer_clear(&x[i]);
		if (rc == 0 || !usable)
			break;
		const char *dot = strchr(name, '.');
		name = dot != NULL ? dot + 1 : NULL;
	}
	free(x);
	free(idx);
	if (rc < 0)
		snprintf(s->error, sizeof s->error, "could not find the zone of %s: %s", s->fqdn,
			 why[0] != '\0' ? why : "no server gave its SOA record");
	return rc;
}

static int srv_cmp(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;
	int c = strcmp(x->v.name, y->v.name);
	if (c != 0)
		return c;
	/* IPv4 before IPv6, then by text */
	if (x->addr.ss.ss_family != y->addr.ss.ss_family)
		return x->addr.ss.ss_family == AF_INET ? -1 : 1;
	return strcmp(x->v.addr, y->v.addr);
}

static int add_server(struct dns_srv **srv, size_t *n, size_t *cap, const char *name,
		      const struct dns_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*srv)[i].v.addr, a->text) == 0 && (*srv)[i].addr.port == a->port)
			return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct dns_srv *ns = realloc(*srv, nc * sizeof *ns);
		if (ns == NULL)
			return -1;
		*srv = ns;
		*cap = nc;
	}
	struct dns_srv *d = &(*srv)[(*n)++];
	memset(d, 0, sizeof *d);
	d->addr = *a;
	snprintf(d->v.name, sizeof d->v.name, "%s", name);
	snprintf(d->v.addr, sizeof d->v.addr, "%s", a->text);
	d->v.port = a->port;
	d->v.status = DNS_PENDING;
	return 0;
}

/* Without --nameserver: the zone's NS set and their addresses through the
 * system resolver. */
static int discover_via_resolver(struct dns_state *s, struct dns_srv **srv, size_t *n)
{
	struct dns_addr res[8];
	size_t nres = dns_system_resolvers(res, 8);
	size_t cap = 0;
	if (nres == 0) {
		snprintf(s->error, sizeof s->error, "no resolver in /etc/resolv.conf to find the "
			 "zone's name servers; give them with --nameserver");
		return -1;
	}
	size_t who = 0;
	if (dns_find_zone(s, res, nres, true, &who) < 0)
		return -1;
	s->res[0] = res[who];
	s->nres = 1;
	const struct dns_addr *r = &res[who];

	struct dns_xfer x;
	if (dns_xfer_query(&x, r, s->zone, LDNS_RR_TYPE_NS, true, s->timeout) < 0) {
		dns_xfer_clear(&x);
		snprintf(s->error, sizeof s->error, "out of memory");
		return -1;
	}
	dns_xfer_run(&x, 1, s->cancel_fd, s->stop);
	char names[16][256];
	size_t nn = 0;
	if (x.result == XFER_OK && ldns_pkt_get_rcode(x.reply) == LDNS_RCODE_NOERROR) {
		const ldns_rr_list *an = ldns_pkt_answer(x.reply);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an) && nn < 16; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) == 1)
				dns_dname_text(ldns_rr_rdf(rr, 0), names[nn++], sizeof names[0]);
		}
	}
	char why[160];
	dns_xfer_describe(&x, why, sizeof why);
	dns_xfer_clear(&x);
	if (nn == 0) {
		snprintf(s->error, sizeof s->error, "no NS records found for the zone %s (%s)",
			 s->zone, why);
		return -1;
	}

	struct dns_xfer ax[32];
	size_t na = 0;
	for (size_t i = 0; i < nn; i++) {
		if (dns_xfer_query(&ax[na], r, names[i], LDNS_RR_TYPE_A, true, s->timeout) == 0)
			na++;
		else
			dns_xfer_clear(&ax[na]);
		if (dns_xfer_query(&ax[na], r, names[i], LDNS_RR_TYPE_AAAA, true, s->timeout) == 0)
			na++;
		else
			dns_xfer_clear(&ax[na]);
	}
	dns_xfer_run(ax, na, s->cancel_fd, s->stop);
	for (size_t i = 0; i < na; i++) {
		if (ax[i].result != XFER_OK)
			continue;
		char qn[256];
		dns_dname_text(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(ax[i].query), 0)), qn, sizeof qn);
		const ldns_rr_list *an = ldns_pkt_answer(ax[i].reply);
		for (size_t k = 0; k < ldns_rr_list_rr_count(an); k++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, k);
			struct dns_addr a;
			if ((ldns_rr_get_type(rr) == LDNS_RR_TYPE_A || ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA) &&
			    ldns_rr_rd_count(rr) == 1 && dns_addr_from_rdf(&a, ldns_rr_rdf(rr, 0), 53) == 0 &&
			    add_server(srv, n, &cap, qn, &a) < 0)
				break;
		}
	}
	for (size_t i = 0; i < na; i++)
		dns_xfer_clear(&ax[i]);
	if (*n == 0) {
		snprintf(s->error, sizeof s->error, "the name servers of %s have no addresses we "
			 "could find", s->zone);
		return -1;
	}
	return 0;
}

int dns_discover(struct dns_state *s)
{
	struct dns_srv *srv = NULL;
	size_t n = 0, cap = 0;
	s->error[0] = '\0';
	if (s->n_given > 0) {
		for (size_t i = 0; i < s->n_given; i++)
			if (add_server(&srv, &n, &cap, s->given[i].text, &s->given[i]) < 0) {
				servers_free(srv, n);
				snprintf(s->error, sizeof s->error, "out of memory");
				return -1;
			}
		/* The zone (only needed for the SOA: serial, negative TTL) is
		 * asked of these servers during the first round, at the same
		 * time as the TXT, so a dead server costs one timeout, not two. */
	} else if (discover_via_resolver(s, &srv, &n) < 0) {
		servers_free(srv, n);
		return -1;
	} else {
		qsort(srv, n, sizeof *srv, srv_cmp);
	}
	/* keep counters of servers we knew already */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < s->n; k++)
			if (strcmp(srv[i].v.addr, s->srv[k].v.addr) == 0 && srv[i].v.port == s->srv[k].v.port)
				srv[i].v.queries = s->srv[k].v.queries;
	servers_free(s->srv, s->n);
	s->srv = srv;
	s->n = n;
	if (s->n_given > 0)
		s->error[0] = '\0';
	return 0;
}

/* ---- judging what one server said ---- */

static void set_status(struct dns_srv *d, enum dns_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_status(struct dns_srv *d, enum dns_status st, const char *fmt, ...)
{
	va_list ap;
	d->v.status = st;
	d->v.diag = DIAG_NONE;
	va_start(ap, fmt);
	vsnprintf(d->v.detail, sizeof d->v.detail, fmt, ap);
	va_end(ap);
	/* The detail reaches the admin's terminal; callers escape what came
	 * from the wire with dk_printable(), and anything they missed is
	 * never sent raw. */
	for (char *c = d->v.detail; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

static void take_soa(struct dns_srv *d, const ldns_rr *soa)
{
	if (ldns_rr_rd_count(soa) < 7)
		return;
	d->v.have_serial = true;
	d->v.serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
	uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
	uint32_t ttl = ldns_rr_ttl(soa);
	d->have_neg = true;
	d->neg_ttl = minimum < ttl ? minimum : ttl;
}

static void soa_from_section(struct dns_srv *d, const ldns_rr_list *l)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == LDNS_RR_TYPE_SOA) {
			take_soa(d, ldns_rr_list_rr(l, i));
			return;
		}
}

/* The concatenated character-strings of one TXT RR. malloc'd, NUL-terminated. */
static char *txt_join(const ldns_rr *rr, size_t *len)
{
	size_t total = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_size(f) > 0)
			total += ldns_rdf_size(f) - 1;
	}
	char *out = malloc(total + 1);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *p = ldns_rdf_data(f);
		size_t sz = ldns_rdf_size(f);
		if (sz == 0)
			continue;
		size_t sl = p[0] < sz - 1 ? p[0] : sz - 1;
		memcpy(out + n, p + 1, sl);
		n += sl;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* Judge one key record (the only TXT at the name). */
static void judge_record(const struct dns_state *s, struct dns_srv *d, const char *txt, size_t len,
			 const char *via)
{
	struct dkim_keyrec rec;
	char why[200];
	memset(&rec, 0, sizeof rec);
	d->v.testing = false;
	if (memchr(txt, '"', len) != NULL) {
		set_status(d, DNS_INVALID, "%sthe value contains quote marks: the zone-file form was "
			   "pasted into one field; paste the joined value instead", via);
		d->v.diag = DIAG_QUOTES;
		return;
	}
	if (memchr(txt, '\0', len) != NULL) {
		set_status(d, DNS_INVALID, "%sthe value contains a NUL byte", via);
		return;
	}
	if (record_parse(txt, len, &rec, why, sizeof why) < 0) {
		set_status(d, DNS_INVALID, "%s%s", via, why);
		if (len == RECORD_STRING_MAX && s->expect_p != NULL) {
			set_status(d, DNS_INVALID, "%sthe value stops after 255 characters: the panel "
				   "cut it. Paste the value as quoted strings of at most 255 (\"...\" "
				   "\"...\"), or in a panel that splits it itself, as one string", via);
			d->v.diag = DIAG_CUT;
		}
		record_keyrec_clear(&rec);
		return;
	}
	d->v.testing = rec.testing;
	const char *local_k = keygen_alg_name(s->alg);
	const char *tflag = rec.testing ? " (t=y: testing mode, receivers may treat failures "
					  "as unsigned)" : "";
	if (rec.revoked)
		set_status(d, DNS_REVOKED, "%sp= is empty: this selector's key is revoked", via);
	else if (!record_allows_hash(&rec, "sha256"))
		set_status(d, DNS_INVALID, "%sh=%s: the record does not allow sha256, which the "
			   "signatures use", via, dk_printable(rec.h, why, sizeof why));
	else if (s->expect_p == NULL)
		set_status(d, DNS_MATCH, "%sa valid key record (no local key to compare)%s", via, tflag);
	else if (strcmp(rec.k, local_k) != 0) {
		set_status(d, DNS_WRONG_KEY, "%sthe record holds an %s key (k=%s), but this "
			   "selector's key is %s: publish this selector's own record here (each key "
			   "has its own selector)", via, strcmp(rec.k, "ed25519") == 0 ? "Ed25519" : "RSA",
			   dk_printable(rec.k, why, sizeof why), s->alg == DK_ALG_ED25519 ? "Ed25519" : "RSA");
		d->v.diag = DIAG_OTHER_ALG;
	} else if (strcmp(rec.p, s->expect_p) != 0 && strlen(rec.p) < strlen(s->expect_p) &&
		   strncmp(rec.p, s->expect_p, strlen(rec.p)) == 0) {
		set_status(d, DNS_WRONG_KEY, "%sthe value is cut short (%zu of %zu characters of p=): "
			   "the panel cut it. Paste the value as quoted strings of at most 255 "
			   "(\"...\" \"...\"), or as one string where the panel splits it itself",
			   via, strlen(rec.p), strlen(s->expect_p));
		d->v.diag = DIAG_CUT;
	} else if (strcmp(rec.p, s->expect_p) != 0)
		set_status(d, DNS_WRONG_KEY, "%sp= is a different key than the local one", via);
	else {
		/* "via CNAME x: " reads as "via CNAME x" when nothing follows */
		size_t vl = strlen(via);
		if (vl >= 2 && via[vl - 2] == ':')
			vl -= 2;
		set_status(d, DNS_MATCH, "%.*s%s", (int)vl, via, vl > 0 ? tflag : (tflag[0] ? tflag + 1 : ""));
	}
	record_keyrec_clear(&rec);
}

/* Do the records, joined in some order, make the record of our key? (What
 * people publish when a panel refuses a value over 255 characters.) */
static bool split_matches(const struct dns_state *s, const ldns_rr **rrs, size_t n)
{
	static const int perms4[][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},{1,0,2,3},{1,0,3,2},
		{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},
		{2,3,0,1},{2,3,1,0},{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0} };
	if (s->expect_p == NULL || n < 2 || n > 4)
		return false;
	char *parts[4] = { NULL };
	size_t lens[4] = { 0 }, total = 0;
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		parts[i] = txt_join(rrs[i], &lens[i]);
		total += lens[i];
	}
	char *buf = malloc(total + 1);
	for (size_t k = 0; buf != NULL && k < sizeof perms4 / sizeof perms4[0] && !found; k++) {
		size_t off = 0;
		bool ok = true;
		for (size_t i = 0; i < 4 && ok; i++) {
			if ((size_t)perms4[k][i] >= n)
				continue;   /* permutations of fewer records: skip the others */
			if (parts[perms4[k][i]] == NULL) {
				ok = false;
				break;
			}
			memcpy(buf + off, parts[perms4[k][i]], lens[perms4[k][i]]);
			off += lens[perms4[k][i]];
		}
		if (!ok)
			continue;
		buf[off] = '\0';
		struct dkim_keyrec rec;
		char why[200];
		memset(&rec, 0, sizeof rec);
		found = record_parse(buf, off, &rec, why, sizeof why) == 0 && !rec.revoked &&
			strcmp(rec.p, s->expect_p) == 0;
		record_keyrec_clear(&rec);
	}
	free(buf);
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	return found;
}

/* Several TXT records at the name: say whether one of them would do. */
static void judge_several(const struct dns_state *s, struct dns_srv *d, const ldns_rr **rrs,
			  size_t n, const char *via)
{
	size_t matching = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *t = txt_join(rrs[i], &len);
		if (t == NULL)
			continue;
		struct dns_srv tmp;
		memset(&tmp, 0, sizeof tmp);
		judge_record(s, &tmp, t, len, "");
		if (tmp.v.status == DNS_MATCH)
			matching++;
		free(t);
	}
	if (matching > 0) {
		set_status(d, DNS_MULTIPLE, "%s%zu TXT records at this name; one matches the key, but "
			   "a verifier may pick any: delete the others", via, n);
	} else if (n <= 4 && split_matches(s, rrs, n)) {
		set_status(d, DNS_MULTIPLE, "%sthe value is split over %zu TXT records; it must be one "
			   "record of %zu strings. Delete them and add one TXT record whose value is the "
			   "quoted strings \"...\" \"...\" (or the one-string value, where the panel "
			   "splits it itself)", via, n, n);
		d->v.diag = DIAG_SPLIT_RECORDS;
	} else {
		set_status(d, DNS_MULTIPLE, "%s%zu TXT records at this name, none matching the key: "
			   "keep exactly one", via, n);
	}
}

/*
 * Judge the answer to "qname TXT". Returns 1 when the CNAME chain leaves
 * this answer and *next (size 256) is the name to ask next; 0 when done.
 */
static int judge_txt(const struct dns_state *s, struct dns_srv *d, const ldns_pkt *r,
		     const char *qname, int *depth, char *next, bool recursive)
{
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(r);
	char via[300] = "";
	if (!dns_name_eq(qname, s->fqdn))
		snprintf(via, sizeof via, "via CNAME %s%s: ", qname,
			 recursive ? " (outside the zone: asked through the resolver)" : "");
	if (rcode == LDNS_RCODE_REFUSED) {
		set_status(d, DNS_ERROR, "%sREFUSED: this server does not serve the zone (or will "
			   "not answer us)", via);
		return 0;
	}
	if (rcode == LDNS_RCODE_SERVFAIL) {
		set_status(d, DNS_ERROR, "%sSERVFAIL: the server cannot serve the zone (broken zone "
			   "or DNSSEC)", via);
		return 0;
	}
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		char *rs = ldns_pkt_rcode2str(rcode);
		set_status(d, DNS_ERROR, "%sthe server answered %s", via, rs != NULL ? rs : "an error");
		free(rs);
		return 0;
	}
	const ldns_rr_list *an = ldns_pkt_answer(r);
	if (!ldns_pkt_aa(r) && !recursive) {
		bool referral = false;
		const ldns_rr_list *au = ldns_pkt_authority(r);
		for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++)
			if (ldns_rr_get_type(ldns_rr_list_rr(au, i)) == LDNS_RR_TYPE_NS)
				referral = true;
		if (referral && ldns_rr_list_rr_count(an) == 0)
			set_status(d, DNS_ERROR, "%snot authoritative: the server refers to other "
				   "servers (the zone is delegated elsewhere)", via);
		else
			set_status(d, DNS_ERROR, "%snot authoritative (no AA flag): the server does "
				   "not serve this zone itself", via);
		return 0;
	}

	/* Follow the CNAME chain as far as this answer goes. */
	char cur[256];
	snprintf(cur, sizeof cur, "%s", qname);
	const ldns_rr *txts[64];
	size_t ntxt = 0;
	for (;;) {
		const ldns_rr *cname = NULL;
		char owner[256];
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			dns_dname_text(ldns_rr_owner(rr), owner, sizeof owner);
			if (!dns_name_eq(owner, cur))
				continue;
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT && ntxt < 64)
				txts[ntxt++] = rr;
			else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1)
				cname = rr;
		}
		if (ntxt > 0 || cname == NULL)
			break;
		if (++*depth > DNS_CNAME_DEPTH) {
			set_status(d, DNS_ERROR, "more than %d CNAMEs in a row (a loop?)", DNS_CNAME_DEPTH);
			return 0;
		}
		dns_dname_text(ldns_rr_rdf(cname, 0), cur, sizeof cur);
	}
	if (!dns_name_eq(cur, s->fqdn))
		snprintf(via, sizeof via, "via CNAME %s%s: ", cur,
			 recursive ? " (outside the zone: asked through the resolver)" : "");

	if (ntxt == 0) {
		soa_from_section(d, ldns_pkt_authority(r));
		bool negative_here = rcode == LDNS_RCODE_NXDOMAIN;
		for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_authority(r)); i++)
			if (ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r), i)) == LDNS_RR_TYPE_SOA)
				negative_here = true;
		if (!dns_name_eq(cur, qname) && !negative_here) {
			/* the chain goes on outside this answer: ask for the target */
			snprintf(next, 256, "%s", cur);
			return 1;
		}
		if (!dns_name_eq(cur, s->fqdn)) {
			set_status(d, DNS_ABSENT, "the name is a CNAME to %s, which %s: point the CNAME "
				   "at the name that holds the record, or replace the CNAME with the TXT "
				   "record itself", cur, rcode == LDNS_RCODE_NXDOMAIN ? "does not exist"
				   : "has no TXT record");
			d->v.diag = DIAG_CNAME_NOWHERE;
		} else if (rcode == LDNS_RCODE_NXDOMAIN) {
			set_status(d, DNS_ABSENT, "no such name");
		} else {
			set_status(d, DNS_ABSENT, "the name exists but has no TXT record");
		}
		free(d->txt);
		d->txt = NULL;
		return 0;
	}
	free(d->txt);
	d->txt = NULL;
	if (ntxt > 1) {
		judge_several(s, d, txts, ntxt, via);
		return 0;
	}
	size_t len;
	d->txt = txt_join(txts[0], &len);
	if (d->txt == NULL) {
		set_status(d, DNS_ERROR, "out of memory");
		return 0;
	}
	d->txt_len = len;
	judge_record(s, d, d->txt, len, via);
	return 0;
}

/* An answer to a SOA query: the zone (when still unknown), then serial and
 * negative TTL from the zone's SOA in the answer or authority section. */
static void take_soa_reply(struct dns_state *s, struct dns_srv *d, const struct dns_xfer *x,
			   bool want_zone, bool *zone_usable)
{
	if (x->result != XFER_OK || !ldns_pkt_aa(x->reply))
		return;
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(x->reply);
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN)
		return;
	if (want_zone && s->zone[0] == '\0') {
		*zone_usable = true;
		zone_from_reply(x->reply, s->fqdn, s->zone, sizeof s->zone);
	}
	if (s->zone[0] == '\0')
		return;
	d->need_soa = false;
	const ldns_rr_list *secs[2] = { ldns_pkt_answer(x->reply), ldns_pkt_authority(x->reply) };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ldns_rr_list_rr_count(secs[k]); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(secs[k], i);
			char owner[256];
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
				continue;
			dns_dname_text(ldns_rr_owner(rr), owner, sizeof owner);
			if (dns_name_eq(owner, s->zone)) {
				take_soa(d, rr);
				return;
			}
		}
}

/* The SOA of the zone from every server that has not given it yet (after
 * the zone was found late, behind a CNAME). */
static void soa_pass(struct dns_state *s)
{
	struct dns_xfer *x = calloc(s->n, sizeof *x);
	size_t *who = calloc(s->n, sizeof *who);
	size_t nq = 0;
	bool usable = false;
	if (x == NULL || who == NULL || s->zone[0] == '\0') {
		free(x);
		free(who);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->srv[i].v.have_serial || s->srv[i].v.status == DNS_ERROR)
			continue;
		if (dns_xfer_query(&x[nq], &s->srv[i].addr, s->zone, LDNS_RR_TYPE_SOA, false, s->timeout) < 0) {
			dns_xfer_clear(&x[nq]);
			continue;
		}
		s->srv[i].v.queries++;
		who[nq++] = i;
	}
	dns_xfer_run(x, nq, s->cancel_fd, s->stop);
	for (size_t k = 0; k < nq; k++) {
		take_soa_reply(s, &s->srv[who[k]], &x[k], false, &usable);
		dns_xfer_clear(&x[k]);
	}
	free(x);
	free(who);
}

/* ---- one round over every server ---- */

/* Every server matches, leaving out those this host has no route to, and
 * at least one does. */
static bool all_match(const struct dns_state *s)
{
	size_t ok = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->srv[i].v.unreachable)
			continue;
		if (s->srv[i].v.status != DNS_MATCH)
			return false;
		ok++;
	}
	return ok > 0;
}

/* One server's way through a round: the name it is asked next (the CNAME
 * chain may lead elsewhere) and where to ask it. */
struct probe {
	char qname[256];
	int depth;
	bool more;          /* still something to ask */
	bool recursive;     /* the chain left the zone: ask the resolver */
};

/* Which server and question a transfer of a pass belongs to. */
struct slot {
	size_t srv;
	bool soa;
};

/* Queue this pass's queries: TXT for every server still going, and on the
 * first pass the SOA where wanted. Returns how many. */
static size_t queue_pass(struct dns_state *s, struct probe *pr, bool first, bool with_soa,
			 struct dns_xfer *x, struct slot *slot)
{
	size_t nq = 0;
	time_t now = time(NULL);
	for (size_t i = 0; i < s->n; i++) {
		if (!pr[i].more)
			continue;
		struct dns_srv *d = &s->srv[i];
		const struct dns_addr *to = pr[i].recursive ? &s->res[0] : &d->addr;
		if (dns_xfer_query(&x[nq], to, pr[i].qname, LDNS_RR_TYPE_TXT, pr[i].recursive, s->timeout) == 0) {
			slot[nq++] = (struct slot){ .srv = i, .soa = false };
			if (!pr[i].recursive)
				d->v.queries++;
			d->v.last_asked = now;
		} else {
			dns_xfer_clear(&x[nq]);
			pr[i].more = false;
			set_status(d, DNS_ERROR, "cannot build a query for %s", pr[i].qname);
		}
		if (first && (with_soa || d->need_soa)) {
			const char *sq = s->zone[0] == '\0' ? s->fqdn : s->zone;
			if (dns_xfer_query(&x[nq], &d->addr, sq, LDNS_RR_TYPE_SOA, false, s->timeout) == 0) {
				slot[nq++] = (struct slot){ .srv = i, .soa = true };
				d->v.queries++;
			} else {
				dns_xfer_clear(&x[nq]);
			}
		}
	}
	return nq;
}

/* Take one server's answer to its TXT query. */
static void take_txt(struct dns_state *s, struct probe *pr, struct dns_srv *d, const struct dns_xfer *x,
		     bool want_zone)
{
	pr->more = false;
	d->v.unreachable = false;
	if (x->result == XFER_NETERR && s->n_given == 0 && !pr->recursive &&
	    (x->errnum == ENETUNREACH || x->errnum == EADDRNOTAVAIL || x->errnum == EAFNOSUPPORT)) {
		/* Common: an IPv6 address of an NS on a host without IPv6. The
		 * servers' other addresses still tell; this one is not counted. */
		d->v.unreachable = true;
		set_status(d, DNS_ERROR, "this host has no route to %s addresses (%s): not counted",
			   d->addr.ss.ss_family == AF_INET6 ? "IPv6" : "IPv4", strerror(x->errnum));
		return;
	}
	if (x->result != XFER_OK) {
		char why[200];
		dns_xfer_describe(x, why, sizeof why);
		set_status(d, DNS_ERROR, "%s", why);
		return;
	}
	d->v.rtt_ms = (unsigned)(x->rtt * 1000.0 + 0.5);
	d->v.tcp = x->used_tcp;
	enum dns_status was = d->v.status;
	char next[256];
	if (judge_txt(s, d, x->reply, pr->qname, &pr->depth, next, pr->recursive) == 1) {
		if (++pr->depth > DNS_CNAME_DEPTH) {
			set_status(d, DNS_ERROR, "more than %d CNAMEs in a row (a loop?)", DNS_CNAME_DEPTH);
		} else {
			snprintf(pr->qname, sizeof pr->qname, "%s", next);
			pr->more = true;
			/* A target outside the zone is not this server's to answer:
			 * without --nameserver, ask the resolver. */
			if (s->n_given == 0 && s->nres > 0 && s->zone[0] != '\0' && !dns_name_in(next, s->zone))
				pr->recursive = true;
		}
		return;
	}
	bool negative = d->v.status == DNS_ABSENT;
	/* a negative answer names the zone in its authority SOA */
	if (negative && want_zone && s->zone[0] == '\0' && dns_name_eq(pr->qname, s->fqdn))
		zone_from_reply(x->reply, s->fqdn, s->zone, sizeof s->zone);
	if (!negative && d->v.status != DNS_ERROR &&
	    (d->v.status != was || (s->zone[0] == '\0' && !d->v.have_serial)))
		d->need_soa = true;
}

/*
 * A missing record is often there under a wrong name. Ask each server that
 * said "missing" (directly, not after a CNAME) for the names people end up
 * with: the name doubled by a panel that adds the zone itself, and the
 * selectors guides and panels suggest. A one-shot check asks all of them;
 * a watch keeps its pace of about one query per server per second: the
 * doubled name on its first round and every DIAG_EVERY rounds, the
 * selectors every DIAG_GUESS_EVERY rounds. In between the last finding is
 * kept.
 */
#define DIAG_EVERY 10
#define DIAG_GUESS_EVERY 60
static const char *const diag_selectors[] = { "default", "dkim", "mail", "selector1", "s1" };
#define DIAG_NAMES (1 + sizeof diag_selectors / sizeof diag_selectors[0])

/* The name of question `k` for this record: 0 doubled, then the guesses;
 * "" when it would be the record's own name. */
static void diag_name(const struct dns_state *s, size_t k, char *out, size_t outlen)
{
	const char *dk = strstr(s->fqdn, "._domainkey.");
	out[0] = '\0';
	if (dk == NULL)
		return;
	const char *domain = dk + strlen("._domainkey.");
	if (k == 0) {
		snprintf(out, outlen, "%s.%s", s->fqdn, s->zone[0] ? s->zone : domain);
		return;
	}
	const char *sel = diag_selectors[k - 1];
	if ((size_t)(dk - s->fqdn) == strlen(sel) && strncmp(s->fqdn, sel, strlen(sel)) == 0)
		return;
	snprintf(out, outlen, "%s._domainkey.%s", sel, domain);
}

/* Does this answer hold a DKIM record at qname (our key, when we have one)? */
static bool diag_hit(const struct dns_state *s, const struct dns_xfer *x, const char *qname, bool any)
{
	if (x->result != XFER_OK || ldns_pkt_get_rcode(x->reply) != LDNS_RCODE_NOERROR)
		return false;
	const ldns_rr_list *an = ldns_pkt_answer(x->reply);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		char owner[256];
		dns_dname_text(ldns_rr_owner(rr), owner, sizeof owner);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || !dns_name_eq(owner, qname))
			continue;
		size_t len;
		char *t = txt_join(rr, &len), why[200];
		struct dkim_keyrec rec;
		memset(&rec, 0, sizeof rec);
		bool hit = t != NULL && record_parse(t, len, &rec, why, sizeof why) == 0 && !rec.revoked &&
			   (s->expect_p != NULL ? strcmp(rec.p, s->expect_p) == 0 : any);
		record_keyrec_clear(&rec);
		free(t);
		if (hit)
			return true;
	}
	return false;
}

static void diag_pass(struct dns_state *s, const bool *direct_absent, bool guesses)
{
	size_t n = s->n, nq = 0;
	struct dns_xfer *x = calloc(n * DIAG_NAMES, sizeof *x);
	size_t *who = calloc(n * DIAG_NAMES, sizeof *who), *what = calloc(n * DIAG_NAMES, sizeof *what);
	if (x == NULL || who == NULL || what == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!direct_absent[i])
			continue;
		if (guesses || s->srv[i].absent_diag != DIAG_OTHER_SELECTOR) {
			s->srv[i].absent_diag = DIAG_NONE;
			s->srv[i].absent_detail[0] = '\0';
		}
		for (size_t k = 0; k < DIAG_NAMES; k++) {
			char name[300];
			diag_name(s, k, name, sizeof name);
			/* only our own key counts under another selector */
			if (name[0] == '\0' || (k > 0 && (s->expect_p == NULL || !guesses)) ||
			    strlen(name) > 253)
				continue;
			if (dns_xfer_query(&x[nq], &s->srv[i].addr, name, LDNS_RR_TYPE_TXT, false, s->timeout) < 0) {
				dns_xfer_clear(&x[nq]);
				continue;
			}
			s->srv[i].v.queries++;
			who[nq] = i;
			what[nq++] = k;
		}
	}
	if (dns_xfer_run(x, nq, s->cancel_fd, s->stop) < 0)
		goto out;
	for (size_t q = 0; q < nq; q++) {
		struct dns_srv *d = &s->srv[who[q]];
		char name[300];
		diag_name(s, what[q], name, sizeof name);
		if (d->absent_diag != DIAG_NONE || !diag_hit(s, &x[q], name, what[q] == 0))
			continue;
		const char *dk = strstr(s->fqdn, "._domainkey.");
		if (what[q] == 0) {
			d->absent_diag = DIAG_NAME_DOUBLED;
			snprintf(d->absent_detail, sizeof d->absent_detail, "missing here, but the record "
				 "is at %s: the panel added the domain a second time. In its Name field "
				 "enter only %.*s", name, (int)(dk - s->fqdn + strlen("._domainkey")), s->fqdn);
		} else {
			d->absent_diag = DIAG_OTHER_SELECTOR;
			snprintf(d->absent_detail, sizeof d->absent_detail, "missing here, but this key "
				 "is published under the selector %s (%s): publish it at %.*s too, or "
				 "sign with selector %s", diag_selectors[what[q] - 1], name,
				 (int)(dk - s->fqdn + strlen("._domainkey")), s->fqdn, diag_selectors[what[q] - 1]);
		}
	}
out:
	for (size_t q = 0; q < nq; q++)
		dns_xfer_clear(&x[q]);
	free(x);
	free(who);
	free(what);
}

/* Put the last finding on servers that still say "missing". */
static void diag_apply(struct dns_state *s, const bool *direct_absent)
{
	for (size_t i = 0; i < s->n; i++) {
		struct dns_srv *d = &s->srv[i];
		if (!direct_absent[i] || d->absent_diag == DIAG_NONE) {
			if (!direct_absent[i])
				d->absent_diag = DIAG_NONE;
			continue;
		}
		snprintf(d->v.detail, sizeof d->v.detail, "%s", d->absent_detail);
		for (char *c = d->v.detail; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		d->v.diag = d->absent_diag;
	}
}

int dns_round(struct dns_state *s, bool with_soa)
{
	size_t n = s->n;
	if (n == 0)
		return 0;
	/*
	 * The SOA (serial, negative TTL; with --nameserver also the zone) comes
	 * free in the authority section of a negative answer. It is asked
	 * alongside the TXT (as "<zone> SOA", or "<fqdn> SOA" while the zone is
	 * unknown) when with_soa, and of servers whose answer just turned
	 * positive; so a watch costs one query per server per round.
	 */
	bool want_zone = s->zone[0] == '\0' && s->n_given > 0;
	bool zone_usable = false;
	struct dns_xfer *x = calloc(2 * n, sizeof *x);
	struct slot *slot = calloc(2 * n, sizeof *slot);
	struct probe *pr = calloc(n, sizeof *pr);
	if (x == NULL || slot == NULL || pr == NULL) {
		free(x);
		free(slot);
		free(pr);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(pr[i].qname, sizeof pr[i].qname, "%s", s->fqdn);
		pr[i].more = true;
	}
	int rc = 0;
	bool *direct_absent = calloc(n, sizeof *direct_absent);
	if (direct_absent == NULL) {
		free(x);
		free(slot);
		free(pr);
		return -1;
	}
	/* Pass 0 asks every server; later passes only those whose CNAME chain
	 * went on outside their answer. */
	for (int pass = 0; pass <= DNS_CNAME_DEPTH && rc == 0; pass++) {
		size_t nq = queue_pass(s, pr, pass == 0, with_soa, x, slot);
		if (nq == 0)
			break;
		if (dns_xfer_run(x, nq, s->cancel_fd, s->stop) < 0)
			rc = -2;
		for (size_t k = 0; k < nq && rc == 0; k++) {
			struct dns_srv *d = &s->srv[slot[k].srv];
			if (slot[k].soa)
				take_soa_reply(s, d, &x[k], want_zone, &zone_usable);
			else
				take_txt(s, &pr[slot[k].srv], d, &x[k], want_zone);
		}
		for (size_t k = 0; k < nq; k++)
			dns_xfer_clear(&x[k]);
	}
	for (size_t i = 0; i < n; i++)
		direct_absent[i] = s->srv[i].v.status == DNS_ABSENT && pr[i].depth == 0 &&
				   !pr[i].recursive && s->srv[i].v.diag == DIAG_NONE;
	if (rc == 0 && (s->one_shot || s->rounds % DIAG_EVERY == 0))
		diag_pass(s, direct_absent, s->one_shot || s->rounds % DIAG_GUESS_EVERY == DIAG_EVERY);
	if (rc == 0)
		diag_apply(s, direct_absent);
	free(direct_absent);
	free(x);
	free(slot);
	free(pr);
	/* A CNAME at the name hides the zone's SOA: walk up the labels. */
	if (rc == 0 && want_zone && s->zone[0] == '\0' && zone_usable)
		dns_find_zone(s, s->given, s->n_given, false, NULL);
	s->zone_error = s->n_given > 0 && s->zone[0] == '\0';
	s->rounds++;
	return rc;
}

/*
 * Once every authoritative server matches: what does the system resolver
 * say? (Asking it earlier would make it cache "missing" for the negative
 * TTL.) Only without --nameserver, and at most once per round.
 */
void dns_ask_resolver(struct dns_state *s)
{
	if (s->n_given > 0 || s->nres == 0 || !all_match(s))
		return;
	struct dns_srv *d = &s->resolver;
	free(d->txt);
	memset(d, 0, sizeof *d);
	d->addr = s->res[0];
	snprintf(d->v.name, sizeof d->v.name, "resolver");
	snprintf(d->v.addr, sizeof d->v.addr, "%s", s->res[0].text);
	d->v.port = s->res[0].port;
	char qname[256];
	snprintf(qname, sizeof qname, "%s", s->fqdn);
	int depth = 0;
	for (int hop = 0; hop <= DNS_CNAME_DEPTH; hop++) {
		struct dns_xfer x;
		if (dns_xfer_query(&x, &d->addr, qname, LDNS_RR_TYPE_TXT, true, s->timeout) < 0) {
			dns_xfer_clear(&x);
			return;
		}
		d->v.queries++;
		d->v.last_asked = time(NULL);
		if (dns_xfer_run(&x, 1, s->cancel_fd, s->stop) < 0) {
			dns_xfer_clear(&x);
			return;
		}
		char next[256];
		int more = 0;
		if (x.result != XFER_OK) {
			char why[200];
			dns_xfer_describe(&x, why, sizeof why);
			set_status(d, DNS_ERROR, "%s", why);
		} else {
			more = judge_txt(s, d, x.reply, qname, &depth, next, true);
		}
		dns_xfer_clear(&x);
		if (more != 1)
			break;
		snprintf(qname, sizeof qname, "%s", next);
	}
	free(d->txt);
	d->txt = NULL;
	s->resolver_asked = true;
}

void dns_state_view(const struct dns_state *s, struct dns_view *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->zone, sizeof out->zone, "%s", s->zone);
	snprintf(out->error, sizeof out->error, "%s", s->error);
	if (s->n > 0) {
		out->servers = calloc(s->n, sizeof *out->servers);
		if (out->servers == NULL) {
			snprintf(out->error, sizeof out->error, "out of memory");
			return;
		}
	}
	out->n = s->n;
	out->all_match = all_match(s);
	out->resolver_asked = s->resolver_asked;
	out->resolver = s->resolver.v;
	for (size_t i = 0; i < s->n; i++) {
		out->servers[i] = s->srv[i].v;
		if (s->srv[i].have_neg && (!out->have_neg_ttl || s->srv[i].neg_ttl < out->neg_ttl)) {
			out->have_neg_ttl = true;
			out->neg_ttl = s->srv[i].neg_ttl;
		}
	}
}

int dns_check(const struct dns_watch_cfg *cfg, struct dns_view *out, struct dk_err *err)
{
	struct dns_state s;
	memset(out, 0, sizeof *out);
	if (dns_state_init(&s, cfg, err) < 0) {
		dns_state_free(&s);
		return -1;
	}
	if (dns_discover(&s) < 0) {
		dns_state_view(&s, out);
		dk_fail(err, DK_SYSERR, "%s", s.error);
		dns_state_free(&s);
		return -1;
	}
	s.one_shot = true;
	int rc = dns_round(&s, true);
	if (rc == 0)
		soa_pass(&s);
	if (rc == 0)
		dns_ask_resolver(&s);
	dns_state_view(&s, out);
	dns_state_free(&s);
	if (rc < 0)
		return dk_fail(err, DK_SYSERR, "out of memory");
	return 0;
}

int dns_fetch_txt(const struct dns_watch_cfg *cfg, char **txt, struct dk_err *err)
{
	struct dns_state s;
	*txt = NULL;
	if (dns_state_init(&s, cfg, err) < 0) {
		dns_state_free(&s);
		return -1;
	}
	int rc = -1;
	if (dns_discover(&s) < 0) {
		dk_fail(err, DK_SYSERR, "%s", s.error);
	} else if (dns_round(&s, false) < 0) {
		dk_fail(err, DK_SYSERR, "out of memory");
	} else {
		for (size_t i = 0; i < s.n && rc < 0; i++)
			if (s.srv[i].txt != NULL) {
				*txt = s.srv[i].txt;
				s.srv[i].txt = NULL;
				rc = 0;
			}
		if (rc < 0) {
			const char *why = s.n > 0 ? s.srv[0].v.detail : "no servers";
			char pb[200];
			dk_fail(err, DK_MISMATCH, "no server serves exactly one TXT record at %s (%s)",
				s.fqdn, dk_printable(why, pb, sizeof pb));
		}
	}
	dns_state_free(&s);
	return rc;
}

size_t dns_zone_ns(const struct dns_watch_cfg *cfg, char (*names)[256], size_t max,
		   struct dk_err *err)
{
	struct dns_state s;
	size_t nn = 0;
	if (dns_state_init(&s, cfg, err) < 0) {
		dns_state_free(&s);
		return 0;
	}
	const struct dns_addr *to = s.given;
	size_t nto = s.n_given;
	struct dns_addr res[8];
	if (nto == 0) {
		nto = dns_system_resolvers(res, 8);
		to = res;
	}
	size_t who = 0;
	if (nto == 0 || dns_find_zone(&s, to, nto, s.n_given == 0, &who) < 0) {
		dk_fail(err, DK_SYSERR, "%s", s.error[0] ? s.error : "no server to ask");
		dns_state_free(&s);
		return 0;
	}
	struct dns_xfer x;
	if (dns_xfer_query(&x, &to[who], s.zone, LDNS_RR_TYPE_NS, s.n_given == 0, s.timeout) == 0 &&
	    dns_xfer_run(&x, 1, -1, NULL) == 0 && x.result == XFER_OK) {
		const ldns_rr_list *an = ldns_pkt_answer(x.reply);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an) && nn < max; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) == 1)
				dns_dname_text(ldns_rr_rdf(rr, 0), names[nn++], 256);
		}
	}
	if (nn == 0)
		dk_fail(err, DK_SYSERR, "no NS records for %s", s.zone);
	dns_xfer_clear(&x);
	dns_state_free(&s);
	return nn;
}
