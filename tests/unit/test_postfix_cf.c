/* Reading Postfix's lists as Postfix does (src/postfix_cf.c) and keeping
 * secrets out of what is shown (src/signer_util.c): logical lines with
 * comment lines inside, milter spellings of one filter, $parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postfix_cf.h"
#include "signer_util.h"

static char *value_of(const char *text, const char *name)
{
	struct sbuf v = { 0 };
	const char *s, *e;
	if (!pf_cf_find(text, name, &s, &e, &v)) {
		free(sb_take(&v));
		return NULL;
	}
	return sb_take(&v);
}

/* A comment line or a blank line inside a continued value does not end it
 * (Postfix's readlline); the next unindented line does. */
static void test_logical_lines(void **state)
{
	(void)state;
	const char *cf = "smtpd_milters = a,\n"
			 "# clamav goes first\n"
			 "\n"
			 "    b\n"
			 "  # indented comment\n"
			 "\tc\n"
			 "\n"
			 "# TLS parameters\n"
			 "smtpd_tls_security_level = may\n";
	char *v = value_of(cf, "smtpd_milters");
	assert_non_null(v);
	struct pf_tok t[8];
	int n = pf_list_tokens(v, 0, strlen(v), t, 8);
	assert_int_equal(n, 3);
	assert_memory_equal(v + t[0].off, "a", 1);
	assert_memory_equal(v + t[2].off, "c", 1);
	free(v);
	/* the definition ends after its last value line: the comment block of
	 * the next parameter is not part of it */
	const char *s, *e;
	assert_true(pf_cf_find(cf, "smtpd_milters", &s, &e, NULL));
	assert_ptr_equal(e, strstr(cf, "\tc\n") + 3);
	/* tokens in the file's text skip the comment lines too */
	size_t from = (size_t)(strchr(cf, '=') + 1 - cf), to = (size_t)(strstr(cf, "\tc") + 2 - cf);
	assert_int_equal(pf_list_tokens(cf, from, to, t, 8), 3);
	/* braces are one entry; unbalanced ones are refused */
	const char *l = "{ inet:x:1, default_action=accept }, unix:/y";
	assert_int_equal(pf_list_tokens(l, 0, strlen(l), t, 8), 2);
	assert_int_equal(t[0].len, strlen("{ inet:x:1, default_action=accept }"));
	assert_int_equal(pf_list_tokens("{ a, b", 0, 6, t, 8), -1);
}

static void target(const char *tok, bool chroot, const char *want)
{
	char out[PF_TARGET_MAX];
	pf_milter_target(tok, strlen(tok), "/var/spool/postfix", chroot, out, sizeof out);
	assert_string_equal(out, want);
}

static void test_targets(void **state)
{
	(void)state;
	/* one filter, however it is spelled */
	target("inet:localhost:8891", true, "inet:lo:8891");
	target("inet:127.0.0.1:8891", true, "inet:lo:8891");
	target("inet:8891", true, "inet:lo:8891");
	target("inet:[::1]:8891", true, "inet:lo:8891");
	target("{ inet:127.0.0.1:8891, default_action=accept }", true, "inet:lo:8891");
	target("inet:Mail.Example.com:8891", true, "inet:mail.example.com:8891");
	/* local sockets: relative to the queue directory; absolute ones inside
	 * it when the service is chrooted */
	target("local:opendkim/opendkim.sock", true, "unix:/var/spool/postfix/opendkim/opendkim.sock");
	target("unix:opendkim/opendkim.sock", false, "unix:/var/spool/postfix/opendkim/opendkim.sock");
	target("unix:/opendkim/opendkim.sock", true, "unix:/var/spool/postfix/opendkim/opendkim.sock");
	target("unix:/run/opendkim/opendkim.sock", false, "unix:/run/opendkim/opendkim.sock");
	target("unix:./x//y.sock", true, "unix:/var/spool/postfix/x/y.sock");
	char out[PF_TARGET_MAX];
	pf_socket_target("inet:8891@localhost", out, sizeof out);
	assert_string_equal(out, "inet:lo:8891");
	pf_socket_target("inet:8891", out, sizeof out);
	assert_string_equal(out, "inet:lo:8891");
	pf_socket_target("local:/var/spool/postfix/opendkim/opendkim.sock", out, sizeof out);
	assert_string_equal(out, "unix:/var/spool/postfix/opendkim/opendkim.sock");
	pf_socket_target("/run/opendkim/opendkim.sock", out, sizeof out);
	assert_string_equal(out, "unix:/run/opendkim/opendkim.sock");
}

/* $name, ${name}, $(name) expand from main.cf, recursively; other forms
 * are not guessed at. */
static void test_params(void **state)
{
	(void)state;
	const char *cf = "dkim_milter = inet:localhost:8891\n"
			 "milters = unix:/clamav/clamav.ctl, ${dkim_milter}\n"
			 "smtpd_milters = $milters\n";
	char tg[16][PF_TARGET_MAX];
	const char *tok = "$milters";
	assert_int_equal(pf_list_targets(cf, tok, strlen(tok), "/var/spool/postfix", true, tg, 16), 2);
	assert_string_equal(tg[0], "unix:/var/spool/postfix/clamav/clamav.ctl");
	assert_string_equal(tg[1], "inet:lo:8891");
	tok = "$(dkim_milter)";
	assert_int_equal(pf_list_targets(cf, tok, strlen(tok), "/q", true, tg, 16), 1);
	tok = "$undefined";
	assert_int_equal(pf_list_targets(cf, tok, strlen(tok), "/q", true, tg, 16), 0);
	tok = "${dkim_milter?x}";
	assert_int_equal(pf_list_targets(cf, tok, strlen(tok), "/q", true, tg, 16), -1);
	const char *loop = "a = $b\nb = $a\n";
	assert_int_equal(pf_list_targets(loop, "$a", 2, "/q", true, tg, 16), -1);
}

static void masked(const char *in, const char *want)
{
	char *m = mta_mask_secrets(in);
	assert_non_null(m);
	assert_string_equal(m, want);
	free(m);
}

static void test_secrets(void **state)
{
	(void)state;
	masked("KeyTable dsn:mysql://dkim:S3cr3t!@db.example.com/dkim/table=keys",
	       "KeyTable dsn:mysql://dkim:****@db.example.com/dkim/table=keys");
	masked("password = hunter2\n", "password = ****\n");
	masked("secret \"c2VjcmV0Cg==\";", "secret \"****\";");
	masked("SQLPassword: x", "SQLPassword: x");   /* not a word of its own: left */
	masked("smtp_sasl_password_maps = hash:/etc/postfix/sasl", "smtp_sasl_password_maps = hash:/etc/postfix/sasl");
	masked("dsn:mysql://user@host/db", "dsn:mysql://user@host/db");
	char buf[64] = "pass:abc def";
	mta_mask_buf(buf, sizeof buf);
	assert_string_equal(buf, "pass:**** def");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logical_lines),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
