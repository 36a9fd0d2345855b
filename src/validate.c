/* validate.c: domain names and selectors as DNS host names (RFC 1035,
 * RFC 1123 LDH rule; RFC 6376 3.1 for selectors). */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
			return why_set(why, whylen, "%snon-ASCII characters: write an internationalised "
				       "name in its xn-- (punycode) form, e.g. with idn2", "");
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
				return why_set(why, whylen, "%san empty label (\"..\", or a leading dot)", "");
			if (in[i - 1] == '-')
				return why_set(why, whylen, "%sa label ends with a hyphen", "");
			labels++;
			lablen = 0;
			if (i < len)
				out[i] = '.';
			continue;
		}
		if (lablen == 0 && c == '-')
			return why_set(why, whylen, "%sa label starts with a hyphen", "");
		if (++lablen > DK_LABEL_MAX)
			return why_set(why, whylen, "%sa label is longer than 63 characters", "");
		if (!(isalnum((unsigned char)c) || c == '-')) {
			snprintf(lab, sizeof lab, c == '/' ? "'/'" : c == '_' ? "'_'" : "'%c'", c);
			return why_set(why, whylen,
				       "the character %s is not allowed: use letters, digits, hyphens and dots", lab);
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	out[len] = '\0';
	if (labels < min_labels)
		return why_set(why, whylen, "%sneeds at least two labels, like example.com", "");
	return 0;
}

int validate_domain(const char *in, char *out, size_t outlen, char *why, size_t whylen)
{
	if (check_name(in, out, outlen, 2, why, whylen) < 0)
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
