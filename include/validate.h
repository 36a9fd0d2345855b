/*
 * validate.h: domain names and selectors as DNS host names.
 *
 * Both functions normalise into `out` (lower case, trailing dot removed) and
 * return 0, or return -1 and write a one-line reason into `why`.
 */
#ifndef DKIM_VALIDATE_H
#define DKIM_VALIDATE_H

#include <stddef.h>

/* LDH labels of 1..63 bytes, no leading or trailing hyphen, at least two
 * labels, total at most 253, room left for "<selector>._domainkey.". */
int validate_domain(const char *in, char *out, size_t outlen, char *why, size_t whylen);

/* One or more LDH labels (selectors may contain dots, RFC 6376 3.1). */
int validate_selector(const char *in, char *out, size_t outlen, char *why, size_t whylen);

/* Does "<selector>._domainkey.<domain>" fit in 253 bytes? 0 or -1 + why. */
int validate_record_name(const char *domain, const char *selector, char *why, size_t whylen);

#endif
