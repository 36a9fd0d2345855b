/* proof.c: step 8. Sign a fixed test message with the new key and verify
 * the signature against the key record as DNS serves it.
 *
 * Why OpenSSL with our own narrow canonicaliser, not libopendkim: the
 * message is ours and fixed (ASCII, no folded or repeated headers, short
 * lines), so relaxed/relaxed canonicalisation of it is a few dozen lines,
 * while libopendkim would add a library whose DNS lookups we would have to
 * bypass anyway (we verify against the record our ldns code fetched from
 * the authoritative servers). The verifier below re-reads the signature
 * from the message text, so it checks what a receiver would check: the
 * body hash, the header hash and the signature against the published key.
 * Tests cross-check our messages with dkimpy, an independent verifier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "batch.h"
#include "fsutil.h"
#include "keygen.h"
#include "proof.h"
#include "record.h"

#define SIGNED_HEADERS "from:to:subject:date:message-id"

/* relaxed header canonicalisation of one "Name: value" field (RFC 6376
 * 3.4.2); `crlf` adds the line end (not for the DKIM-Signature itself). */
static int canon_header(const char *field, size_t len, bool crlf, char **out, size_t *outlen)
{
	char *o = malloc(len + 3);
	if (o == NULL)
		return -1;
	size_t k = 0, i = 0;
	for (; i < len && field[i] != ':'; i++)
		if (field[i] != ' ' && field[i] != '\t')
			o[k++] = (char)((field[i] >= 'A' && field[i] <= 'Z') ? field[i] + 32 : field[i]);
	o[k++] = ':';
	i++;
	bool ws = false, started = false;
	for (; i < len; i++) {
		char c = field[i];
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
			ws = true;
			continue;
		}
		if (ws && started)
			o[k++] = ' ';
		ws = false;
		started = true;
		o[k++] = c;
	}
	if (crlf) {
		o[k++] = '\r';
		o[k++] = '\n';
	}
	o[k] = '\0';
	*out = o;
	*outlen = k;
	return 0;
}

/* relaxed body canonicalisation (RFC 6376 3.4.4). */
static char *canon_body(const char *body, size_t *outlen)
{
	size_t len = strlen(body);
	char *o = malloc(len + 3);
	if (o == NULL)
		return NULL;
	size_t k = 0, last_content = 0;
	const char *p = body;
	while (*p) {
		const char *nl = strstr(p, "\r\n");
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		size_t start = k;
		bool ws = false;
		for (size_t i = 0; i < n; i++) {
			if (p[i] == ' ' || p[i] == '\t') {
				ws = true;
				continue;
			}
			if (ws)
				o[k++] = ' ';
			ws = false;
			o[k++] = p[i];
		}
		o[k++] = '\r';
		o[k++] = '\n';
		if (k - start > 2)
			last_content = k;
		p += n + (nl ? 2 : 0);
	}
	k = last_content;   /* trailing empty lines removed */
	o[k] = '\0';
	*outlen = k;
	return o;
}

static char *b64(const unsigned char *data, size_t len)
{
	char *o = malloc(4 * ((len + 2) / 3) + 1);
	if (o != NULL)
		EVP_EncodeBlock((unsigned char *)o, data, (int)len);
	return o;
}

/* base64 without whitespace -> bytes; -1 if not base64. */
static int unb64(const char *in, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(in);
	if (n == 0 || n % 4 != 0)
		return -1;
	unsigned char *o = malloc(n);
	if (o == NULL)
		return -1;
	int r = EVP_DecodeBlock(o, (const unsigned char *)in, (int)n);
	if (r < 0) {
		free(o);
		return -1;
	}
	size_t pad = (in[n - 1] == '=') + (n > 1 && in[n - 2] == '=');
	*out = o;
	*outlen = (size_t)r - pad;
	return 0;
}

static int sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int mdlen = 0;
	return EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32 ? 0 : -1;
}

/* The header fields of msg (up to the empty line) named in h=, in order,
 * canonicalised; then the DKIM-Signature with b= emptied, no CRLF. */
static char *signed_data(const char *msg, const char *hlist, const char *sig_field, size_t sig_len,
			 size_t *outlen)
{
	const char *end = strstr(msg, "\r\n\r\n");
	if (end == NULL)
		return NULL;
	size_t cap = (size_t)(end - msg) + sig_len + 16, k = 0;
	char *o = malloc(cap);
	if (o == NULL)
		return NULL;
	char h[256];
	snprintf(h, sizeof h, "%s", hlist);
	for (char *save = NULL, *name = strtok_r(h, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
		while (*name == ' ')
			name++;
		size_t nl = strlen(name);
		/* the (only) field of that name: our messages never repeat one */
		for (const char *p = msg; p < end; p = strstr(p, "\r\n") + 2) {
			if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
				continue;
			const char *fe = p;
			do
				fe = strstr(fe, "\r\n") + 2;
			while (fe < end + 2 && (*fe == ' ' || *fe == '\t'));
			char *c;
			size_t cl;
			if (canon_header(p, (size_t)(fe - p - 2), true, &c, &cl) < 0 || k + cl >= cap) {
				free(o);
				return NULL;
			}
			memcpy(o + k, c, cl);
			k += cl;
			free(c);
			break;
		}
	}
	char *c;
	size_t cl;
	if (canon_header(sig_field, sig_len, false, &c, &cl) < 0 || k + cl >= cap) {
		free(o);
		return NULL;
	}
	memcpy(o + k, c, cl);
	k += cl;
	free(c);
	o[k] = '\0';
	*outlen = k;
	return o;
}

static int do_sign(EVP_PKEY *key, bool ed, const char *data, size_t len, unsigned char **sig,
		   size_t *siglen)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL;
	/* RFC 8463: ed25519-sha256 signs the SHA-256 hash of the data. */
	if (ok && ed)
		ok = sha256(data, len, md) == 0 && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1;
	else if (ok)
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1;
	const unsigned char *in = ed ? md : (const unsigned char *)data;
	size_t inlen = ed ? sizeof md : len;
	*sig = NULL;
	ok = ok && EVP_DigestSign(ctx, NULL, siglen, in, inlen) == 1 && (*sig = malloc(*siglen)) != NULL &&
	     EVP_DigestSign(ctx, *sig, siglen, in, inlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(*sig);
		*sig = NULL;
	}
	return ok ? 0 : -1;
}

static int do_verify(EVP_PKEY *key, bool ed, const char *data, size_t len, const unsigned char *sig,
		     size_t siglen)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL;
	if (ok && ed)
		ok = sha256(data, len, md) == 0 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1;
	else if (ok)
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1;
	ok = ok && EVP_DigestVerify(ctx, sig, siglen, ed ? md : (const unsigned char *)data,
				    ed ? sizeof md : len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static const char *fixed_body =
	"This message was signed by dkim-setup to prove that the DKIM key works.\r\n"
	"It is never sent anywhere.\r\n";

int proof_sign_message(const char *pem, size_t pemlen, const char *domain, const char *selector,
		       char **msg, struct dk_err *err)
{
	EVP_PKEY *key = NULL;
	enum dk_alg alg;
	int bits;
	*msg = NULL;
	if (keygen_load_private(pem, pemlen, &key, err) < 0 || keygen_describe(key, &alg, &bits, err) < 0) {
		EVP_PKEY_free(key);
		return -1;
	}
	bool ed = alg == DK_ALG_ED25519;
	char headers[1024];
	snprintf(headers, sizeof headers,
		 "From: dkim-setup <postmaster@%s>\r\n"
		 "To: postmaster@%s\r\n"
		 "Subject: dkim-setup proof for selector %s\r\n"
		 "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
		 "Message-ID: <proof.%s@%s>\r\n",
		 domain, domain, selector, selector, domain);
	size_t blen;
	char *cbody = canon_body(fixed_body, &blen);
	unsigned char bh[32];
	char *bh64 = NULL, *sigfield = NULL, *data = NULL, *b = NULL;
	unsigned char *sig = NULL;
	size_t siglen, dlen;
	int rc = -1;
	if (cbody == NULL || sha256(cbody, blen, bh) < 0 || (bh64 = b64(bh, sizeof bh)) == NULL)
		goto out;
	size_t fl = strlen(bh64) + 512;
	sigfield = malloc(fl);
	if (sigfield == NULL)
		goto out;
	snprintf(sigfield, fl,
		 "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s;\r\n"
		 "\th=" SIGNED_HEADERS "; bh=%s;\r\n\tb=",
		 ed ? "ed25519-sha256" : "rsa-sha256", domain, selector, bh64);
	/* The header block as signed_data expects it: ending in an empty line. */
	char *tmp = malloc(strlen(headers) + 3);
	if (tmp == NULL)
		goto out;
	sprintf(tmp, "%s\r\n", headers);
	data = signed_data(tmp, SIGNED_HEADERS, sigfield, strlen(sigfield), &dlen);
	free(tmp);
	if (data == NULL || do_sign(key, ed, data, dlen, &sig, &siglen) < 0 || (b = b64(sig, siglen)) == NULL)
		goto out;
	size_t ml = strlen(sigfield) + strlen(b) + strlen(headers) + blen + 16;
	*msg = malloc(ml);
	if (*msg == NULL)
		goto out;
	snprintf(*msg, ml, "%s%s\r\n%s\r\n%s", sigfield, b, headers, fixed_body);
	rc = 0;
out:
	if (rc < 0)
		dk_fail(err, DK_SYSERR, "signing the test message failed");
	EVP_PKEY_free(key);
	free(cbody);
	free(bh64);
	free(sigfield);
	free(data);
	free(sig);
	free(b);
	return rc;
}

/* Value of tag `t` in a DKIM-Signature field, whitespace removed. */
static int sig_tag(const char *field, const char *t, char *out, size_t outlen)
{
	const char *p = strchr(field, ':');
	size_t tl = strlen(t);
	while (p != NULL) {
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncmp(p, t, tl) == 0 && p[tl] == '=') {
			size_t k = 0;
			for (p += tl + 1; *p && *p != ';'; p++)
				if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && k + 1 < outlen)
					out[k++] = *p;
			out[k] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return -1;
}

int proof_verify_message(const char *msg, const char *record, char *detail, size_t dlen,
			 struct dk_err *err)
{
	char why[256];
	struct dkim_keyrec rec;
	if (record_parse(record, strlen(record), &rec, why, sizeof why) < 0) {
		snprintf(detail, dlen, "the published record is not a valid DKIM key record: %s", why);
		record_keyrec_clear(&rec);
		return dk_fail(err, DK_MISMATCH, "%s", detail);
	}
	const char *end = strstr(msg, "\r\n\r\n");
	if (strncasecmp(msg, "DKIM-Signature:", 15) != 0 || end == NULL) {
		record_keyrec_clear(&rec);
		return dk_fail(err, DK_SYSERR, "not a message made by dkim-setup");
	}
	const char *fe = msg;
	do
		fe = strstr(fe, "\r\n") + 2;
	while (*fe == ' ' || *fe == '\t');
	size_t flen = (size_t)(fe - msg - 2);
	char *field = strndup(msg, flen);
	char a[32], h[256], bh[128], b[1024];
	unsigned char *sig = NULL, *bhraw = NULL, *praw = NULL;
	size_t siglen, bhlen, plen, datalen, cblen;
	char *data = NULL, *cbody = NULL, *blanked = NULL;
	EVP_PKEY *pub = NULL;
	int rc = -1;
	if (field == NULL || sig_tag(field, "a", a, sizeof a) < 0 || sig_tag(field, "h", h, sizeof h) < 0 ||
	    sig_tag(field, "bh", bh, sizeof bh) < 0 || sig_tag(field, "b", b, sizeof b) < 0 ||
	    unb64(b, &sig, &siglen) < 0 || unb64(bh, &bhraw, &bhlen) < 0) {
		dk_fail(err, DK_SYSERR, "the test message's signature cannot be read");
		goto out;
	}
	bool ed = strcmp(a, "ed25519-sha256") == 0;
	if (rec.revoked) {
		snprintf(detail, dlen, "the published record has an empty p=: the key is revoked");
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	if (strcasecmp(rec.k, ed ? "ed25519" : "rsa") != 0) {
		snprintf(detail, dlen, "the published record is for a %s key, the local key is %s",
			 dk_printable(rec.k, why, sizeof why), ed ? "ed25519" : "rsa");
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	if (!record_allows_hash(&rec, "sha256")) {
		snprintf(detail, dlen, "the published record allows only h=%s, not sha256",
			 dk_printable(rec.h, why, sizeof why));
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	if (unb64(rec.p, &praw, &plen) < 0) {
		snprintf(detail, dlen, "the published p= is not base64");
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	if (ed) {
		pub = plen == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, praw, plen) : NULL;
	} else {
		const unsigned char *q = praw;
		pub = d2i_PUBKEY(NULL, &q, (long)plen);
	}
	if (pub == NULL) {
		snprintf(detail, dlen, "the published p= is not a usable %s public key", ed ? "Ed25519" : "RSA");
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	/* The body hash first: it says whether the message itself is intact. */
	unsigned char md[32];
	cbody = canon_body(end + 4, &cblen);
	if (cbody == NULL || sha256(cbody, cblen, md) < 0 || bhlen != 32 || memcmp(md, bhraw, 32) != 0) {
		dk_fail(err, DK_SYSERR, "the test message's body hash does not match (internal error)");
		goto out;
	}
	/* The signature field with b= emptied, as it was signed. */
	const char *bpos = strstr(field, "b=");
	while (bpos != NULL && bpos > field && bpos[-1] != ' ' && bpos[-1] != '\t' && bpos[-1] != ';')
		bpos = strstr(bpos + 2, "b=");
	if (bpos == NULL || (blanked = strndup(field, (size_t)(bpos - field) + 2)) == NULL) {
		dk_fail(err, DK_SYSERR, "the test message's signature cannot be read");
		goto out;
	}
	data = signed_data(fe, h, blanked, strlen(blanked), &datalen);
	if (data == NULL) {
		dk_fail(err, DK_SYSERR, "out of memory");
		goto out;
	}
	if (do_verify(pub, ed, data, datalen, sig, siglen) < 0) {
		snprintf(detail, dlen,
			 "the key published in DNS does NOT verify a signature made with the local key: "
			 "DNS serves a different key (an old or mistyped record?)");
		dk_fail(err, DK_MISMATCH, "%s", detail);
		goto out;
	}
	snprintf(detail, dlen, "a test message signed with the local key verifies against the published "
		 "record (%s)%s", a, rec.testing ? "; note: the record has t=y (testing)" : "");
	rc = 0;
out:
	EVP_PKEY_free(pub);
	record_keyrec_clear(&rec);
	free(field);
	free(sig);
	free(bhraw);
	free(praw);
	free(data);
	free(cbody);
	free(blanked);
	return rc;
}

int proof_verify_record(const struct proof_request *req, const char *record, struct proof_result *res,
			struct dk_err *err)
{
	char *pem = NULL, *msg = NULL;
	size_t len;
	memset(res, 0, sizeof *res);
	if (fs_read_file(req->root, req->priv_path, KEYGEN_FILE_MAX, &pem, &len, err) < 0) {
		snprintf(res->detail, sizeof res->detail, "cannot read the key: %s", err->msg);
		return -1;
	}
	int rc = proof_sign_message(pem, len, req->domain, req->selector, &msg, err);
	keygen_secret_free(pem, len);
	if (rc < 0) {
		snprintf(res->detail, sizeof res->detail, "%s", err->msg);
		return -1;
	}
	res->signed_ok = true;
	rc = proof_verify_message(msg, record, res->detail, sizeof res->detail, err);
	if (rc < 0 && res->detail[0] == '\0')
		snprintf(res->detail, sizeof res->detail, "%s", err->msg);
	res->verified = rc == 0;
	free(msg);
	return rc;
}

int proof_run(const struct proof_request *req, struct proof_result *res, struct dk_err *err)
{
	char fqdn[DK_DOMAIN_MAX + DK_LABEL_MAX + 16], *txt = NULL;
	memset(res, 0, sizeof *res);
	if (record_fqdn(req->domain, req->selector, fqdn, sizeof fqdn) < 0)
		return dk_fail(err, DK_USAGE, "name too long");
	struct dns_watch_cfg cfg = { .fqdn = fqdn, .ns = req->ns, .n_ns = req->n_ns };
	if (dns_fetch_txt(&cfg, &txt, err) < 0) {
		snprintf(res->detail, sizeof res->detail, "could not fetch %s from DNS: %s", fqdn, err->msg);
		return -1;
	}
	int rc = proof_verify_record(req, txt, res, err);
	free(txt);
	return rc;
}

int batch_step_proof(struct batch_ctx *b, struct dk_err *err)
{
	const struct options *o = b->opt;
	struct dk_keyjob *k = b->key;
	/* Batch proves the key only once the DNS step confirmed that every
	 * authoritative server serves the record (--wait, --publish). Before
	 * that it would only fail, and could make a resolver cache the negative
	 * answer; a first run before publishing is not a failure. */
	const char *skip = k->outcome == KEYJOB_DRY_RUN ? "dry run: the key was not saved"
			   : !b->dns_confirmed ? "the record is not confirmed in DNS yet (use --wait or --publish)"
					       : NULL;
	if (skip != NULL) {
		if (k->outcome == KEYJOB_DRY_RUN)
			fprintf(b->out, "\nProof: not run (%s).\n", skip);
		else
			fprintf(b->out, "\nProof: not run yet: the record is not confirmed in DNS. Once it is "
				"published, run this again with --wait SECONDS, or check it with: dkim-setup "
				"check -d %s -s %s\n", k->domain, k->selector);
		if (b->json != NULL) {
			json_object_begin(b->json, "proof");
			json_bool(b->json, "run", false);
			json_string(b->json, "detail", skip);
			json_object_end(b->json);
		}
		return 0;
	}
	/* Through the signer as it runs now (mta_prove); with --mta none or
	 * --root only the key against the record, and said so. */
	struct mta_request req = {
		.root = o->root, .domain = k->domain, .selector = k->selector, .priv_path = k->paths.priv,
		.mta = o->mta[0] ? o->mta : NULL,
	};
	struct mta_proof p;
	int rc = mta_prove(&req, o->ns, o->n_ns, &p, err);
	proof_report(b->out, b->json, &p);
	if (rc < 0) {
		if (b->json == NULL || b->out != stderr)
			fprintf(stderr, "dkim-setup: proof failed: %s\n", p.detail[0] ? p.detail : err->msg);
		int st = err->status ? err->status : DK_SYSERR;
		b->status = st > b->status ? st : b->status;
	}
	mta_proof_clear(&p);
	dk_err_clear(err);
	return 0;
}
