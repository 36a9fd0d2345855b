/*
 * record.h: DKIM key records (RFC 6376 3.6.1, RFC 8463): building them in the
 * forms an admin pastes, and parsing what DNS serves.
 */
#ifndef DKIM_RECORD_H
#define DKIM_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "keygen.h"

#define RECORD_STRING_MAX 255   /* one DNS character-string */

/* "v=DKIM1; k=rsa; p=<p>" (k=ed25519 for Ed25519). malloc'd. */
char *record_value(enum dk_alg alg, const char *p);

/* "<selector>._domainkey.<domain>" into out (no trailing dot). */
int record_fqdn(const char *domain, const char *selector, char *out, size_t outlen);

/* "<selector>._domainkey", the name most web panels want. */
int record_relative(const char *selector, char *out, size_t outlen);

/* Split value into character-strings of at most `max` bytes (1..255).
 * Returns the count; *out is a NULL-terminated malloc'd array of malloc'd
 * strings, released with record_strings_free(). 0 on allocation failure. */
size_t record_split(const char *value, size_t max, char ***out);
void record_strings_free(char **strings);

/* Zone-file form, one resource record, strings of at most 255 bytes:
 *   <fqdn>. 3600 IN TXT ( "v=DKIM1; k=rsa; p=MIIB..."
 *           "...rest" )
 * A single string fits on one line without parentheses. malloc'd. */
char *record_zone(const char *fqdn, const char *value);

/* The value as quoted strings of at most 255 bytes on one line, the form
 * Route 53 and Google Cloud DNS want: "v=DKIM1; k=rsa; p=MIIB..." "...".
 * malloc'd. */
char *record_chunks(const char *value);

/* A DNS host's web panel, from assets/providers.txt (see that file). */
struct record_provider {
	char name[64];
	char ns[256];            /* NS name parts that identify it, blank-separated */
	bool fqdn_name;          /* the Name field takes the whole name */
	char field[64];          /* what the panel calls the Name field */
	bool chunks;             /* the value as quoted strings of <= 255 */
	char ttl[64];
	char note[256];
};

/* Parse the text of providers.txt into *out, an array the caller frees
 * (NULL when there is no host block), and the [*] block into *fallback
 * (general advice when it is absent). Returns the count of hosts: every
 * block is kept, there is no limit but the file's size. Lines that do not
 * parse are skipped. */
size_t record_providers_parse(const char *text, struct record_provider **out,
			      struct record_provider *fallback);
/* The host whose ns parts occur in one of the NS names (at a label start,
 * case-insensitive), or NULL. */
const struct record_provider *record_provider_match(const struct record_provider *p, size_t n,
						    const char (*names)[256], size_t nnames);

/* A parsed key record. Strings point into the record's own storage. */
struct dkim_keyrec {
	bool has_v;          /* v= present (then it was first and "DKIM1") */
	char k[32];          /* key type; "rsa" when absent */
	char h[128];         /* acceptable hashes; "" when absent */
	char s[64];          /* service types; "" when absent */
	char t[64];          /* flags as written; "" when absent */
	bool testing;        /* t= contains y */
	bool strict;         /* t= contains s */
	bool revoked;        /* p= present and empty */
	char *p;             /* p= with all whitespace removed; malloc'd */
};

/*
 * Parse the concatenation of a TXT record's strings. Returns 0, or -1 with a
 * one-line reason in `why`: syntax errors, duplicate tags, v= not first or
 * not DKIM1, missing p=, a p= that is not base64, an unknown k=.
 * Unknown tags are ignored. Release with record_keyrec_clear() either way.
 */
int record_parse(const char *txt, size_t len, struct dkim_keyrec *rec, char *why, size_t whylen);
void record_keyrec_clear(struct dkim_keyrec *rec);

/* Does the h= tag allow `hash` ("sha256")? An empty h= allows every hash
 * (RFC 6376 3.6.1); otherwise it is a colon-separated list. */
bool record_allows_hash(const struct dkim_keyrec *rec, const char *hash);

#endif
