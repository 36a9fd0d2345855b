/*
 * dns_publish.c: TSIG keys and RFC 2136 UPDATE.
 *
 * Key files, either form:
 *   hmac-sha256:NAME:SECRET      (knsupdate -y / nsupdate -y; one line)
 *   NAME:SECRET                  (no algorithm: hmac-sha256, as knsupdate
 *                                 assumes; nsupdate would assume hmac-md5,
 *                                 which we refuse anyway)
 *   key "NAME" { algorithm hmac-sha256; secret "SECRET"; };   (BIND,
 *                                 tsig-keygen output; comments allowed)
 * Algorithms: hmac-sha256 and hmac-sha512 (and hmac-sha1). hmac-md5 is
 * refused; hmac-sha224/384 are refused because libldns cannot sign them.
 *
 * The UPDATE deletes every TXT at the name and adds the record, as strings
 * of at most 255 bytes, in one message (atomic on the server).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dns_priv.h"
#include "record.h"

#define TSIG_FILE_MAX 8192
#define PUBLISH_TTL 3600

void dns_tsig_clear(struct dns_tsig *key)
{
	OPENSSL_cleanse(key, sizeof *key);
}

/* Map an algorithm name to the form ldns signs with, or explain the refusal. */
static int tsig_algorithm(const char *in, char *out, size_t outlen, struct dk_err *err)
{
	char a[64];
	size_t n = strlen(in);
	if (n == 0 || n >= sizeof a)
		return dk_fail(err, DK_USAGE, "TSIG key: missing or too long algorithm name");
	for (size_t i = 0; i <= n; i++)
		a[i] = (char)tolower((unsigned char)in[i]);
	if (a[n - 1] == '.')
		a[--n] = '\0';
	if (strncmp(a, "hmac-md5", 8) == 0)
		return dk_fail(err, DK_USAGE, "TSIG key: hmac-md5 is refused: MD5 is broken and RFC 8945 "
			       "deprecates it; make a hmac-sha256 key (tsig-keygen -a hmac-sha256 NAME, "
			       "or keymgr -t NAME hmac-sha256) and allow it on the server");
	if (strcmp(a, "hmac-sha256") == 0 || strcmp(a, "hmac-sha512") == 0 || strcmp(a, "hmac-sha1") == 0) {
		snprintf(out, outlen, "%s.", a);
		return 0;
	}
	if (strcmp(a, "hmac-sha224") == 0 || strcmp(a, "hmac-sha384") == 0)
		return dk_fail(err, DK_USAGE, "TSIG key: %s is not supported by libldns; use a "
			       "hmac-sha256 or hmac-sha512 key", a);
	char pb[80];
	return dk_fail(err, DK_USAGE, "TSIG key: unknown algorithm '%s' (use hmac-sha256 or hmac-sha512)",
		       dk_printable(in, pb, sizeof pb));
}

static int tsig_set(struct dns_tsig *key, const char *alg, const char *name, const char *secret,
		    struct dk_err *err)
{
	char pb[80];
	if (tsig_algorithm(alg, key->algorithm, sizeof key->algorithm, err) < 0)
		return -1;
	if (name[0] == '\0' || strlen(name) >= sizeof key->name)
		return dk_fail(err, DK_USAGE, "TSIG key: the key name is empty or too long");
	ldns_rdf *dn = ldns_dname_new_frm_str(name);
	if (dn == NULL)
		return dk_fail(err, DK_USAGE, "TSIG key: '%s' is not a valid key name",
			       dk_printable(name, pb, sizeof pb));
	ldns_rdf_deep_free(dn);
	snprintf(key->name, sizeof key->name, "%s", name);
	if (secret[0] == '\0' || strlen(secret) >= sizeof key->secret)
		return dk_fail(err, DK_USAGE, "TSIG key: the secret is empty or too long");
	ldns_rdf *b = NULL;
	if (ldns_str2rdf_b64(&b, secret) != LDNS_STATUS_OK || b == NULL || ldns_rdf_size(b) == 0) {
		ldns_rdf_deep_free(b);
		return dk_fail(err, DK_USAGE, "TSIG key: the secret is not base64");
	}
	OPENSSL_cleanse(ldns_rdf_data(b), ldns_rdf_size(b));
	ldns_rdf_deep_free(b);
	snprintf(key->secret, sizeof key->secret, "%s", secret);
	return 0;
}

/* ---- BIND's key "name" { algorithm ...; secret "..."; }; ---- */

struct tok {
	const char *p, *end;
	char text[512];
	bool quoted;
};

/* Next token: a word, a quoted string, or one of { } ;. 0, or -1 at the end. */
static int next_tok(struct tok *t)
{
	for (;;) {
		while (t->p < t->end && isspace((unsigned char)*t->p))
			t->p++;
		if (t->p >= t->end)
			return -1;
		if (*t->p == '#' || (*t->p == '/' && t->p + 1 < t->end && t->p[1] == '/')) {
			while (t->p < t->end && *t->p != '\n')
				t->p++;
			continue;
		}
		if (*t->p == '/' && t->p + 1 < t->end && t->p[1] == '*') {
			const char *e = t->p + 2;
			while (e + 1 < t->end && !(e[0] == '*' && e[1] == '/'))
				e++;
			t->p = e + 2 <= t->end ? e + 2 : t->end;
			continue;
		}
		break;
	}
	size_t n = 0;
	t->quoted = false;
	if (*t->p == '{' || *t->p == '}' || *t->p == ';') {
		t->text[n++] = *t->p++;
	} else if (*t->p == '"') {
		t->quoted = true;
		t->p++;
		while (t->p < t->end && *t->p != '"' && n < sizeof t->text - 1)
			t->text[n++] = *t->p++;
		if (t->p < t->end && *t->p == '"')
			t->p++;
	} else {
		/* memchr, not strchr: a NUL byte in the file is not a delimiter
		 * (strchr finds the terminator, the token stayed empty, and the
		 * caller looped for ever). */
		while (t->p < t->end && !isspace((unsigned char)*t->p) && memchr("{};\"", *t->p, 4) == NULL &&
		       n < sizeof t->text - 1)
			t->text[n++] = *t->p++;
	}
	t->text[n] = '\0';
	return 0;
}

static int parse_bind(const char *buf, size_t len, struct dns_tsig *key, struct dk_err *err)
{
	struct tok t = { .p = buf, .end = buf + len };
	char name[256] = "", alg[64] = "", *secret = NULL;
	int rc = -1;
	secret = calloc(1, 512);
	if (secret == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	if (next_tok(&t) < 0 || strcmp(t.text, "key") != 0 || next_tok(&t) < 0) {
		dk_fail(err, DK_USAGE, "TSIG key: expected 'key \"NAME\" { ... };'");
		goto out;
	}
	snprintf(name, sizeof name, "%s", t.text);
	if (next_tok(&t) < 0 || strcmp(t.text, "{") != 0) {
		dk_fail(err, DK_USAGE, "TSIG key: expected '{' after the key name");
		goto out;
	}
	for (;;) {
		if (next_tok(&t) < 0) {
			dk_fail(err, DK_USAGE, "TSIG key: the key block is not closed with '};'");
			goto out;
		}
		if (strcmp(t.text, "}") == 0)
			break;
		char word[32], shown[64];   /* file text in messages: escaped */
		snprintf(word, sizeof word, "%s", t.text);
		if (next_tok(&t) < 0) {
			dk_fail(err, DK_USAGE, "TSIG key: '%s' without a value",
				dk_printable(word, shown, sizeof shown));
			goto out;
		}
		if (strcmp(word, "algorithm") == 0)
			snprintf(alg, sizeof alg, "%s", t.text);
		else if (strcmp(word, "secret") == 0)
			snprintf(secret, 512, "%s", t.text);
		/* other statements are ignored, up to their ';' */
		while (strcmp(t.text, ";") != 0) {
			if (next_tok(&t) < 0) {
				dk_fail(err, DK_USAGE, "TSIG key: missing ';' after %s",
					dk_printable(word, shown, sizeof shown));
				goto out;
			}
		}
	}
	if (alg[0] == '\0' || secret[0] == '\0') {
		dk_fail(err, DK_USAGE, "TSIG key: the key block needs 'algorithm' and 'secret'");
		goto out;
	}
	rc = tsig_set(key, alg, name, secret, err);
out:
	OPENSSL_cleanse(secret, 512);
	OPENSSL_cleanse(&t, sizeof t);
	free(secret);
	return rc;
}

/* ---- algorithm:name:secret ---- */

static int parse_colon(char *line, struct dns_tsig *key, struct dk_err *err)
{
	char *f[3];
	size_t n = 0;
	char *p = line;
	while (n < 3) {
		f[n++] = p;
		char *c = strchr(p, ':');
		if (c == NULL)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (n == 3 && strchr(f[2], ':') != NULL)
		n = 4;
	if (n == 3)
		return tsig_set(key, f[0], f[1], f[2], err);
	if (n == 2)
		return tsig_set(key, "hmac-sha256", f[0], f[1], err);
	return dk_fail(err, DK_USAGE, "TSIG key: expected 'hmac-sha256:NAME:SECRET' or a BIND "
		       "'key \"NAME\" { algorithm ...; secret \"...\"; };' file");
}

int dns_tsig_load(const char *path, struct dns_tsig *key, struct dk_err *err)
{
	char pb[200];
	memset(key, 0, sizeof *key);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dk_fail_errno(err, DK_USAGE, errno, "TSIG key file %s", dk_printable(path, pb, sizeof pb));
	char *buf = calloc(1, TSIG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	size_t len = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, TSIG_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dk_fail_errno(err, DK_USAGE, errno, "TSIG key file %s", dk_printable(path, pb, sizeof pb));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == TSIG_FILE_MAX) {
			rc = dk_fail(err, DK_USAGE, "TSIG key file %s is too large to be a key",
				     dk_printable(path, pb, sizeof pb));
			break;
		}
	}
	close(fd);
	if (rc == 0) {
		/* skip leading blanks and comment lines to see which form it is */
		char *s = buf;
		for (;;) {
			while (*s != '\0' && isspace((unsigned char)*s))
				s++;
			if (*s == '#') {
				while (*s != '\0' && *s != '\n')
					s++;
				continue;
			}
			break;
		}
		if (strncmp(s, "key", 3) == 0 && (isspace((unsigned char)s[3]) || s[3] == '"')) {
			rc = parse_bind(buf, len, key, err);
		} else {
			char *e = s + strcspn(s, "\r\n");
			*e = '\0';
			while (e > s && isspace((unsigned char)e[-1]))
				*--e = '\0';
			rc = parse_colon(s, key, err);
		}
	}
	OPENSSL_cleanse(buf, TSIG_FILE_MAX + 1);
	free(buf);
	if (rc < 0)
		dns_tsig_clear(key);
	return rc;
}

/* ---- the UPDATE ---- */

static ldns_pkt *build_update(const char *zone, const char *fqdn, const char *value,
			      const struct dns_tsig *key, ldns_rdf **mac)
{
	ldns_rr_list *up = ldns_rr_list_new();
	ldns_rr *del = ldns_rr_new(), *add = ldns_rr_new();
	ldns_pkt *pkt = NULL;
	char **parts = NULL;
	if (up == NULL || del == NULL || add == NULL)
		goto fail;
	/* delete the TXT RRset: class ANY, TTL 0, no rdata (RFC 2136 2.5.2) */
	ldns_rr_set_owner(del, ldns_dname_new_frm_str(fqdn));
	ldns_rr_set_type(del, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(del, LDNS_RR_CLASS_ANY);
	ldns_rr_set_ttl(del, 0);
	ldns_rr_set_owner(add, ldns_dname_new_frm_str(fqdn));
	ldns_rr_set_type(add, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(add, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(add, PUBLISH_TTL);
	if (ldns_rr_owner(del) == NULL || ldns_rr_owner(add) == NULL)
		goto fail;
	size_t n = record_split(value, RECORD_STRING_MAX, &parts);
	if (n == 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		ldns_rdf *s = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_STR, parts[i]);
		if (s == NULL || !ldns_rr_push_rdf(add, s)) {
			ldns_rdf_deep_free(s);
			goto fail;
		}
	}
	record_strings_free(parts);
	parts = NULL;
	if (!ldns_rr_list_push_rr(up, del))
		goto fail;
	del = NULL;
	if (!ldns_rr_list_push_rr(up, add))
		goto fail;
	add = NULL;
	ldns_rdf *z = ldns_dname_new_frm_str(zone);
	if (z == NULL)
		goto fail;
	pkt = ldns_update_pkt_new(z, LDNS_RR_CLASS_IN, NULL, up, NULL);
	ldns_rr_list_deep_free(up);
	up = NULL;
	if (pkt == NULL)
		goto fail;
	ldns_pkt_set_rd(pkt, false);
	ldns_pkt_set_random_id(pkt);
	if (ldns_pkt_tsig_sign(pkt, key->name, key->secret, 300, key->algorithm, NULL) != LDNS_STATUS_OK ||
	    ldns_pkt_tsig(pkt) == NULL)
		goto fail;
	*mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
	if (*mac == NULL)
		goto fail;
	return pkt;
fail:
	record_strings_free(parts);
	ldns_rr_free(del);
	ldns_rr_free(add);
	ldns_rr_list_deep_free(up);
	ldns_pkt_free(pkt);
	return NULL;
}

/* The TSIG error of an answer (RFC 8945 5.3): BADSIG 16, BADKEY 17, BADTIME 18. */
static unsigned tsig_error(const ldns_pkt *r)
{
	const ldns_rr *t = ldns_pkt_tsig(r);
	if (t == NULL || ldns_rr_rd_count(t) < 6)
		return 0;
	return ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
}

/* What the answer to our UPDATE means. 0 accepted, -1 + err. */
static int judge_update(struct dns_xfer *x, const char *zone, const struct dns_tsig *key,
			const ldns_rdf *mac, struct dk_err *err)
{
	const ldns_pkt *r = x->reply;
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(r);
	unsigned te = tsig_error(r);
	const char *srv = x->to.text;
	if (te == 16)
		return dk_fail(err, DK_SYSERR, "%s rejected the update: bad TSIG signature (BADSIG): "
			       "the secret of key '%s' does not match the server's", srv, key->name);
	if (te == 17)
		return dk_fail(err, DK_SYSERR, "%s rejected the update: it has no key named '%s' with "
			       "algorithm %s (BADKEY)", srv, key->name, key->algorithm);
	if (te == 18)
		return dk_fail(err, DK_SYSERR, "%s rejected the update: the clocks differ by more than "
			       "5 minutes (BADTIME); fix the time on this host or the server", srv);
	switch ((int)rc) {
	case LDNS_RCODE_NOERROR:
		break;
	case LDNS_RCODE_REFUSED:
		return dk_fail(err, DK_SYSERR, "%s refused the update (REFUSED): its policy does not "
			       "let key '%s' change zone %s, or it does not serve the zone", srv, key->name, zone);
	case LDNS_RCODE_NOTAUTH:
		return dk_fail(err, DK_SYSERR, "%s rejected the update (NOTAUTH): it is not the primary "
			       "for zone %s, or it does not accept key '%s'", srv, zone, key->name);
	case LDNS_RCODE_NOTZONE:
		return dk_fail(err, DK_SYSERR, "%s rejected the update (NOTZONE): the name is not in "
			       "zone %s", srv, zone);
	case LDNS_RCODE_NOTIMPL:
		return dk_fail(err, DK_SYSERR, "%s does not support dynamic updates (NOTIMP)", srv);
	default: {
		char *rs = ldns_pkt_rcode2str(rc);
		dk_fail(err, DK_SYSERR, "%s rejected the update (%s)", srv, rs != NULL ? rs : "error");
		free(rs);
		return -1;
	}
	}
	if (ldns_pkt_tsig(r) == NULL ||
	    !ldns_pkt_tsig_verify(x->reply, x->reply_wire, x->reply_len, key->name, key->secret, mac))
		return dk_fail(err, DK_SYSERR, "%s answered the update without a valid TSIG signature: "
			       "cannot tell whether it was applied", srv);
	return 0;
}

/* The primary's addresses: SOA MNAME, looked up through the system resolver. */
static size_t primary_addrs(struct dns_state *s, struct dns_addr *out, size_t max, char *why, size_t wl)
{
	struct dns_addr res[8];
	size_t nres = dns_system_resolvers(res, 8), who = 0, n = 0;
	if (nres == 0) {
		snprintf(why, wl, "no resolver in /etc/resolv.conf to find the zone's primary; give "
			 "it with --nameserver");
		return 0;
	}
	if (dns_find_zone(s, res, nres, true, &who) < 0) {
		snprintf(why, wl, "%s", s->error);
		return 0;
	}
	struct dns_xfer x;
	char mname[256] = "";
	if (dns_xfer_query(&x, &res[who], s->zone, LDNS_RR_TYPE_SOA, true, s->timeout) == 0) {
		dns_xfer_run(&x, 1, -1, NULL);
		if (x.result == XFER_OK) {
			const ldns_rr_list *an = ldns_pkt_answer(x.reply);
			for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
				if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) == LDNS_RR_TYPE_SOA)
					dns_dname_text(ldns_rr_rdf(ldns_rr_list_rr(an, i), 0), mname, sizeof mname);
		}
	}
	dns_xfer_clear(&x);
	if (mname[0] == '\0') {
		snprintf(why, wl, "could not read the SOA of %s to find its primary server", s->zone);
		return 0;
	}
	struct dns_xfer ax[2];
	memset(ax, 0, sizeof ax);
	size_t na = 0;
	if (dns_xfer_query(&ax[na], &res[who], mname, LDNS_RR_TYPE_A, true, s->timeout) == 0)
		na++;
	if (dns_xfer_query(&ax[na], &res[who], mname, LDNS_RR_TYPE_AAAA, true, s->timeout) == 0)
		na++;
	dns_xfer_run(ax, na, -1, NULL);
	for (size_t i = 0; i < na; i++) {
		if (ax[i].result != XFER_OK)
			continue;
		const ldns_rr_list *an = ldns_pkt_answer(ax[i].reply);
		for (size_t k = 0; k < ldns_rr_list_rr_count(an) && n < max; k++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, k);
			if ((ldns_rr_get_type(rr) == LDNS_RR_TYPE_A || ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA) &&
			    ldns_rr_rd_count(rr) == 1 && dns_addr_from_rdf(&out[n], ldns_rr_rdf(rr, 0), 53) == 0)
				n++;
		}
	}
	for (size_t i = 0; i < 2; i++)
		dns_xfer_clear(&ax[i]);
	if (n == 0)
		snprintf(why, wl, "the primary %s (SOA MNAME) has no address we could find", mname);
	return n;
}

int dns_publish_ex(const struct dns_watch_cfg *cfg, const char *value, const struct dns_tsig *key,
		   struct dns_publish_info *info, struct dk_err *err)
{
	struct dns_state s;
	struct dns_addr to[DK_MAX_NAMESERVERS];
	size_t nto = 0;
	char why[300] = "";
	int rc = -1;
	if (info != NULL)
		memset(info, 0, sizeof *info);
	if (dns_state_init(&s, cfg, err) < 0) {
		dns_state_free(&s);
		return -1;
	}
	if (s.n_given > 0) {
		for (size_t i = 0; i < s.n_given; i++)
			to[nto++] = s.given[i];
		if (dns_find_zone(&s, to, nto, false, NULL) < 0) {
			dk_fail(err, DK_SYSERR, "%s", s.error);
			goto out;
		}
	} else {
		nto = primary_addrs(&s, to, DK_MAX_NAMESERVERS, why, sizeof why);
		if (nto == 0) {
			dk_fail(err, DK_SYSERR, "cannot publish: %s", why);
			goto out;
		}
	}
	/* Ask the servers in turn; only a server that does not answer at all
	 * makes us try the next one. */
	for (size_t i = 0; i < nto; i++) {
		ldns_rdf *mac = NULL;
		ldns_pkt *pkt = build_update(s.zone, s.fqdn, value, key, &mac);
		if (pkt == NULL) {
			dk_fail(err, DK_SYSERR, "cannot build or sign the update (TSIG algorithm %s)",
				key->algorithm);
			goto out;
		}
		struct dns_xfer x;
		if (dns_xfer_packet(&x, &to[i], pkt, s.timeout) < 0) {
			dns_xfer_clear(&x);
			ldns_rdf_deep_free(mac);
			dk_fail(err, DK_SYSERR, "cannot encode the update");
			goto out;
		}
		dns_xfer_run(&x, 1, -1, NULL);
		if (x.result != XFER_OK) {
			char d[200];
			dns_xfer_describe(&x, d, sizeof d);
			snprintf(why, sizeof why, "%s port %u: %s", to[i].text, (unsigned)to[i].port, d);
			dns_xfer_clear(&x);
			ldns_rdf_deep_free(mac);
			continue;
		}
		int j = judge_update(&x, s.zone, key, mac, err);
		if (j == 0 && info != NULL) {
			info->acked_at = dns_now();
			snprintf(info->server, sizeof info->server, "%s", to[i].text);
			info->port = to[i].port;
			snprintf(info->zone, sizeof info->zone, "%s", s.zone);
		}
		dns_xfer_clear(&x);
		ldns_rdf_deep_free(mac);
		rc = j;
		goto out;
	}
	dk_fail(err, DK_SYSERR, "cannot publish: no server took the update (%s)", why);
out:
	dns_state_free(&s);
	return rc;
}
