/* lifecycle: key file names, and the state file's round trip and its
 * tolerance of junk (it is only ever a help). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "lifecycle.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/dkim-lifecycle.XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	chmod(root, 0755);
	struct dk_err err;
	return fs_root_open(root, &err);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void split_ok(const char *name, const char *d, const char *s)
{
	char dom[DK_DOMAIN_MAX + 1], sel[DK_LABEL_MAX + 1];
	assert_int_equal(lc_split_key_name(name, dom, sizeof dom, sel, sizeof sel), 0);
	assert_string_equal(dom, d);
	assert_string_equal(sel, s);
}

static void test_split(void **state)
{
	(void)state;
	char dom[DK_DOMAIN_MAX + 1], sel[DK_LABEL_MAX + 1];
	split_ok("example.com-202601-private.pem", "example.com", "202601");
	split_ok("my-shop.example.com-202601-ed-private.pem", "my-shop.example.com", "202601-ed");
	split_ok("xn--mller-kva.de-s1-private.pem", "xn--mller-kva.de", "s1");
	assert_int_equal(lc_split_key_name("nodot-s1-private.pem", dom, sizeof dom, sel, sizeof sel), -1);
	assert_int_equal(lc_split_key_name("example.com-private.pem", dom, sizeof dom, sel, sizeof sel), -1);
	assert_int_equal(lc_split_key_name("example.com-s1-public.pem", dom, sizeof dom, sel, sizeof sel), -1);
	assert_int_equal(lc_split_key_name("example.com--private.pem", dom, sizeof dom, sel, sizeof sel), -1);
	assert_int_equal(lc_split_key_name("example.com-S$1-private.pem", dom, sizeof dom, sel, sizeof sel), -1);
	assert_int_equal(lc_split_key_name("-private.pem", dom, sizeof dom, sel, sizeof sel), -1);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	struct lc_state st, back;
	struct dk_err err;
	memset(&st, 0, sizeof st);
	st.stage = LC_PUBLISHED;
	strcpy(st.new_rsa, "202612");
	strcpy(st.new_ed, "202612-ed");
	strcpy(st.old_rsa, "202601");
	lc_state_sel(&st, "202601", true)->stopped = 1700000000;
	lc_state_sel(&st, "202512", true)->retired = 1700000001;
	lc_state_sel(&st, "202612", true);
	assert_int_equal(lc_state_save(root, "example.com", &st, &err), 0);
	lc_state_load(root, "example.com", &back);
	assert_int_equal(back.stage, LC_PUBLISHED);
	assert_string_equal(back.new_rsa, "202612");
	assert_string_equal(back.new_ed, "202612-ed");
	assert_string_equal(back.old_rsa, "202601");
	assert_string_equal(back.old_ed, "");
	assert_int_equal(back.n, 3);
	assert_int_equal(lc_state_sel(&back, "202601", false)->stopped, 1700000000);
	assert_int_equal(lc_state_sel(&back, "202512", false)->retired, 1700000001);
	assert_null(lc_state_sel(&back, "nope", false));
	char p[512];
	struct stat sb;
	snprintf(p, sizeof p, "%s" LC_STATE_DIR "/example.com.state", root);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
}

static void test_state_junk(void **state)
{
	(void)state;
	struct lc_state st;
	char p[512];
	const char *dirs[] = { "/var", "/var/lib", LC_STATE_DIR };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", root, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof p, "%s" LC_STATE_DIR "/junk.test.state", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	/* a stage without its selectors, bad names, negative times */
	fputs("stage switched\nstopped ../etc -5\nretired UPPER 12\nused a b c\nnonsense\n", f);
	fclose(f);
	lc_state_load(root, "junk.test", &st);
	assert_int_equal(st.stage, LC_IDLE);
	assert_int_equal(st.n, 1);   /* "used a" */
	assert_string_equal(st.s[0].sel, "a");
	lc_state_load(root, "missing.test", &st);
	assert_int_equal(st.stage, LC_IDLE);
	assert_int_equal(st.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_junk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
