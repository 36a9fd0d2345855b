/* validate.c: domain names and selectors as DNS host names (RFC 1035,
 * RFC 1123 LDH rule; RFC 6376 3.1 for selectors). */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "common.h"
#include "validate.h"

#define DOMAINKEY_SUFFIX "._domainkey."

__attribute__((format(printf, 3, 4)))
static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Normalise and check a dotted LDH name. min_labels: 2 for domains. */
static int check_name(const char *in, char *out, size_t outlen, size_t min_labels,
		      char *why, size_t whylen)
{
	size_t len = strlen(in);
	char lab[8];
	if (len == 0)
		return why_set(why, whylen, "%sempty", "");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x80)
			return why_set(why, whylen, "%sonly letters a-z, digits, hyphens and dots", "");
		if (isspace(c))
			return why_set(why, whylen, "%scontains a space or other white space", "");
		if (c < 0x20 || c == 0x7f)
			return why_set(why, whylen, "%scontains a control character", "");
	}
	if (len > 1 && in[len - 1] == '.')
		len--;   /* one trailing dot is the absolute form */
	if (len > DK_DOMAIN_MAX)
		return why_set(why, whylen, "%slonger than 253 characters", "");
	if (len + 1 > outlen)
		return why_set(why, whylen, "%stoo long", "");

	size_t labels = 0, lablen = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? in[i] : '.';
		if (c == '.') {
			if (lablen == 0)
				return why_set(why, whylen, "%san empty part between dots (\"..\", or a leading dot)", "");
			if (in[i - 1] == '-')
				return why_set(why, whylen, "%sa part between dots ends with a hyphen", "");
			labels++;
			lablen = 0;
			if (i < len)
				out[i] = '.';
			continue;
		}
		if (lablen == 0 && c == '-')
			return why_set(why, whylen, "%sa part between dots starts with a hyphen", "");
		if (++lablen > DK_LABEL_MAX)
			return why_set(why, whylen, "%sa part between dots is longer than 63 characters", "");
		if (!(isalnum((unsigned char)c) || c == '-')) {
			snprintf(lab, sizeof lab, c == '/' ? "'/'" : c == '_' ? "'_'" : "'%c'", c);
			return why_set(why, whylen,
				       "the character %s is not allowed: use letters, digits, hyphens and dots", lab);
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	out[len] = '\0';
	if (labels < min_labels)
		return why_set(why, whylen, "%sneeds at least two parts, like example.com", "");
	return 0;
}

static bool has_non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* The first character that UTS #46 would quietly drop or that draws
 * nothing (C1 controls, soft hyphen, zero-width and direction marks, BOM):
 * "exa<U+200B>mple.com" must not silently become example.com. 0: none. */
static unsigned invisible(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		unsigned cp = *p, n = 0;
		if (cp >= 0xf0)
			cp &= 0x07, n = 3;
		else if (cp >= 0xe0)
			cp &= 0x0f, n = 2;
		else if (cp >= 0xc0)
			cp &= 0x1f, n = 1;
		p++;
		for (; n > 0 && (*p & 0xc0) == 0x80; n--, p++)
			cp = (cp << 6) | (*p & 0x3f);
		if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xad || cp == 0x34f || (cp >= 0x200b && cp <= 0x200f) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
			return cp;
	}
	return 0;
}

int validate_domain(const char *in, char *out, size_t outlen, char *why, size_t whylen)
{
	char *alabel = NULL;
	unsigned inv = has_non_ascii(in) ? invisible(in) : 0;
	if (inv != 0)
		return why_set(why, whylen, "contains an invisible or control character (U+%04X)", inv);
	if (has_non_ascii(in)) {
		/* UTS #46 maps (case, width, NFC); IDNA2008 decides what is allowed */
		int rc = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&alabel,
					IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK)
			return why_set(why, whylen, "not a valid international name: %s",
				       rc == IDN2_ENCODING_ERROR ? "the text is not UTF-8" :
				       rc == IDN2_TOO_BIG_DOMAIN ? "too long once encoded (xn--)" :
				       rc == IDN2_TOO_BIG_LABEL ? "a part is too long once encoded (xn--)" :
				       idn2_strerror(rc));
		in = alabel;
	}
	int rc = check_name(in, out, outlen, 2, why, whylen);
	idn2_free(alabel);
	if (rc < 0)
		return -1;
	/* The top-level label of a real domain is never all digits (RFC 3696 2):
	 * this catches an IP address given as the domain. */
	const char *tld = strrchr(out, '.') + 1;
	bool digits = true;
	for (const char *c = tld; *c != '\0'; c++)
		if (!isdigit((unsigned char)*c))
			digits = false;
	if (digits)
		return why_set(why, whylen, "%slooks like an IP address; give the mail domain name", "");
	return 0;
}

int validate_selector(const char *in, char *out, size_t outlen, char *why, size_t whylen)
{
	if (check_name(in, out, outlen, 1, why, whylen) < 0)
		return -1;
	if (strstr(out, "_domainkey") != NULL)
		return why_set(why, whylen, "%sgive the selector only, without ._domainkey", "");
	if (strlen(out) > DK_LABEL_MAX)
		return why_set(why, whylen, "%slonger than 63 characters", "");
	return 0;
}

int validate_record_name(const char *domain, const char *selector, char *why, size_t whylen)
{
	size_t n = strlen(selector) + strlen(DOMAINKEY_SUFFIX) + strlen(domain);
	if (n > DK_DOMAIN_MAX) {
		snprintf(why, whylen, "the record name %s._domainkey.%s would be %zu characters; "
			 "DNS allows 253", selector, domain, n);
		return -1;
	}
	/* The key file is named <domain>-<selector>-private.pem: one path component. */
	n = strlen(domain) + 1 + strlen(selector) + strlen("-private.pem");
	if (n > 255) {
		snprintf(why, whylen, "domain and selector together are too long for a key file name "
			 "(%zu of 255 characters)", n);
		return -1;
	}
	return 0;
}

int validate_domain_unicode(const char *domain, char *out, size_t outlen)
{
	char *u = NULL;
	snprintf(out, outlen, "%s", domain);
	if (strstr(domain, "xn--") == NULL ||
	    idn2_to_unicode_8z8z(domain, &u, 0) != IDN2_OK || u == NULL)
		return 0;
	int differs = strcmp(u, domain) != 0;
	snprintf(out, outlen, "%s", u);
	idn2_free(u);
	return differs;
}
