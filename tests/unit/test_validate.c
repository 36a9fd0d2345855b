/* Domain and selector validation, and the option parser's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "validate.h"

static void domain_ok(const char *in, const char *want)
{
	char out[256], why[256] = "";
	if (validate_domain(in, out, sizeof out, why, sizeof why) != 0)
		fail_msg("'%s' refused: %s", in, why);
	assert_string_equal(out, want);
}

static void domain_bad(const char *in, const char *reason_part)
{
	char out[256], why[256] = "";
	if (validate_domain(in, out, sizeof out, why, sizeof why) != -1 || strstr(why, reason_part) == NULL)
		fail_msg("'%s': expected refusal with '%s', got '%s'", in, reason_part, why);
}

static void test_domains(void **state)
{
	(void)state;
	domain_ok("example.com", "example.com");
	domain_ok("Example.COM.", "example.com");
	domain_ok("mail-1.shop.example.co.uk", "mail-1.shop.example.co.uk");
	domain_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	domain_bad("", "empty");
	domain_bad("com", "two parts");
	domain_bad("-shop.example.com", "starts with a hyphen");
	domain_bad("shop-.example.com", "ends with a hyphen");
	domain_bad("shop..example.com", "empty part");
	domain_bad(".example.com", "empty part");
	domain_bad("example.com..", "empty part");
	domain_bad("exa mple.com", "space");
	domain_bad("example.com ", "space");
	domain_bad("a/b.example.com", "'/'");
	domain_bad("../x", "empty part");
	domain_bad("ex;rm -rf.com", "space");
	domain_bad("ex$(id).com", "'$'");
	/* international names: IDNA2008 with UTS #46 mapping, A-label out */
	domain_ok("müller.de", "xn--mller-kva.de");
	domain_ok("MÜLLER.de", "xn--mller-kva.de");
	domain_ok("bücher.example.", "xn--bcher-kva.example");
	domain_bad("a\u2665b.de", "not a valid international name");
	domain_bad("m\xfcller.de", "not UTF-8");
	domain_bad("exa\u200bmple.com", "invisible");
	domain_bad("\xc2\x9b" "31m.example.com", "control");
	char u[64];
	assert_int_equal(validate_domain_unicode("xn--mller-kva.de", u, sizeof u), 1);
	assert_string_equal(u, "müller.de");
	assert_int_equal(validate_domain_unicode("example.com", u, sizeof u), 0);
	domain_bad("ex\x1b[2J.com", "control");
	domain_bad("192.168.1.1", "IP address");
	domain_bad("under_score.example.com", "'_'");
	char label[80];
	memset(label, 'a', 64);
	strcpy(label + 64, ".com");
	domain_bad(label, "63");
	char longname[300] = "";
	for (int i = 0; i < 26; i++)
		strcat(longname, "abcdefghi.");
	strcat(longname, "com");
	domain_bad(longname, "253");
}

static void test_selectors(void **state)
{
	(void)state;
	char out[64], why[256];
	assert_int_equal(validate_selector("202611", out, sizeof out, why, sizeof why), 0);
	assert_int_equal(validate_selector("S1.Mail", out, sizeof out, why, sizeof why), 0);
	assert_string_equal(out, "s1.mail");
	assert_int_equal(validate_selector("s1._domainkey", out, sizeof out, why, sizeof why), -1);
	assert_int_equal(validate_selector("-s1", out, sizeof out, why, sizeof why), -1);
	assert_int_equal(validate_selector("s 1", out, sizeof out, why, sizeof why), -1);
	assert_int_equal(validate_selector("", out, sizeof out, why, sizeof why), -1);
	assert_int_equal(validate_selector("a/b", out, sizeof out, why, sizeof why), -1);
	char big[100];
	memset(big, 'a', 70);
	big[70] = '\0';
	assert_int_equal(validate_selector(big, out, sizeof out, why, sizeof why), -1);
}

static int parse(struct options *o, struct dk_err *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	argv[argc++] = "dkim-setup";
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return options_parse(argc, argv, o, err);
}

static void test_options(void **state)
{
	(void)state;
	struct options o;
	struct dk_err err;
	assert_int_equal(parse(&o, &err, "--batch", "-d", "Example.com", "-s", "s1", "-b", "3072", "-m", "none", NULL), 0);
	assert_int_equal(o.mode, MODE_BATCH);
	assert_string_equal(o.domain, "example.com");
	assert_int_equal(o.bits, 3072);
	assert_int_equal(o.mta, MTA_NONE);

	assert_int_equal(parse(&o, &err, "check", "-d", "example.com", "-s", "s1", "--nameserver", "127.0.0.1@5353",
			       "--nameserver", "[::1]@53", "--json", NULL), 0);
	assert_int_equal(o.mode, MODE_CHECK);
	assert_int_equal(o.n_ns, 2);
	assert_string_equal(o.ns[0].addr, "127.0.0.1");
	assert_int_equal(o.ns[0].port, 5353);
	assert_string_equal(o.ns[1].addr, "::1");
	char args[256];
	options_dns_args(&o, args, sizeof args);
	assert_string_equal(args, " --nameserver 127.0.0.1@5353 --nameserver [::1]@53");

	/* --resolver: the same address forms, kept apart from --nameserver */
	assert_int_equal(parse(&o, &err, "check", "-d", "example.com", "-s", "s1", "--resolver", "127.0.0.53",
			       NULL), 0);
	assert_int_equal(o.n_ns, 0);
	assert_int_equal(o.n_resolvers, 1);
	assert_int_equal(o.resolvers[0].port, 53);
	options_dns_args(&o, args, sizeof args);
	assert_string_equal(args, " --resolver 127.0.0.53@53");

	/* The command word may stand anywhere. */
	assert_int_equal(parse(&o, &err, "-d", "example.com", "record", "-s", "s1", NULL), 0);
	assert_int_equal(o.mode, MODE_RECORD);

	assert_int_equal(parse(&o, &err, "--batch", "-a", "ed25519", NULL), 0);
	assert_int_equal(o.alg, DK_ALG_ED25519);
	assert_int_equal(o.bits, 0);

	const char *bad[][8] = {
		{ "--batch", "-b", "512", NULL },
		{ "--batch", "-b", "2048x", NULL },
		{ "--batch", "-b", "", NULL },
		{ "--batch", "-b", "-2048", NULL },
		{ "--batch", "-a", "dsa", NULL },
		{ "--batch", "-a", "ed25519", "-b", "2048", NULL },
		{ "--batch", "-m", "sendmail", NULL },
		{ "--batch", "--root", "relative/dir", NULL },
		{ "--batch", "--root", "/nonexistent/dkim-setup-test", NULL },
		{ "--batch", "--nameserver", "ns1.example.com", NULL },
		{ "--batch", "--nameserver", "127.0.0.1@99999", NULL },
		{ "--batch", "--wait", "soon", NULL },
		{ "--batch", "--publish", NULL },
		{ "--frobnicate", NULL },
		{ "check", "-d", "example.com", NULL },
		{ "destroy", NULL },
		{ "--batch", "-d", NULL },
		{ "--json", NULL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *argv[10];
		int argc = 0;
		argv[argc++] = "dkim-setup";
		for (int k = 0; bad[i][k] != NULL; k++)
			argv[argc++] = (char *)bad[i][k];
		argv[argc] = NULL;
		memset(&err, 0, sizeof err);
		if (options_parse(argc, argv, &o, &err) != -1 || err.status != DK_USAGE || err.msg[0] == '\0')
			fail_msg("case %zu (%s %s) was not refused", i, bad[i][0], bad[i][1] ? bad[i][1] : "");
		assert_null(strchr(err.msg, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
