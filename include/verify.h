/*
 * verify.h: verify every DKIM-Signature of a message, with Debian's
 * libopendkim (a general verifier: simple and relaxed canonicalisation,
 * repeated headers in h=, l=, rsa-sha256, rsa-sha1, ed25519-sha256).
 *
 * The key records never come from a resolver: libopendkim asks the
 * caller's lookup function for every signature's d= and s= (the proof
 * answers from the record every authoritative server serves, the tests
 * from a fixed table).
 */
#ifndef DKIM_VERIFY_H
#define DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* The key record for selector._domainkey.domain: 0 with *txt malloc'd
 * (the TXT strings joined), 1 when there is none, -1 on an error; `why`
 * (whylen bytes) says what happened when not 0. */
typedef int (*verify_lookup_fn)(void *ctx, const char *domain, const char *selector, char **txt,
				char *why, size_t whylen);

#define VERIFY_MAX_SIGS 8

struct verify_sig {
	char domain[256];
	char selector[64];
	char algorithm[32];            /* "rsa-sha256", "ed25519-sha256", ... */
	bool pass;                     /* signature and body hash verify */
	bool body_ok;                  /* the body hash matches (whatever the signature) */
	bool key_found;                /* the lookup returned a record */
	char why[256];                 /* libopendkim's or the lookup's words when !pass */
};

struct verify_result {
	size_t n;                      /* signatures found (at most VERIFY_MAX_SIGS kept) */
	struct verify_sig sigs[VERIFY_MAX_SIGS];
};

/* Verify msg (len bytes; CRLF or LF line ends). 0 when it could be
 * examined (out->n may be 0: no signature; each sig says pass or not);
 * -1 + err (DK_SYSERR) when the verifier itself failed or the message is
 * not a message. */
int verify_message(const char *msg, size_t len, verify_lookup_fn lookup, void *ctx,
		   struct verify_result *out, struct dk_err *err);

#endif
