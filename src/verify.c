/* verify.c: DKIM verification through libopendkim (include/verify.h).
 *
 * Why libopendkim: it is the verifier behind OpenDKIM, packaged and kept by
 * Debian, and does everything a receiver does (both canonicalisations,
 * repeated and missing headers in h=, l=, RSA and Ed25519). Its DNS is
 * bypassed through dkim_set_key_lookup(): the callback hands it the record
 * our own ldns code fetched, so no resolver is ever asked. The tests
 * cross-check its verdicts with dkimpy's on a corpus (tests/e2e/verify_corpus.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dkim.h>

#include "verify.h"

struct verify_ctx {
	verify_lookup_fn lookup;
	void *ctx;
	/* what the lookup said for each signature, by d= and s= */
	struct {
		char d[256], s[64], why[256];
		bool found;
	} seen[VERIFY_MAX_SIGS];
	size_t n_seen;
};

static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct verify_ctx *v = dkim_get_user_context(dkim);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *s = (const char *)dkim_sig_getselector(sig);
	if (v == NULL || d == NULL || s == NULL)
		return DKIM_CBSTAT_ERROR;
	char why[256] = "", *txt = NULL;
	int rc = v->lookup(v->ctx, d, s, &txt, why, sizeof why);
	if (v->n_seen < VERIFY_MAX_SIGS) {
		size_t i = v->n_seen++;
		snprintf(v->seen[i].d, sizeof v->seen[i].d, "%s", d);
		snprintf(v->seen[i].s, sizeof v->seen[i].s, "%s", s);
		snprintf(v->seen[i].why, sizeof v->seen[i].why, "%s", why);
		v->seen[i].found = rc == 0;
	}
	if (rc != 0) {
		free(txt);
		return rc > 0 ? DKIM_CBSTAT_NOTFOUND : DKIM_CBSTAT_ERROR;
	}
	size_t n = strlen(txt);
	if (n >= buflen) {
		free(txt);
		return DKIM_CBSTAT_ERROR;
	}
	memcpy(buf, txt, n + 1);
	free(txt);
	return DKIM_CBSTAT_CONTINUE;
}

/* msg with every bare LF made CRLF (SMTP's line end), malloc'd. */
static char *to_crlf(const char *msg, size_t len, size_t *outlen)
{
	char *o = malloc(2 * len + 1);
	if (o == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = msg[i];
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

static const char *alg_name(DKIM_SIGINFO *sig)
{
	dkim_alg_t alg;
	if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return "?";
	switch (alg) {
	case DKIM_SIGN_RSASHA1:
		return "rsa-sha1";
	case DKIM_SIGN_RSASHA256:
		return "rsa-sha256";
#ifdef DKIM_SIGN_ED25519SHA256
	case DKIM_SIGN_ED25519SHA256:
		return "ed25519-sha256";
#endif
	default:
		return "?";
	}
}

static void sig_result(const struct verify_ctx *v, DKIM_SIGINFO *sig, struct verify_sig *o)
{
	memset(o, 0, sizeof *o);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *s = (const char *)dkim_sig_getselector(sig);
	snprintf(o->domain, sizeof o->domain, "%s", d ? d : "");
	snprintf(o->selector, sizeof o->selector, "%s", s ? s : "");
	snprintf(o->algorithm, sizeof o->algorithm, "%s", alg_name(sig));
	unsigned flags = dkim_sig_getflags(sig);
	o->body_ok = dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH;
	o->pass = (flags & DKIM_SIGFLAG_PASSED) != 0 && o->body_ok && (flags & DKIM_SIGFLAG_IGNORE) == 0;
	o->key_found = (flags & DKIM_SIGFLAG_KEYLOADED) != 0;
	if (o->pass)
		return;
	for (size_t i = 0; i < v->n_seen; i++)
		if (strcmp(v->seen[i].d, o->domain) == 0 && strcmp(v->seen[i].s, o->selector) == 0 &&
		    !v->seen[i].found) {
			snprintf(o->why, sizeof o->why, "%s", v->seen[i].why[0] ? v->seen[i].why : "no key record");
			return;
		}
	int e = dkim_sig_geterror(sig);
	const char *es = e != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(e) : NULL;
	if (es != NULL)
		snprintf(o->why, sizeof o->why, "%s", es);
	else if (!o->body_ok)
		snprintf(o->why, sizeof o->why, "body hash did not verify");
	else
		snprintf(o->why, sizeof o->why, "signature did not verify");
}

int verify_message(const char *msg, size_t len, verify_lookup_fn lookup, void *ctx,
		   struct verify_result *out, struct dk_err *err)
{
	memset(out, 0, sizeof *out);
	struct verify_ctx v = { .lookup = lookup, .ctx = ctx };
	size_t clen;
	char *crlf = to_crlf(msg, len, &clen);
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM *dk = NULL;
	DKIM_STAT st = DKIM_STAT_OK;
	int rc = -1;
	if (crlf == NULL || lib == NULL) {
		dk_fail(err, DK_SYSERR, "out of memory");
		goto out;
	}
	dkim_set_key_lookup(lib, key_lookup);
	dk = dkim_verify(lib, (const unsigned char *)"dkim-setup", NULL, &st);
	if (dk == NULL || dkim_set_user_context(dk, &v) != DKIM_STAT_OK) {
		dk_fail(err, DK_SYSERR, "libopendkim: %s", dkim_getresultstr(st));
		goto out;
	}
	st = dkim_chunk(dk, (u_char *)crlf, clen);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dk, NULL, 0);
	if (st == DKIM_STAT_NOSIG) {
		rc = 0;   /* no signature at all: out->n stays 0 */
		goto out;
	}
	if (st != DKIM_STAT_OK) {
		dk_fail(err, DK_SYSERR, "libopendkim cannot read the message: %s", dkim_getresultstr(st));
		goto out;
	}
	st = dkim_eom(dk, NULL);
	/* BADSIG, NOKEY, CANTVRFY...: the per-signature results say which */
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	DKIM_STAT ls = dkim_getsiglist(dk, &sigs, &nsigs);
	if (ls != DKIM_STAT_OK && st == DKIM_STAT_NOSIG) {
		rc = 0;
		goto out;
	}
	if (ls != DKIM_STAT_OK) {
		dk_fail(err, DK_SYSERR, "libopendkim: %s", dkim_getresultstr(st));
		goto out;
	}
	for (int i = 0; i < nsigs; i++) {
		if (out->n < VERIFY_MAX_SIGS)
			sig_result(&v, sigs[i], &out->sigs[out->n]);
		out->n++;
	}
	if (out->n > VERIFY_MAX_SIGS)
		out->n = VERIFY_MAX_SIGS;
	rc = 0;
out:
	if (dk != NULL)
		dkim_free(dk);
	if (lib != NULL)
		dkim_close(lib);
	free(crlf);
	return rc;
}
