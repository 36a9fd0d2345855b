/* keygen.c: DKIM keys with the OpenSSL 3 EVP_PKEY API only. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keygen.h"

static int ssl_fail(struct dk_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "unknown error";
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return dk_fail(err, DK_SYSERR, "%s: %s", what, buf);
}

const char *keygen_alg_name(enum dk_alg alg)
{
	return alg == DK_ALG_ED25519 ? "ed25519" : "rsa";
}

int keygen_bits_allowed(int bits)
{
	return bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096;
}

int keygen_generate(enum dk_alg alg, int bits, EVP_PKEY **out, struct dk_err *err)
{
	*out = NULL;
	if (alg == DK_ALG_RSA && !keygen_bits_allowed(bits))
		return dk_fail(err, DK_USAGE, "RSA size %d: use 1024, 2048, 3072 or 4096", bits);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg == DK_ALG_RSA ? "RSA" : "ED25519", NULL);
	if (ctx == NULL)
		return ssl_fail(err, "key generation");
	int ok = EVP_PKEY_keygen_init(ctx) > 0;
	if (ok && alg == DK_ALG_RSA)
		ok = EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) > 0;
	if (ok)
		ok = EVP_PKEY_generate(ctx, out) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return ssl_fail(err, "key generation");
	}
	return 0;
}

int keygen_describe(EVP_PKEY *key, enum dk_alg *alg, int *bits, struct dk_err *err)
{
	if (EVP_PKEY_is_a(key, "RSA")) {
		*alg = DK_ALG_RSA;
		*bits = EVP_PKEY_get_bits(key);
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED25519")) {
		*alg = DK_ALG_ED25519;
		*bits = 0;
		return 0;
	}
	return dk_fail(err, DK_USAGE, "key type %s is neither RSA nor Ed25519",
		       EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
}

/* Copy a memory BIO's contents into a fresh NUL-terminated buffer. The BIO's
 * own buffer is cleansed when it held a secret. */
static int bio_take(BIO *bio, char **out, size_t *len, int secret, struct dk_err *err)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		return dk_fail(err, DK_SYSERR, "PEM encoding produced nothing");
	char *buf = OPENSSL_malloc((size_t)n + 1);
	if (buf == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	memcpy(buf, data, (size_t)n);
	buf[n] = '\0';
	if (secret)
		OPENSSL_cleanse(data, (size_t)n);
	*out = buf;
	if (len != NULL)
		*len = (size_t)n;
	return 0;
}

int keygen_private_pem(EVP_PKEY *key, char **pem, size_t *len, struct dk_err *err)
{
	*pem = NULL;
	/* BIO_s_secmem keeps the PEM in the secure heap when one is set up;
	 * either way we cleanse what we copy out of it. */
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return ssl_fail(err, "PEM encoding");
	int rc;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) <= 0)
		rc = ssl_fail(err, "PEM encoding of the private key");
	else
		rc = bio_take(bio, pem, len, 1, err);
	BIO_free(bio);
	return rc;
}

int keygen_public_pem(EVP_PKEY *key, char **pem, size_t *len, struct dk_err *err)
{
	*pem = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return ssl_fail(err, "PEM encoding");
	int rc;
	if (PEM_write_bio_PUBKEY(bio, key) <= 0)
		rc = ssl_fail(err, "PEM encoding of the public key");
	else
		rc = bio_take(bio, pem, len, 0, err);
	BIO_free(bio);
	if (rc == 0) {
		/* Hand back an ordinary malloc'd string, as the header promises. */
		char *copy = strdup(*pem);
		OPENSSL_free(*pem);
		*pem = copy;
		if (copy == NULL)
			return dk_fail(err, DK_SYSERR, "out of memory");
	}
	return rc;
}

static char *base64(const unsigned char *in, size_t len)
{
	size_t outlen = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(outlen);
	if (out == NULL)
		return NULL;
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

int keygen_p_value(EVP_PKEY *key, char **p, struct dk_err *err)
{
	*p = NULL;
	if (EVP_PKEY_is_a(key, "ED25519")) {
		unsigned char raw[32];
		size_t rawlen = sizeof raw;
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) <= 0 || rawlen != sizeof raw)
			return ssl_fail(err, "Ed25519 public key");
		*p = base64(raw, rawlen);
	} else {
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(key, &der);
		if (n <= 0)
			return ssl_fail(err, "public key encoding");
		*p = base64(der, (size_t)n);
		OPENSSL_free(der);
	}
	if (*p == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	return 0;
}

int keygen_load_private(const char *pem, size_t len, EVP_PKEY **out, struct dk_err *err)
{
	*out = NULL;
	if (len > INT_MAX)
		return dk_fail(err, DK_USAGE, "key file too large");
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return ssl_fail(err, "reading the key");
	/* A NULL password callback with an empty password: never prompt. */
	*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	BIO_free(bio);
	if (*out == NULL) {
		ERR_clear_error();
		/* rspamd's Ed25519 form: base64 of seed || public key */
		unsigned char raw[66];
		size_t n = len;
		while (n > 0 && (pem[n - 1] == '\n' || pem[n - 1] == '\r'))
			n--;
		if (n == 88 && EVP_DecodeBlock(raw, (const unsigned char *)pem, 88) == 66) {
			*out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
			OPENSSL_cleanse(raw, sizeof raw);
			if (*out != NULL)
				return 0;
			ERR_clear_error();
		}
		return dk_fail(err, DK_USAGE, "not a PEM private key (or it is encrypted)");
	}
	return 0;
}

int keygen_ed25519_raw(EVP_PKEY *key, char **out, size_t *len, struct dk_err *err)
{
	unsigned char raw[64];
	size_t sl = 32, pl = 32;
	*out = NULL;
	*len = 0;
	if (EVP_PKEY_get_raw_private_key(key, raw, &sl) <= 0 || sl != 32 ||
	    EVP_PKEY_get_raw_public_key(key, raw + 32, &pl) <= 0 || pl != 32) {
		OPENSSL_cleanse(raw, sizeof raw);
		return ssl_fail(err, "Ed25519 raw key");
	}
	char *b = OPENSSL_malloc(4 * ((sizeof raw + 2) / 3) + 2);
	if (b == NULL) {
		OPENSSL_cleanse(raw, sizeof raw);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	int n = EVP_EncodeBlock((unsigned char *)b, raw, (int)sizeof raw);
	OPENSSL_cleanse(raw, sizeof raw);
	b[n] = '\n';
	b[n + 1] = '\0';
	*out = b;   /* keygen_secret_free: OPENSSL_clear_free */
	*len = (size_t)n + 1;
	return 0;
}

int keygen_load_public(const char *pem, size_t len, EVP_PKEY **out, struct dk_err *err)
{
	*out = NULL;
	if (len > INT_MAX)
		return dk_fail(err, DK_USAGE, "key file too large");
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return ssl_fail(err, "reading the key");
	*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (*out == NULL) {
		ERR_clear_error();
		return dk_fail(err, DK_USAGE, "not a PEM public key");
	}
	return 0;
}

void keygen_secret_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_clear_free(buf, len + 1);
}

int keygen_same_public(EVP_PKEY *a, EVP_PKEY *b)
{
	return EVP_PKEY_eq(a, b) == 1;
}
