/* Golden and parser tests for record.c and keygen.c, with checked-in keys
 * whose expected records were made by the openssl command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keygen.h"
#include "record.h"

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	const char *top = getenv("TOP");
	snprintf(path, sizeof path, "%s/tests/data/%s", top ? top : ".", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	/* Expected-value files end with one newline that is not part of them. */
	if (n > 0 && buf[n - 1] == '\n' && strstr(name, ".pem") == NULL)
		buf[--n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void golden(const char *keyfile, const char *recfile, const char *zonefile, enum dk_alg want)
{
	size_t len;
	char *pem = slurp(keyfile, &len);
	EVP_PKEY *key;
	struct dk_err err;
	assert_int_equal(keygen_load_private(pem, len, &key, &err), 0);
	enum dk_alg alg;
	int bits;
	assert_int_equal(keygen_describe(key, &alg, &bits, &err), 0);
	assert_int_equal(alg, want);
	char *p;
	assert_int_equal(keygen_p_value(key, &p, &err), 0);
	char *value = record_value(alg, p);
	char *expect = slurp(recfile, NULL);
	assert_string_equal(value, expect);
	char *zone = record_zone("s1._domainkey.example.com", value);
	char *expect_zone = slurp(zonefile, NULL);
	assert_string_equal(zone, expect_zone);

	/* What we build, we parse back to the same key. */
	struct dkim_keyrec rec;
	char why[256];
	assert_int_equal(record_parse(value, strlen(value), &rec, why, sizeof why), 0);
	assert_string_equal(rec.p, p);
	assert_string_equal(rec.k, keygen_alg_name(want));
	record_keyrec_clear(&rec);

	/* A private PEM round trip keeps the key (PKCS#8 header). */
	char *priv;
	size_t plen;
	assert_int_equal(keygen_private_pem(key, &priv, &plen, &err), 0);
	assert_non_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
	EVP_PKEY *again;
	assert_int_equal(keygen_load_private(priv, plen, &again, &err), 0);
	assert_true(keygen_same_public(key, again));
	keygen_secret_free(priv, plen);
	EVP_PKEY_free(again);

	free(zone);
	free(expect_zone);
	free(expect);
	free(value);
	free(p);
	EVP_PKEY_free(key);
	free(pem);
}

static void test_golden_rsa(void **state)
{
	(void)state;
	golden("rsa2048.pem", "rsa2048.record", "rsa2048.zone", DK_ALG_RSA);
}

static void test_golden_ed25519(void **state)
{
	(void)state;
	golden("ed25519.pem", "ed25519.record", "ed25519.zone", DK_ALG_ED25519);
}

static int parses(const char *txt, struct dkim_keyrec *rec, char *why)
{
	return record_parse(txt, strlen(txt), rec, why, 256);
}

/* RFC 6376 Appendix C, as its strings concatenate. */
static void test_rfc6376_example(void **state)
{
	(void)state;
	const char *txt = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQ"
			  "KBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt"
			  "IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v"
			  "/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi"
			  "tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";
	struct dkim_keyrec rec;
	char why[256];
	assert_int_equal(parses(txt, &rec, why), 0);
	assert_true(rec.has_v);
	assert_string_equal(rec.k, "rsa");   /* default */
	assert_false(rec.revoked);
	assert_int_equal(strlen(rec.p), 216);
	record_keyrec_clear(&rec);
}

/* RFC 8463 Appendix A.2. */
static void test_rfc8463_example(void **state)
{
	(void)state;
	struct dkim_keyrec rec;
	char why[256];
	assert_int_equal(parses("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
				&rec, why), 0);
	assert_string_equal(rec.k, "ed25519");
	assert_string_equal(rec.p, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	record_keyrec_clear(&rec);
}

static void test_parse_variants(void **state)
{
	(void)state;
	struct dkim_keyrec rec;
	char why[256];

	/* Folding whitespace everywhere, p= broken by spaces, unknown tags. */
	assert_int_equal(parses("  v = DKIM1 ;\tk=rsa ; n=hello world; x_foo=bar; p= AB CD\r\n EF GH ;", &rec, why), 0);
	assert_string_equal(rec.p, "ABCDEFGH");
	record_keyrec_clear(&rec);

	/* No v= at all is allowed. */
	assert_int_equal(parses("k=rsa; p=ABCD", &rec, why), 0);
	assert_false(rec.has_v);
	record_keyrec_clear(&rec);

	/* Revoked. */
	assert_int_equal(parses("v=DKIM1; p=", &rec, why), 0);
	assert_true(rec.revoked);
	record_keyrec_clear(&rec);

	/* Testing and strict flags. */
	assert_int_equal(parses("v=DKIM1; t=y:s; p=ABCD", &rec, why), 0);
	assert_true(rec.testing);
	assert_true(rec.strict);
	record_keyrec_clear(&rec);

	/* s=email and s=* are for us. */
	assert_int_equal(parses("s=email; p=ABCD", &rec, why), 0);
	record_keyrec_clear(&rec);
}

static void refused(const char *txt, const char *reason_part)
{
	struct dkim_keyrec rec;
	char why[256] = "";
	int rc = parses(txt, &rec, why);
	record_keyrec_clear(&rec);
	if (rc != -1 || strstr(why, reason_part) == NULL)
		fail_msg("'%s': rc %d, reason '%s', expected '%s'", txt, rc, why, reason_part);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	refused("p=ABCD; v=DKIM1", "first");
	refused("v=DKIM2; p=ABCD", "DKIM1");
	refused("v=DKIM1; p=ABCD; p=ABCD", "twice");
	refused("v=DKIM1; k=rsa", "no p=");
	refused("", "no p=");
	refused("v=DKIM1; k=dsa; p=ABCD", "unknown key type");
	refused("v=DKIM1; p=AB$D", "not base64");
	refused("v=DKIM1; p=ABCDE", "valid base64");
	refused("v=DKIM1; p=AB=D", "valid base64");
	refused("v=DKIM1; garbage; p=ABCD", "without '='");
	refused("v=DKIM1; s=tls; p=ABCD", "not for email");
	refused("v=DKIM1; =x; p=ABCD", "empty");
	/* A TXT that carried a NUL byte. */
	struct dkim_keyrec rec;
	char why[256];
	assert_int_equal(record_parse("p=AB\0CD", 7, &rec, why, sizeof why), -1);
	record_keyrec_clear(&rec);
}

static void test_split(void **state)
{
	(void)state;
	char value[1001];
	memset(value, 'a', 1000);
	value[1000] = '\0';
	char **parts;
	size_t n = record_split(value, 255, &parts);
	assert_int_equal(n, 4);
	assert_int_equal(strlen(parts[0]), 255);
	assert_int_equal(strlen(parts[3]), 1000 - 3 * 255);
	assert_null(parts[4]);
	record_strings_free(parts);

	n = record_split("short", 255, &parts);
	assert_int_equal(n, 1);
	assert_string_equal(parts[0], "short");
	record_strings_free(parts);

	/* Exactly 255 is one string. */
	value[255] = '\0';
	assert_int_equal(record_split(value, 255, &parts), 1);
	record_strings_free(parts);

	char name[300];
	assert_int_equal(record_fqdn("example.com", "s1", name, sizeof name), 0);
	assert_string_equal(name, "s1._domainkey.example.com");
	assert_int_equal(record_relative("s1", name, sizeof name), 0);
	assert_string_equal(name, "s1._domainkey");
}

static void test_allows_hash(void **state)
{
	(void)state;
	static const struct { const char *txt; bool ok; } cases[] = {
		{ "v=DKIM1; p=AAAA", true },                  /* no h=: every hash */
		{ "v=DKIM1; h=sha256; p=AAAA", true },
		{ "v=DKIM1; h=sha1 : SHA256; p=AAAA", true },  /* list, spaces, case */
		{ "v=DKIM1; h=sha1; p=AAAA", false },
		{ "v=DKIM1; h=xsha256y; p=AAAA", false },      /* a word, not a substring */
		{ "v=DKIM1; h=sha2566; p=AAAA", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dkim_keyrec rec;
		char why[256];
		assert_int_equal(record_parse(cases[i].txt, strlen(cases[i].txt), &rec, why, sizeof why), 0);
		if (record_allows_hash(&rec, "sha256") != cases[i].ok)
			fail_msg("%s: expected %s", cases[i].txt, cases[i].ok ? "allowed" : "refused");
		record_keyrec_clear(&rec);
	}
}

static void test_keygen_sizes(void **state)
{
	(void)state;
	struct dk_err err;
	EVP_PKEY *k;
	assert_int_equal(keygen_generate(DK_ALG_RSA, 1024, &k, &err), 0);
	enum dk_alg alg;
	int bits;
	assert_int_equal(keygen_describe(k, &alg, &bits, &err), 0);
	assert_int_equal(bits, 1024);
	EVP_PKEY_free(k);
	assert_int_equal(keygen_generate(DK_ALG_RSA, 512, &k, &err), -1);
	assert_int_equal(err.status, DK_USAGE);
	assert_int_equal(keygen_generate(DK_ALG_RSA, 2047, &k, &err), -1);
	assert_int_equal(keygen_generate(DK_ALG_ED25519, 0, &k, &err), 0);
	char *p;
	assert_int_equal(keygen_p_value(k, &p, &err), 0);
	assert_int_equal(strlen(p), 44);   /* 32 raw bytes, RFC 8463 */
	free(p);
	EVP_PKEY_free(k);
	assert_false(keygen_bits_allowed(8192));
	assert_true(keygen_bits_allowed(3072));
}

/* Every DNS host issue 14 lists is recognised from NS names it really uses,
 * with the Name field's words and the value form it takes; an unknown host
 * gets the general advice. Read from the shipped assets/providers.txt. */
static void test_providers(void **state)
{
	(void)state;
	static const struct { const char *ns, *name; bool chunks; } hosts[] = {
		{ "ada.ns.cloudflare.com", "Cloudflare", false },
		{ "ns57.domaincontrol.com", "GoDaddy", false },
		{ "dns1.registrar-servers.com", "Namecheap", false },
		{ "dns200.anycast.me", "OVH", false },
		{ "ns1045.ui-dns.de", "IONOS", false },
		{ "hydrogen.ns.hetzner.com", "Hetzner", true },
		{ "ns-171-a.gandi.net", "Gandi", false },
		{ "docks09.rzone.de", "Strato", false },
		{ "ns-1536.awsdns-00.co.uk", "Amazon Route 53", true },
		{ "ns-cloud-a1.googledomains.com", "Google Cloud DNS", true },
		{ "ns1-05.azure-dns.com", "Azure DNS", false },
		{ "ns1.digitalocean.com", "DigitalOcean", false },
		{ "curitiba.ns.porkbun.com", "Porkbun", false },
		{ "ns11.infomaniak.ch", "Infomaniak", false },
	};
	char path[1024];
	const char *top = getenv("TOP");
	snprintf(path, sizeof path, "%s/assets/providers.txt", top ? top : ".");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	struct record_provider *p, fallback;
	size_t np = record_providers_parse(text, &p, &fallback);
	assert_true(np >= 14);
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		char names[2][256];
		snprintf(names[0], sizeof names[0], "%s", "ns.unrelated.example");
		snprintf(names[1], sizeof names[1], "%s", hosts[i].ns);
		const struct record_provider *m = record_provider_match(p, np, names, 2);
		if (m == NULL)
			fail_msg("%s not recognised", hosts[i].ns);
		assert_string_equal(m->name, hosts[i].name);
		assert_true(m->chunks == hosts[i].chunks);
		assert_false(m->fqdn_name);
		assert_true(m->field[0] != '\0' && m->ttl[0] != '\0');
	}
	char unknown[1][256] = { "ns1.example.test" };
	assert_null(record_provider_match(p, np, unknown, 1));
	assert_true(fallback.field[0] != '\0' && fallback.note[0] != '\0');
	/* a name that only contains a host's part inside a label is not that host */
	char tricky[1][256] = { "ns.notcloudflare.com" };
	assert_null(record_provider_match(p, np, tricky, 1));
	free(p);

	/* no host is dropped, however many there are (48 were kept before) */
	static char many[200 * 64];
	size_t off = 0;
	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(many + off, sizeof many - off,
					"[Host %d]\nns = ns.host%d.example\nvalue = chunks\n", i, i);
	np = record_providers_parse(many, &p, &fallback);
	assert_int_equal(np, 200);
	char last[1][256] = { "a.ns.host199.example" };
	const struct record_provider *m = record_provider_match(p, np, last, 1);
	assert_non_null(m);
	assert_string_equal(m->name, "Host 199");
	assert_true(m->chunks);
	free(p);
}

static void test_chunks(void **state)
{
	(void)state;
	char v[600];
	memset(v, 'A', 599);
	v[599] = '\0';
	char *c = record_chunks(v);
	assert_non_null(c);
	/* "255" "255" "89": quotes around each, one space between */
	assert_int_equal(strlen(c), 599 + 6 + 2);
	assert_int_equal(c[0], '"');
	assert_int_equal(c[256], '"');
	assert_memory_equal(c + 256, "\" \"", 3);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_golden_rsa),
		cmocka_unit_test(test_golden_ed25519),
		cmocka_unit_test(test_rfc6376_example),
		cmocka_unit_test(test_rfc8463_example),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_allows_hash),
		cmocka_unit_test(test_keygen_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
