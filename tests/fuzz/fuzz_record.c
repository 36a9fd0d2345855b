/* fuzz_record.c: the DKIM key record parser (what DNS serves, untrusted),
 * and splitting/zone form of arbitrary values. */
#include <stdint.h>

#include "fuzz_check.h"
#include "record.h"

static int b64char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly `size` bytes, no terminator: a read past the end is caught. */
	char *buf = malloc(size > 0 ? size : 1);
	FUZZ_ASSERT(buf != NULL);
	memcpy(buf, data, size);

	struct dkim_keyrec rec;
	char why[128];
	why[0] = '\0';
	int rc = record_parse(buf, size, &rec, why, sizeof why);
	if (rc == 0) {
		FUZZ_ASSERT(rec.p != NULL);
		size_t pl = strlen(rec.p);
		FUZZ_ASSERT(pl % 4 == 0);
		FUZZ_ASSERT(rec.revoked == (pl == 0));
		for (size_t i = 0; i < pl; i++)
			FUZZ_ASSERT(b64char(rec.p[i]));
		FUZZ_ASSERT(strcmp(rec.k, "rsa") == 0 || strcmp(rec.k, "ed25519") == 0);
		/* What we would publish for this key parses back to the same p=. */
		enum dk_alg alg = strcmp(rec.k, "rsa") == 0 ? DK_ALG_RSA : DK_ALG_ED25519;
		char *v = record_value(alg, rec.p);
		FUZZ_ASSERT(v != NULL);
		struct dkim_keyrec again;
		char why2[128];
		FUZZ_ASSERT(record_parse(v, strlen(v), &again, why2, sizeof why2) == 0);
		FUZZ_ASSERT(strcmp(again.p, rec.p) == 0 && strcmp(again.k, rec.k) == 0);
		record_keyrec_clear(&again);
		free(v);
	} else {
		FUZZ_ASSERT(rc == -1);
		/* The reason is shown to the admin: one printable line. */
		FUZZ_ASSERT(why[0] != '\0');
		FUZZ_ASSERT(fuzz_one_printable_line(why, sizeof why));
	}
	record_keyrec_clear(&rec);
	FUZZ_ASSERT(rec.p == NULL);

	/* Splitting into character-strings loses and adds nothing. */
	char *s = strndup(buf, size);
	FUZZ_ASSERT(s != NULL);
	size_t max = size > 0 ? 1 + data[0] % RECORD_STRING_MAX : RECORD_STRING_MAX;
	char **parts;
	size_t n = record_split(s, max, &parts);
	FUZZ_ASSERT(n > 0);
	size_t off = 0, sl = strlen(s);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);
		FUZZ_ASSERT(l <= max && (l > 0 || sl == 0));
		FUZZ_ASSERT(off + l <= sl && memcmp(s + off, parts[i], l) == 0);
		off += l;
	}
	FUZZ_ASSERT(off == sl && parts[n] == NULL);
	record_strings_free(parts);
	char *zone = record_zone("sel._domainkey.example.com", s);
	FUZZ_ASSERT(zone != NULL);
	free(zone);
	free(s);
	free(buf);
	return 0;
}
