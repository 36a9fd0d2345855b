/* prove.c: step 8, the proof through the running signer (mta_prove in
 * include/mta.h).
 *
 * The signer's prove() op gets a fresh test message through the signer as
 * it runs now; this file verifies what came back with libopendkim
 * (src/verify.c) against the record every authoritative server serves, and
 * names the cause when it does not verify: the signature missing, made
 * with another selector, or with a key that is not the one DNS publishes.
 * Which of the two keys is wrong is told by comparing the published p=
 * with the master key's: equal means the signer's copy is stale; not equal
 * means DNS serves something else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "fsutil.h"
#include "keygen.h"
#include "proof.h"
#include "record.h"
#include "signer.h"
#include "verify.h"

const char *mta_proof_status_id(enum mta_proof_status st)
{
	static const char *const ids[] = { "verified", "key_matches", "failed", "error" };
	return (unsigned)st < sizeof ids / sizeof ids[0] ? ids[st] : "error";
}

const char *mta_proof_cause_id(enum mta_proof_cause c)
{
	static const char *const ids[] = { NULL, "not_running", "not_hooked", "other_selector", "other_key",
					   "key_unreadable", "no_signature", "dns_differs", "no_route", "error" };
	return (unsigned)c < sizeof ids / sizeof ids[0] ? ids[c] : "error";
}

void mta_proof_clear(struct mta_proof *p)
{
	free(p->message);
	memset(p, 0, sizeof *p);
}

/* ---- DNS, asked once per name ---- */

struct lookup_ctx {
	const struct dk_nameserver *ns;
	size_t n_ns;
	struct {
		char d[256], s[64];
		char *txt;                  /* NULL: none, why says */
		int rc;
		struct dk_err err;
		size_t n_servers;
	} c[VERIFY_MAX_SIGS];
	size_t n;
};

static int lookup_fetch(struct lookup_ctx *l, const char *d, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->c[i].d, d) == 0 && strcasecmp(l->c[i].s, s) == 0)
			return (int)i;
	if (l->n == VERIFY_MAX_SIGS)
		return -1;
	size_t i = l->n++;
	snprintf(l->c[i].d, sizeof l->c[i].d, "%s", d);
	snprintf(l->c[i].s, sizeof l->c[i].s, "%s", s);
	char fqdn[DK_DOMAIN_MAX + DK_LABEL_MAX + 16];
	if (record_fqdn(d, s, fqdn, sizeof fqdn) < 0) {
		l->c[i].rc = dk_fail(&l->c[i].err, DK_MISMATCH, "not a valid name: %s._domainkey.%s", s, d);
		return (int)i;
	}
	struct dns_watch_cfg cfg = { .fqdn = fqdn, .ns = l->ns, .n_ns = l->n_ns };
	l->c[i].rc = dns_fetch_txt_all(&cfg, &l->c[i].txt, &l->c[i].n_servers, &l->c[i].err);
	return (int)i;
}

static int lookup_cb(void *ctx, const char *domain, const char *selector, char **txt, char *why, size_t whylen)
{
	struct lookup_ctx *l = ctx;
	int i = lookup_fetch(l, domain, selector);
	if (i < 0) {
		snprintf(why, whylen, "too many signatures");
		return -1;
	}
	if (l->c[i].rc < 0) {
		snprintf(why, whylen, "%s", l->c[i].err.msg);
		return l->c[i].err.status == DK_MISMATCH ? 1 : -1;
	}
	*txt = strdup(l->c[i].txt);
	return *txt != NULL ? 0 : -1;
}

static void lookup_free(struct lookup_ctx *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->c[i].txt);
}

/* ---- the test message ---- */

struct testmsg {
	char id[96], sender[DK_DOMAIN_MAX + 16], rcpt[64];
	char *text;
};

static int testmsg_make(const char *domain, const char *selector, struct testmsg *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(t->id, sizeof t->id, "dkim-setup-proof.%lld.%09ld.%ld", (long long)ts.tv_sec, ts.tv_nsec,
		 (long)getpid());
	snprintf(t->sender, sizeof t->sender, "postmaster@%s", domain);
	snprintf(t->rcpt, sizeof t->rcpt, "dkim-setup-proof@proof.invalid");
	char date[64];
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	size_t len = 1024 + 3 * strlen(domain) + strlen(selector);
	t->text = malloc(len);
	if (t->text == NULL)
		return -1;
	snprintf(t->text, len,
		 "From: dkim-setup <%s>\r\n"
		 "To: <%s>\r\n"
		 "Subject: dkim-setup proof for %s (selector %s)\r\n"
		 "Date: %s\r\n"
		 "Message-ID: <%s@%s>\r\n"
		 "MIME-Version: 1.0\r\n"
		 "Content-Type: text/plain; charset=us-ascii\r\n"
		 "\r\n"
		 "This message was signed by the running DKIM signer of %s and checked by\r\n"
		 "dkim-setup against the published DNS record. It is never delivered.\r\n",
		 t->sender, t->rcpt, domain, selector, date, t->id, domain, domain);
	return 0;
}

/* ---- what the verdicts mean ---- */

/* The master key's p=, malloc'd, or NULL. */
static char *master_p(const struct mta_request *req, const char *priv_path)
{
	char *pem = NULL, *p = NULL;
	size_t len;
	struct dk_err e;
	EVP_PKEY *key = NULL;
	if (priv_path == NULL || fs_read_file(req->root, priv_path, KEYGEN_FILE_MAX, &pem, &len, &e) < 0)
		return NULL;
	if (keygen_load_private(pem, len, &key, &e) == 0)
		keygen_p_value(key, &p, &e);
	EVP_PKEY_free(key);
	keygen_secret_free(pem, len);
	return p;
}

/* Does the record's p= equal the master key's? -1: cannot tell. */
static int record_is_master(const struct mta_request *req, const char *priv_path, const char *record)
{
	char *mp = master_p(req, priv_path), why[128];
	struct dkim_keyrec rec;
	int r = -1;
	if (mp != NULL && record_parse(record, strlen(record), &rec, why, sizeof why) == 0)
		r = strcmp(rec.p, mp) == 0;
	if (mp != NULL)
		record_keyrec_clear(&rec);
	free(mp);
	return r;
}

static void fail(struct mta_proof *out, enum mta_proof_cause cause, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct mta_proof *out, enum mta_proof_cause cause, const char *fix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof out->detail, fmt, ap);
	va_end(ap);
	out->status = cause == MTA_CAUSE_ERROR ? MTA_PROOF_ERROR : MTA_PROOF_FAILED;
	out->cause = cause;
	snprintf(out->fix, sizeof out->fix, "%s", fix != NULL ? fix : "");
}

/* One expected selector against the verdicts: 0 when its signature passed. */
static int judge_selector(const struct mta_request *req, const char *sel, const char *priv_path,
			  const struct verify_result *vr, struct lookup_ctx *l, struct mta_proof *out)
{
	const struct verify_sig *mine = NULL, *other = NULL;
	for (size_t i = 0; i < vr->n; i++) {
		if (strcasecmp(vr->sigs[i].domain, req->domain) != 0)
			continue;
		if (strcasecmp(vr->sigs[i].selector, sel) == 0)
			mine = &vr->sigs[i];
		else if (other == NULL)
			other = &vr->sigs[i];
	}
	char fix[512];
	if (mine == NULL && other != NULL) {
		snprintf(fix, sizeof fix, "dkim-setup --batch -d %s -s %s -m %s (points the signer at selector %s "
			 "again), then restart the signer", req->domain, req->selector, req->mta, sel);
		fail(out, MTA_CAUSE_OTHER_SELECTOR, fix, "%s signs mail from %s with selector %s, not %s: its "
		     "configuration names another key", out->through, req->domain, other->selector, sel);
		return -1;
	}
	if (mine == NULL) {
		snprintf(fix, sizeof fix, "dkim-setup --batch -d %s -s %s -m %s, then restart the signer",
			 req->domain, req->selector, req->mta);
		fail(out, MTA_CAUSE_NO_SIGNATURE, fix, "the test message came back from %s with no DKIM signature "
		     "of %s (selector %s): the signer does not sign mail from this domain", out->through,
		     req->domain, sel);
		return -1;
	}
	if (mine->pass)
		return 0;
	int i = lookup_fetch(l, req->domain, sel);
	if (i < 0 || l->c[i].rc < 0) {
		const struct dk_err *e = i >= 0 ? &l->c[i].err : NULL;
		snprintf(fix, sizeof fix, "dkim-setup record -d %s -s %s (the record to publish), then: "
			 "dkim-setup check -d %s -s %s", req->domain, sel, req->domain, sel);
		if (e != NULL && e->status == DK_SYSERR)
			fail(out, MTA_CAUSE_ERROR, NULL, "%s signed the test message, but DNS could not be asked: %s",
			     out->through, e->msg);
		else
			fail(out, MTA_CAUSE_DNS_DIFFERS, fix, "%s signed the test message, but DNS does not serve the "
			     "key: %s", out->through, e != NULL ? e->msg : "no record");
		return -1;
	}
	int same = record_is_master(req, priv_path, l->c[i].txt);
	if (same == 0) {
		snprintf(fix, sizeof fix, "publish the record printed by: dkim-setup record -d %s -s %s; then "
			 "run: dkim-setup check -d %s -s %s --prove", req->domain, sel, req->domain, sel);
		fail(out, MTA_CAUSE_DNS_DIFFERS, fix, "%s signed with selector %s, but DNS publishes another key "
		     "than %s at %s._domainkey.%s (changed or stale record): receivers cannot verify the "
		     "signature", out->through, sel, priv_path, sel, req->domain);
		return -1;
	}
	snprintf(fix, sizeof fix, "dkim-setup --batch -d %s -s %s -m %s (copies the key from %s again), then "
		 "restart the signer", req->domain, req->selector, req->mta, priv_path ? priv_path : "the master");
	fail(out, MTA_CAUSE_OTHER_KEY, fix, "%s signs with selector %s but with another key than the one "
	     "published (%s): its copy of the key is not %s (a stale copy?)", out->through, sel, mine->why,
	     priv_path ? priv_path : "the master key");
	return -1;
}

static void keep_sigs(const struct verify_result *vr, struct mta_proof *out)
{
	out->n_sigs = 0;
	for (size_t i = 0; i < vr->n && out->n_sigs < MTA_PROOF_SIGS; i++) {
		struct mta_proof_sig *s = &out->sigs[out->n_sigs++];
		snprintf(s->domain, sizeof s->domain, "%s", vr->sigs[i].domain);
		snprintf(s->selector, sizeof s->selector, "%s", vr->sigs[i].selector);
		snprintf(s->algorithm, sizeof s->algorithm, "%s", vr->sigs[i].algorithm);
		s->verified = vr->sigs[i].pass;
		snprintf(s->detail, sizeof s->detail, "%s", vr->sigs[i].why);
	}
}

/* No signer to go through: the master key against the record. */
static int prove_key_only(const struct mta_request *req, const struct dk_nameserver *ns, size_t n_ns,
			  const char *why, struct mta_proof *out, struct dk_err *err)
{
	struct proof_request pr = { .root = req->root, .domain = req->domain, .selector = req->selector,
				    .priv_path = req->priv_path, .ns = ns, .n_ns = n_ns };
	struct proof_result res;
	if (proof_run(&pr, &res, err) == 0) {
		char both[sizeof res.detail];
		snprintf(both, sizeof both, "%s", res.detail);
		/* the Ed25519 key of a dual-signed domain too */
		if (req->ed_selector != NULL && req->ed_priv_path != NULL) {
			pr.selector = req->ed_selector;
			pr.priv_path = req->ed_priv_path;
			if (proof_run(&pr, &res, err) < 0) {
				fail(out, err->status == DK_MISMATCH ? MTA_CAUSE_DNS_DIFFERS : MTA_CAUSE_ERROR, NULL,
				     "Ed25519 key %s: %s", req->ed_selector, res.detail[0] ? res.detail : err->msg);
				return -1;
			}
			out->status = MTA_PROOF_KEY_MATCHES;
			snprintf(out->detail, sizeof out->detail, "both keys match their published records (RSA: "
				 "%s; Ed25519: %s); this is not a proof that mail is signed: %s", both, res.detail, why);
			return 0;
		}
		out->status = MTA_PROOF_KEY_MATCHES;
		snprintf(out->detail, sizeof out->detail, "the key matches the published record (%s); this is "
			 "not a proof that mail is signed: %s", both, why);
		return 0;
	}
	fail(out, err->status == DK_MISMATCH ? MTA_CAUSE_DNS_DIFFERS : MTA_CAUSE_ERROR, NULL, "%s",
	     res.detail[0] ? res.detail : err->msg);
	return -1;
}

int mta_prove(const struct mta_request *req, const struct dk_nameserver *ns, size_t n_ns,
	      struct mta_proof *out, struct dk_err *err)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof *out);
	struct mta_info info;
	memset(&info, 0, sizeof info);
	if (mta_detect(req->root, req->mta, &info, err) < 0)
		return -1;
	int rc;
	if (info.signer == NULL || info.signer->prove == NULL || req->root[0] != '\0') {
		const char *why = info.signer == NULL ? "no signer is configured (--mta none)"
				  : req->root[0] != '\0' ? "this is a sandbox (--root): no signer runs here"
							 : "this signer cannot be proved";
		rc = prove_key_only(req, ns, n_ns, why, out, err);
		goto done;
	}
	snprintf(out->through, sizeof out->through, "%s",
		 strcmp(info.name, "postfix") == 0 ? "OpenDKIM" : strcmp(info.name, "rspamd") == 0 ? "rspamd" : "Exim");
	struct mta_request r2 = *req;
	r2.mta = info.name;
	struct testmsg t;
	if (testmsg_make(req->domain, req->selector, &t) < 0) {
		rc = dk_fail(err, DK_SYSERR, "out of memory");
		goto done;
	}
	struct signer_testmsg m = { .sender = t.sender, .rcpt = t.rcpt, .text = t.text, .id = t.id };
	rc = info.signer->prove(&r2, &m, out, err);
	free(t.text);
	if (rc < 0 && out->cause == MTA_CAUSE_NO_ROUTE) {
		/* said plainly, and what was checked instead */
		char why[sizeof out->detail];
		snprintf(why, sizeof why, "%s", out->detail);
		rc = prove_key_only(req, ns, n_ns, why, out, err);
		if (rc == 0)
			out->cause = MTA_CAUSE_NO_ROUTE;
		goto done;
	}
	if (rc < 0) {
		if (out->cause == MTA_CAUSE_NONE)
			fail(out, MTA_CAUSE_ERROR, NULL, "%s", err->msg);
		else
			out->status = out->cause == MTA_CAUSE_ERROR ? MTA_PROOF_ERROR : MTA_PROOF_FAILED;
		goto done;
	}
	struct lookup_ctx l = { .ns = ns, .n_ns = n_ns };
	struct verify_result vr;
	rc = verify_message(out->message, strlen(out->message), lookup_cb, &l, &vr, err);
	if (rc == 0) {
		keep_sigs(&vr, out);
		rc = judge_selector(&r2, req->selector, req->priv_path, &vr, &l, out);
		if (rc == 0 && req->ed_selector != NULL)
			rc = judge_selector(&r2, req->ed_selector, req->ed_priv_path, &vr, &l, out);
	} else {
		fail(out, MTA_CAUSE_ERROR, NULL, "%s", err->msg);
	}
	if (rc == 0) {
		int i = lookup_fetch(&l, req->domain, req->selector);
		char note[sizeof out->detail];   /* what the op adds (prove_exim: the smarthost) */
		snprintf(note, sizeof note, "%s", out->detail);
		out->status = MTA_PROOF_VERIFIED;
		snprintf(out->detail, sizeof out->detail, "Verified through %s: a test message from %s went "
			 "through the running %s, which signed it with selector %s%s%s; the signature%s verified "
			 "against the record served by %zu authoritative server%s%s%s", out->through, t.sender,
			 out->through, req->selector, req->ed_selector ? " and " : "",
			 req->ed_selector ? req->ed_selector : "", req->ed_selector ? "s" : "",
			 i >= 0 ? l.c[i].n_servers : 0, i >= 0 && l.c[i].n_servers == 1 ? "" : "s",
			 note[0] ? "; " : "", note);
	}
	lookup_free(&l);
done:
	if (rc < 0 && out->status != MTA_PROOF_ERROR && out->status != MTA_PROOF_FAILED)
		fail(out, MTA_CAUSE_ERROR, NULL, "%s", err->msg);
	if (rc < 0)
		dk_fail(err, out->status == MTA_PROOF_ERROR ? DK_SYSERR : DK_MISMATCH, "%s", out->detail);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}
