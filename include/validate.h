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
 * labels, total at most 253, room left for "<selector>._domainkey.".
 * An international name (UTF-8) becomes its A-label form with libidn2
 * (IDNA2008, UTS #46 mapping, non-transitional): "müller.de" gives
 * "xn--mller-kva.de"; one that IDNA2008 forbids is refused with the reason.
 * Files, records and DNS use the A-label form. */
int validate_domain(const char *in, char *out, size_t outlen, char *why, size_t whylen);

/* The Unicode form of an A-label domain ("xn--mller-kva.de" -> "müller.de"),
 * for showing both. Returns 1 when it differs from the input (an
 * international name), 0 when the name is plain ASCII (out = the name). */
int validate_domain_unicode(const char *domain, char *out, size_t outlen);

/* One or more LDH labels (selectors may contain dots, RFC 6376 3.1). */
int validate_selector(const char *in, char *out, size_t outlen, char *why, size_t whylen);

/* Does "<selector>._domainkey.<domain>" fit in 253 bytes? 0 or -1 + why. */
int validate_record_name(const char *domain, const char *selector, char *why, size_t whylen);

#endif
