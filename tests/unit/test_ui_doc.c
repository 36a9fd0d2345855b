/* Text layout of the wizard's panes: nothing lost, nothing past the width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ui_doc.h"

static void test_para_wraps_at_words(void **state)
{
	(void)state;
	struct doc d = { .width = 20 };
	doc_para(&d, 2, 7, "Most web DNS panels add the domain themselves: enter only %s.",
		 "202611._domainkey");
	char joined[256] = "";
	for (int i = 0; i < d.n; i++) {
		assert_true(strlen(d.v[i].s) <= 20);
		assert_memory_equal(d.v[i].s, "  ", 2);       /* every line indented */
		assert_int_equal(d.v[i].a, 7);
		strcat(joined, d.v[i].s + 2);
		if (i + 1 < d.n)
			strcat(joined, " ");
	}
	assert_string_equal(joined, "Most web DNS panels add the domain themselves: enter only "
			    "202611._domainkey.");
	doc_free(&d);
	assert_int_equal(d.n, 0);
}

static void test_para_paragraphs_and_long_words(void **state)
{
	(void)state;
	struct doc d = { .width = 12 };
	doc_para(&d, 0, 0, "one\n\nabcdefghijklmnopqrstuvwxyz");
	assert_true(d.n >= 4);
	assert_string_equal(d.v[0].s, "one");
	assert_string_equal(d.v[1].s, "");
	assert_string_equal(d.v[2].s, "abcdefghijkl");   /* a word longer than the width is cut */
	doc_free(&d);
}

static void test_hard_keeps_every_character(void **state)
{
	(void)state;
	char value[600];
	for (int i = 0; i < 599; i++)
		value[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/="[i % 29];
	value[599] = '\0';
	struct doc d = { .width = 76 };
	doc_hard(&d, 2, 1, value);
	char joined[700] = "";
	for (int i = 0; i < d.n; i++) {
		assert_true(strlen(d.v[i].s) <= 76);
		if (i + 1 < d.n)
			assert_int_equal(strlen(d.v[i].s), 76);
		strcat(joined, d.v[i].s + 2);
	}
	assert_string_equal(joined, value);
	doc_free(&d);
}

static void test_hard_expands_tabs(void **state)
{
	(void)state;
	struct doc d = { .width = 40 };
	doc_hard(&d, 0, 0, "x. 3600 IN TXT ( \"a\"\n\t\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" )");
	assert_int_equal(d.n, 3);
	assert_null(strchr(d.v[1].s, '\t'));
	assert_memory_equal(d.v[1].s, "        \"", 9);    /* the tab is 8 spaces */
	assert_true(strlen(d.v[1].s) <= 40);
	doc_free(&d);
}

/* A command is wrapped at spaces with the shell's own continuation, so the
 * lines pasted into a shell are the command; nothing goes past the width. */
static void test_cmd_pastes_whole(void **state)
{
	(void)state;
	const char *cmd = "dkim-setup check -d example.test -s 202612 --root /tmp/dkim-test.abcdef/t.ghijkl "
			  "--nameserver 127.0.0.1@53999 --nameserver ::1@53999";
	struct doc d = { .width = 40 };
	doc_cmd(&d, 2, 0, cmd);
	assert_true(d.n > 2);
	char joined[512] = "";
	for (int i = 0; i < d.n; i++) {
		const char *l = d.v[i].s;
		size_t n = strlen(l);
		assert_true(n <= 40);
		while (*l == ' ')
			l++;
		n = strlen(l);
		if (i + 1 < d.n) {
			assert_true(n >= 2 && strcmp(l + n - 2, " \\") == 0);
			n -= 2;
		}
		strncat(joined, l, n);
		if (i + 1 < d.n)
			strcat(joined, " ");
	}
	assert_string_equal(joined, cmd);
	doc_free(&d);
}

/* A value people copy is cut with a mark on every line that goes on. */
static void test_copy_marks_cuts(void **state)
{
	(void)state;
	struct doc d = { .width = 20 };
	doc_copy(&d, 0, 0, "0123456789012345678901234567890123456789");
	assert_int_equal(d.n, 3);
	assert_string_equal(d.v[0].s, "0123456789012345678\\");
	assert_string_equal(d.v[1].s, "9012345678901234567\\");
	assert_string_equal(d.v[2].s, "89");
	doc_free(&d);
	struct doc e = { .width = 20 };
	doc_copy(&e, 0, 0, "short");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].s, "short");
	doc_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_para_wraps_at_words),
		cmocka_unit_test(test_para_paragraphs_and_long_words),
		cmocka_unit_test(test_hard_keeps_every_character),
		cmocka_unit_test(test_hard_expands_tabs),
		cmocka_unit_test(test_cmd_pastes_whole),
		cmocka_unit_test(test_copy_marks_cuts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
