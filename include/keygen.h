/*
 * keygen.h: DKIM keys with the OpenSSL 3 EVP_PKEY API.
 *
 * Private keys leave this module only as PKCS#8 PEM in buffers the caller
 * must release with keygen_secret_free(), which wipes them first.
 */
#ifndef DKIM_KEYGEN_H
#define DKIM_KEYGEN_H

#include <stddef.h>
#include <openssl/evp.h>

#include "common.h"

enum dk_alg {
	DK_ALG_RSA,
	DK_ALG_ED25519,
};

#define DK_RSA_DEFAULT_BITS 2048

/* The largest key file read (a PEM RSA-4096 private key is about 3.3 KB). */
#define KEYGEN_FILE_MAX (64 * 1024)

/* "rsa" / "ed25519", the DKIM k= names. */
const char *keygen_alg_name(enum dk_alg alg);

/* Is `bits` one of 1024, 2048, 3072, 4096? */
int keygen_bits_allowed(int bits);

/* Generate a new key. bits is ignored for Ed25519. *out owned by caller
 * (EVP_PKEY_free). -1 and err (DK_SYSERR) on failure. */
int keygen_generate(enum dk_alg alg, int bits, EVP_PKEY **out, struct dk_err *err);

/* Which algorithm and size a key is. -1 + err (DK_USAGE) for other key types. */
int keygen_describe(EVP_PKEY *key, enum dk_alg *alg, int *bits, struct dk_err *err);

/* PKCS#8 PEM of the private key. *pem is NUL-terminated, *len excludes the
 * NUL; free with keygen_secret_free(*pem, *len). */
int keygen_private_pem(EVP_PKEY *key, char **pem, size_t *len, struct dk_err *err);

/* SubjectPublicKeyInfo PEM. Ordinary malloc'd string (free()). */
int keygen_public_pem(EVP_PKEY *key, char **pem, size_t *len, struct dk_err *err);

/* The p= value: base64 of the SubjectPublicKeyInfo DER for RSA, base64 of
 * the raw 32-byte public key for Ed25519 (RFC 8463). malloc'd, no newlines. */
int keygen_p_value(EVP_PKEY *key, char **p, struct dk_err *err);

/* Parse a private key (any PEM form OpenSSL reads: PKCS#8, PKCS#1), or an
 * Ed25519 key in rspamd's form (keygen_ed25519_raw). */
int keygen_load_private(const char *pem, size_t len, EVP_PKEY **out, struct dk_err *err);

/* An Ed25519 key as rspamd reads it (its PEM loader is RSA only): base64 of
 * the 32-byte seed and the 32-byte public key, one line. A secret: free
 * with keygen_secret_free(*out, *len). */
int keygen_ed25519_raw(EVP_PKEY *key, char **out, size_t *len, struct dk_err *err);

/* Parse a SubjectPublicKeyInfo PEM. */
int keygen_load_public(const char *pem, size_t len, EVP_PKEY **out, struct dk_err *err);

/* Wipe (OPENSSL_cleanse) and free a buffer that held key material. NULL ok. */
void keygen_secret_free(char *buf, size_t len);

/* Do two keys have the same public half? 1 yes, 0 no. */
int keygen_same_public(EVP_PKEY *a, EVP_PKEY *b);

#endif
