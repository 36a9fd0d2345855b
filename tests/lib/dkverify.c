/* dkverify: src/verify.c's verdict on one message, for the cross-test with
 * dkimpy (tests/lib/dkim_verify.py --keys prints the same lines).
 *
 * Usage: dkverify MESSAGE KEYS
 * KEYS: lines "selector._domainkey.domain RECORD" (the record may contain
 * spaces; names compared without case). Prints one line per signature,
 * "pass d=D s=S a=A" or "fail d=D s=S a=A (why)", or "no DKIM-Signature";
 * exits 0 only when there is a signature and every one passes, 1 when not,
 * 2 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verify.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b != NULL && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, 2 * cap + 1);
			if (nb == NULL) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b != NULL)
		b[n] = '\0';
	*len = n;
	return b;
}

static int from_file(void *ctx, const char *domain, const char *selector, char **txt, char *why,
		     size_t whylen)
{
	const char *keys = ctx;
	char name[400];
	snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
	size_t nl = strlen(name);
	for (const char *p = keys; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncasecmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '\t'))
			continue;
		const char *v = p + nl + 1, *e = strchr(v, '\n');
		*txt = strndup(v, e ? (size_t)(e - v) : strlen(v));
		return *txt != NULL ? 0 : -1;
	}
	snprintf(why, whylen, "no key record for %s", name);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dkverify MESSAGE KEYS\n");
		return 2;
	}
	size_t mlen, klen;
	char *msg = slurp(argv[1], &mlen), *keys = slurp(argv[2], &klen);
	if (msg == NULL || keys == NULL) {
		fprintf(stderr, "dkverify: cannot read %s\n", msg == NULL ? argv[1] : argv[2]);
		return 2;
	}
	struct verify_result r;
	struct dk_err err = { 0 };
	if (verify_message(msg, mlen, from_file, keys, &r, &err) < 0) {
		fprintf(stderr, "dkverify: %s\n", err.msg);
		return 2;
	}
	bool ok = r.n > 0;
	if (r.n == 0)
		printf("no DKIM-Signature\n");
	for (size_t i = 0; i < r.n; i++) {
		const struct verify_sig *s = &r.sigs[i];
		printf("%s d=%s s=%s a=%s", s->pass ? "pass" : "fail", s->domain, s->selector, s->algorithm);
		if (!s->pass)
			printf(" (%s)", s->why);
		printf("\n");
		ok = ok && s->pass;
	}
	free(msg);
	free(keys);
	return ok ? 0 : 1;
}
