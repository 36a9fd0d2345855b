/* fuzz_validate.c: the domain and selector validators, dk_printable, and
 * the whole command line (options_parse), all fed untrusted text. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "fuzz_check.h"
#include "options.h"
#include "validate.h"

/* A normalised name: lower-case LDH labels of 1..63, no hyphen at either
 * end of a label, at least `min_labels` labels. */
static void check_ldh(const char *s, size_t min_labels)
{
	size_t labels = 0, lab = 0, len = strlen(s);
	FUZZ_ASSERT(len > 0 && len <= DK_DOMAIN_MAX);
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			FUZZ_ASSERT(lab > 0 && lab <= DK_LABEL_MAX);
			FUZZ_ASSERT(s[i - 1] != '-' && s[i - lab] != '-');
			labels++;
			lab = 0;
			continue;
		}
		FUZZ_ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
		lab++;
	}
	FUZZ_ASSERT(labels >= min_labels);
}

static void fuzz_names(const char *s)
{
	char out[DK_DOMAIN_MAX + 1], out2[DK_DOMAIN_MAX + 1], why[256];
	if (validate_domain(s, out, sizeof out, why, sizeof why) == 0) {
		check_ldh(out, 2);
		/* Normalising is idempotent. */
		FUZZ_ASSERT(validate_domain(out, out2, sizeof out2, why, sizeof why) == 0);
		FUZZ_ASSERT(strcmp(out, out2) == 0);
	} else {
		FUZZ_ASSERT(why[0] != '\0' && fuzz_one_printable_line(why, sizeof why));
	}
	char sel[DK_LABEL_MAX + 1];
	if (validate_selector(s, sel, sizeof sel, why, sizeof why) == 0) {
		check_ldh(sel, 1);
		FUZZ_ASSERT(strlen(sel) <= DK_LABEL_MAX && strstr(sel, "_domainkey") == NULL);
	} else {
		FUZZ_ASSERT(why[0] != '\0' && fuzz_one_printable_line(why, sizeof why));
	}
}

static void fuzz_printable(const char *s, size_t outlen)
{
	/* Exactly outlen bytes: ASan catches a write past the end. */
	char *out = malloc(outlen);
	FUZZ_ASSERT(out != NULL);
	const char *r = dk_printable(s, out, outlen);
	FUZZ_ASSERT(r == out);
	FUZZ_ASSERT(fuzz_one_printable_line(out, outlen));
	free(out);
}

/* The input as argv: NUL-separated words after "dkim-setup". */
static void fuzz_argv(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *argv[34] = { "dkim-setup" };
	int argc = 1;
	for (size_t i = 0; i < size && argc < 33;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;

	struct options o;
	struct dk_err err;
	dk_err_clear(&err);
	if (options_parse(argc, argv, &o, &err) == 0) {
		if (o.domain[0] != '\0')
			check_ldh(o.domain, 2);
		if (o.selector[0] != '\0')
			check_ldh(o.selector, 1);
		FUZZ_ASSERT(o.n_ns <= DK_MAX_NAMESERVERS);
		for (size_t i = 0; i < o.n_ns; i++)
			FUZZ_ASSERT(o.ns[i].port > 0 && o.ns[i].addr[0] != '\0');
		FUZZ_ASSERT(o.wait_secs >= 0 && o.wait_secs <= 86400);
		if (o.mode != MODE_HELP && o.mode != MODE_VERSION)
			FUZZ_ASSERT(o.alg == DK_ALG_ED25519 ? o.bits == 0 : keygen_bits_allowed(o.bits));
	} else {
		/* Refused: exit status 2 and one printable line (no raw control
		 * bytes from argv reach the terminal). */
		FUZZ_ASSERT(err.status == DK_USAGE);
		FUZZ_ASSERT(err.msg[0] != '\0');
		FUZZ_ASSERT(fuzz_one_printable_line(err.msg, sizeof err.msg));
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* First byte: which part; the rest: the text. */
	uint8_t sel = data[0];
	data++, size--;
	char *s = strndup((const char *)data, size);
	FUZZ_ASSERT(s != NULL);
	switch (sel % 3) {
	case 0: fuzz_names(s); break;
	case 1: fuzz_printable(s, 1 + sel / 3 % 80); break;
	case 2: fuzz_argv(data, size); break;
	}
	free(s);
	return 0;
}
