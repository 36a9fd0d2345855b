/* test_harden.c: regression tests for what the fuzzers found (issue 6).
 * Each test names the harness and the checked-in crash input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "dns.h"
#include "mta_int.h"
#include "options.h"
#include "record.h"
#include "setup.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int printable_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* fuzz_record regress-tag-nonascii: the reason quoted DNS bytes raw, so a
 * hostile server could put terminal escapes on the admin's screen. */
static void record_reason_is_printable(void **state)
{
	(void)state;
	static const char *bad[] = {
		";\xfe\x9c\xdf\xd8\xfep=AAAA;;",
		"v=DKIM1; \x1b]0;owned\a=1; p=AAAA",
		"v=DKIM1; k=\x1b[2J; p=AAAA",
		"v=DKIM1; k=rsa\23331m; p=AAAA",   /* \233: CSI, then "31m" */
		"v=DKIM1; s=\x1b[5mtls; p=AAAA",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dkim_keyrec rec;
		char why[256];
		assert_int_equal(record_parse(bad[i], strlen(bad[i]), &rec, why, sizeof why), -1);
		assert_true(why[0] != '\0');
		assert_true(printable_line(why));
		record_keyrec_clear(&rec);
	}
}

/* fuzz_validate regress-optopt-esc: "-<ESC>" was echoed raw. */
static void unknown_short_option_is_escaped(void **state)
{
	(void)state;
	char a0[] = "dkim-setup", a1[] = "-\x1b", a2[] = "-\x9b";
	char *argv1[] = { a0, a1, NULL };
	char *argv2[] = { a0, a2, NULL };
	struct options o;
	struct dk_err err;
	assert_int_equal(options_parse(2, argv1, &o, &err), -1);
	assert_int_equal(err.status, DK_USAGE);
	assert_true(printable_line(err.msg));
	assert_non_null(strstr(err.msg, "\\x1b"));
	assert_int_equal(options_parse(2, argv2, &o, &err), -1);
	assert_true(printable_line(err.msg));
}

/* fuzz_validate regress-printable-outlen1: an output of 1..3 bytes was
 * left unterminated. */
static void printable_tiny_buffer_terminated(void **state)
{
	(void)state;
	for (size_t outlen = 1; outlen <= 5; outlen++) {
		char *out = malloc(outlen);
		memset(out, 'Z', outlen);
		dk_printable("plain text\x1b", out, outlen);
		assert_true(memchr(out, '\0', outlen) != NULL);
		assert_true(printable_line(out));
		free(out);
	}
}

/* fuzz_validate (found as a heap-use-after-free in options_parse after
 * some 400 runs; one input alone does not show it): a second
 * options_parse() after one that stopped inside "-hV" went on reading the
 * first argv. Only tests and harnesses parse twice, but they must be able to. */
static void options_parse_twice(void **state)
{
	(void)state;
	struct options o;
	struct dk_err err;
	char *a0 = strdup("dkim-setup"), *a1 = strdup("-hV");
	char *argv1[] = { a0, a1, NULL };
	assert_int_equal(options_parse(2, argv1, &o, &err), 0);
	assert_int_equal(o.mode, MODE_HELP);
	/* Kept alive: the stale state then shows as the "V" being parsed
	 * again (MODE_VERSION) instead of a use-after-free that ASan's freed
	 * chunk header can hide. */
	char b0[] = "dkim-setup", b1[] = "--batch", b2[] = "-d", b3[] = "Example.COM";
	char *argv2[] = { b0, b1, b2, b3, NULL };
	assert_int_equal(options_parse(4, argv2, &o, &err), 0);
	assert_int_equal(o.mode, MODE_BATCH);
	assert_string_equal(o.domain, "example.com");
	free(a1);
	free(a0);
}

/* valgrind_batch "an unreadable existing key": load_private() formatted
 * err->msg into itself, so `record` printed "PATH: PATH: " and lost the
 * reason (and read uninitialised bytes). */
static void unreadable_key_reason_kept(void **state)
{
	(void)state;
	char root[] = "/tmp/test_harden.XXXXXX", path[256];
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof path, "%s/etc", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/etc/ssl", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/etc/ssl/private", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/etc/ssl/private/example.com-s7-private.pem", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);

	struct dk_keyjob job;
	struct dk_err err;
	memset(&job, 0, sizeof job);
	memset(&err, 'U', sizeof err);   /* as uninitialised as a stack struct */
	dk_err_clear(&err);
	job.root = root;
	snprintf(job.domain, sizeof job.domain, "example.com");
	snprintf(job.selector, sizeof job.selector, "s7");
	assert_int_equal(setup_load_key(&job, &err), -1);
	assert_non_null(strstr(err.msg, "not a PEM private key"));
	assert_null(strstr(err.msg, "pem: /etc"));
	setup_keyjob_clear(&job);
	unlink(path);
	snprintf(path, sizeof path, "%s/etc/ssl/private", root);
	rmdir(path);
	snprintf(path, sizeof path, "%s/etc/ssl", root);
	rmdir(path);
	snprintf(path, sizeof path, "%s/etc", root);
	rmdir(path);
	rmdir(root);
}

static int write_tmp(char *path, const char *data, size_t len)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* fuzz_tsig regress-nul-hang: a NUL byte in a BIND key file made the
 * tokenizer return empty tokens without advancing: dns_tsig_load never
 * returned. alarm() turns a regression into a failure, not a hang. */
static void tsig_nul_byte_no_hang(void **state)
{
	(void)state;
	static const char file[] = "key \"k\" { algorithm hma\0\0\x7f;c-sha512; secret \"AAAA\"; };";
	char path[] = "/tmp/test_harden_tsig.XXXXXX";
	assert_int_equal(write_tmp(path, file, sizeof file - 1), 0);
	struct dns_tsig key;
	struct dk_err err;
	dk_err_clear(&err);
	alarm(10);
	int rc = dns_tsig_load(path, &key, &err);
	alarm(0);
	unlink(path);
	assert_int_equal(rc, -1);
	assert_int_equal(err.status, DK_USAGE);
	assert_true(printable_line(err.msg));
	dns_tsig_clear(&key);
}

/* fuzz_tsig regress-word-nonascii: "'%s' without a value" quoted the
 * file's bytes raw. */
static void tsig_reason_is_printable(void **state)
{
	(void)state;
	static const char *files[] = {
		"key \"k\" {\n\talgorit\xff\xff~\xfdJ\213D\x0fsh2",
		"key \"k\" { \x1b[2J",
		"key \"k\" { \x1b]0;owned\x07 x",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[] = "/tmp/test_harden_tsig.XXXXXX";
		assert_int_equal(write_tmp(path, files[i], strlen(files[i])), 0);
		struct dns_tsig key;
		struct dk_err err;
		dk_err_clear(&err);
		assert_int_equal(dns_tsig_load(path, &key, &err), -1);
		unlink(path);
		assert_true(err.msg[0] != '\0');
		assert_true(printable_line(err.msg));
		dns_tsig_clear(&key);
	}
}

/* fuzz_mta_config regress-stray-begin: a BEGIN line whose END was deleted
 * by hand made the first run append our block and the second run replace
 * everything from the stray BEGIN to our END: the admin's lines in between
 * (here MAIN_TLS_ENABLE) were silently dropped. The MTA module now refuses
 * a damaged block (NULL); either way a re-run must never lose a line. */
static void put_block_stray_begin_keeps_lines(void **state)
{
	(void)state;
	static const char block[] = MTA_BEGIN "\nDKIM_CANON = relaxed\n" MTA_END "\n";
	static const struct { const char *old; bool damaged; } cases[] = {
		{ MTA_BEGIN "\nMAIN_TLS_ENABLE = yes\n", true },
		{ "MAIN_TLS_ENABLE = yes\n" MTA_END "\nB = 2\n", true },
		{ MTA_BEGIN "\nMAIN_TLS_ENABLE = yes\n" MTA_BEGIN "\nold\n" MTA_END "\n", true },
		{ "MAIN_TLS_ENABLE = yes\n" MTA_BEGIN "\nold\n" MTA_END "\nY = 2\n", false },
		{ "MAIN_TLS_ENABLE = yes\n", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *once = mta_put_block(cases[i].old, block);
		if (cases[i].damaged) {
			assert_null(once);
			continue;
		}
		assert_non_null(once);
		char *twice = mta_put_block(once, block);
		assert_non_null(twice);
		assert_string_equal(once, twice);
		assert_non_null(strstr(twice, block));
		assert_non_null(strstr(twice, "MAIN_TLS_ENABLE = yes"));
		free(once);
		free(twice);
	}
	char *e = mta_put_block("", block);
	assert_string_equal(e, block);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_reason_is_printable),
		cmocka_unit_test(unknown_short_option_is_escaped),
		cmocka_unit_test(printable_tiny_buffer_terminated),
		cmocka_unit_test(options_parse_twice),
		cmocka_unit_test(unreadable_key_reason_kept),
		cmocka_unit_test(tsig_nul_byte_no_hang),
		cmocka_unit_test(tsig_reason_is_printable),
		cmocka_unit_test(put_block_stray_begin_keeps_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
