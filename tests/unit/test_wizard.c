/* The wizard's step engine without a screen: events in, state out. Real
 * keys are written into a temporary --root; DNS goes to a closed loopback
 * port only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wizard.h"

struct fixture {
	char root[64];
	struct options opt;
	struct wizard w;
};

static int rm_rf(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void parse(struct fixture *f, const char *extra1, const char *extra2)
{
	char *argv[] = { "dkim-setup", "--root", f->root, "--nameserver", "127.0.0.1@9",
			 (char *)extra1, (char *)extra2, NULL };
	int argc = 5 + (extra1 != NULL) + (extra2 != NULL);
	struct dk_err err;
	if (options_parse(argc, argv, &f->opt, &err) != 0)
		fail_msg("options: %s", err.msg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->root, sizeof f->root, "/tmp/test_wizard.XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	chmod(f->root, 0755);
	parse(f, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	wiz_free(&f->w);
	rm_rf(f->root);
	free(f);
	return 0;
}

static enum wiz_result ev(struct wizard *w, enum wiz_ev_type type, int arg, const char *text)
{
	struct wiz_event e = { type, arg, text };
	return wiz_dispatch(w, &e);
}

/* Wait (bounded) for the worker, then hand its result to the step. */
static void finish_job(struct wizard *w)
{
	int fd = wiz_job_fd(w);
	assert_true(fd >= 0);
	struct pollfd pf = { fd, POLLIN, 0 };
	assert_int_equal(poll(&pf, 1, 60000), 1);
	wiz_job_collect(w);
	ev(w, EV_JOB_DONE, 0, NULL);
}

static void walk_to_key(struct wizard *w, const char *domain, const char *selector)
{
	assert_int_equal(w->step, WS_DOMAIN);
	ev(w, EV_TEXT, 0, domain);
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_NEXT);
	assert_int_equal(w->step, WS_SELECTOR);
	ev(w, EV_TEXT, 0, selector);
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_NEXT);
	assert_int_equal(w->step, WS_KEY);
}

static void test_domain_validated_as_typed(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	wiz_init(w, &f->opt);
	assert_int_equal(w->step, WS_DOMAIN);   /* nothing to decide in step 1 */
	assert_string_not_equal(w->why, "");    /* empty: says what to type */
	ev(w, EV_TEXT, 0, "shop_x.example");
	assert_non_null(strstr(w->why, "'_'"));
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_STAY);
	assert_int_equal(w->step, WS_DOMAIN);
	assert_true(w->msg_error);
	ev(w, EV_TEXT, 0, "Example.COM.   ");   /* the form pads with blanks */
	assert_string_equal(w->why, "");
	assert_string_equal(w->msg, "");         /* the old complaint is gone */
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_NEXT);
	assert_string_equal(w->domain, "example.com");
	assert_int_equal(w->step, WS_SELECTOR);
}

static void test_selector_default_and_back(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	char want[16];
	wiz_init(w, &f->opt);
	ev(w, EV_TEXT, 0, "example.com");
	ev(w, EV_NEXT, 0, NULL);
	setup_default_selector(time(NULL), want, sizeof want);
	assert_string_equal(w->text, want);
	assert_string_equal(w->why, "");
	ev(w, EV_TEXT, 0, "bad sel");
	assert_string_not_equal(w->why, "");
	ev(w, EV_TEXT, 0, "s1");
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_NEXT);
	assert_int_equal(w->step, WS_KEY);
	assert_string_equal(w->ed_selector, "s1-ed");
	assert_int_equal(ev(w, EV_BACK, 0, NULL), WR_BACK);
	assert_int_equal(w->step, WS_SELECTOR);
	assert_string_equal(w->text, "s1");      /* kept when coming back */
	ev(w, EV_TEXT, 0, "s2");
	ev(w, EV_NEXT, 0, NULL);
	assert_string_equal(w->selector, "s2");
}

static void test_key_record_save(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	char path[512];
	wiz_init(w, &f->opt);
	assert_null(wiz_quit_question(w));       /* nothing written yet */
	walk_to_key(w, "example.com", "k1");
	ev(w, EV_CHOOSE, 3, NULL);               /* RSA-1024: fast */
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_STAY);
	assert_true(w->job.running);
	/* while the key is made, the wizard does not move, nor its inputs */
	assert_int_equal(ev(w, EV_BACK, 0, NULL), WR_STAY);
	assert_int_equal(w->step, WS_KEY);
	ev(w, EV_CHOOSE, 0, NULL);
	assert_int_equal(w->key_choice, 3);
	ev(w, EV_ACTION, ACT_TOGGLE_ED, NULL);
	assert_false(w->with_ed);
	assert_non_null(wiz_quit_question(w));   /* says the key is finished first */
	finish_job(w);
	assert_int_equal(w->step, WS_RECORD);
	assert_true(w->have_key);
	assert_int_equal(w->key.bits, 1024);
	assert_true(w->key.weak);
	snprintf(path, sizeof path, "%s/etc/ssl/private/example.com-k1-private.pem", f->root);
	assert_int_equal(access(path, R_OK), 0);
	assert_non_null(strstr(wiz_quit_question(w), "continue with it"));

	struct wiz_action acts[8];
	size_t n = wiz_actions(w, acts, 8);
	assert_int_equal(n, 3);
	assert_int_equal(acts[2].act, ACT_SAVE);
	ev(w, EV_ACTION, ACT_SAVE, NULL);
	assert_false(w->msg_error);
	snprintf(path, sizeof path, "%s/root/dkim-k1._domainkey.example.com.txt", f->root);
	char buf[4096] = "";
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t len = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	char line[2048];
	snprintf(line, sizeof line, "Value: %s\n", w->key.value);
	assert_non_null(strstr(buf, line));
	assert_non_null(strstr(buf, "IN TXT"));
}

static void test_dns_skip_to_summary(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	wiz_init(w, &f->opt);
	walk_to_key(w, "example.com", "k2");
	ev(w, EV_CHOOSE, 3, NULL);
	ev(w, EV_NEXT, 0, NULL);
	finish_job(w);
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_NEXT);
	assert_int_equal(w->step, WS_DNS);
	/* no TSIG key: no publish key offered */
	struct wiz_action acts[8];
	size_t n = wiz_actions(w, acts, 8);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(acts[i].act, ACT_PUBLISH);
	/* the keys shown are the keys that work: no Enter before the servers agree */
	struct wiz_keyhint kh[16];
	size_t nk = wiz_keys(w, kh, 16);
	for (size_t i = 0; i < nk; i++)
		assert_string_not_equal(kh[i].key, "Enter");
	/* every step has a screen text; it names the record here */
	struct doc pre = { .width = 76 }, post = { .width = 76 };
	assert_int_equal(wiz_view(w, &pre, &post), 0);
	bool named = false;
	for (int i = 0; i < pre.n; i++)
		named |= strstr(pre.v[i].s, "k2._domainkey.example.com") != NULL;
	assert_true(named);
	doc_free(&pre);
	doc_free(&post);
	/* Enter before the servers agree explains instead of moving on */
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_STAY);
	assert_true(w->msg_error);
	assert_int_equal(ev(w, EV_ACTION, ACT_SKIP, NULL), WR_NEXT);
	assert_true(w->dns_skipped);
	assert_int_equal(w->step, WS_MTA);
	assert_null(w->watch);                   /* the watcher stopped on leaving */
	ev(w, EV_NEXT, 0, NULL);                 /* no MTA in the sandbox: go on */
	assert_int_equal(w->step, WS_SUMMARY);
	assert_true(w->proof_done);              /* not tried without the record */
	assert_int_equal(ev(w, EV_NEXT, 0, NULL), WR_FINISH);
	assert_int_equal(w->status, DK_MISMATCH);
	assert_null(wiz_quit_question(w));
}

static void test_resume_offered(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	wiz_init(w, &f->opt);
	walk_to_key(w, "my-shop.example", "202611");
	ev(w, EV_NEXT, 0, NULL);
	finish_job(w);
	assert_int_equal(w->step, WS_RECORD);
	char value[1024];
	snprintf(value, sizeof value, "%s", w->key.value);
	wiz_free(w);

	wiz_init(w, &f->opt);
	assert_int_equal(w->step, WS_SURVEY);
	assert_int_equal(w->n_resume, 1);
	assert_string_equal(w->resume[0].domain, "my-shop.example");
	assert_string_equal(w->resume[0].selector, "202611");
	ev(w, EV_CHOOSE, 1, NULL);
	ev(w, EV_NEXT, 0, NULL);
	assert_string_equal(w->text, "my-shop.example");
	ev(w, EV_NEXT, 0, NULL);
	assert_string_equal(w->text, "202611");
	assert_non_null(strstr(w->warn, "exists already"));
	ev(w, EV_NEXT, 0, NULL);
	ev(w, EV_NEXT, 0, NULL);
	finish_job(w);
	assert_int_equal(w->step, WS_RECORD);
	assert_int_equal(w->key.outcome, KEYJOB_REUSED);
	assert_string_equal(w->key.value, value);
}

static void test_parse_keyfile(void **state)
{
	(void)state;
	char d[256], s[64];
	assert_int_equal(wiz_parse_keyfile("example.com-202611-private.pem", d, sizeof d, s, sizeof s), 0);
	assert_string_equal(d, "example.com");
	assert_string_equal(s, "202611");
	assert_int_equal(wiz_parse_keyfile("my-shop.example-202611-private.pem", d, sizeof d, s, sizeof s), 0);
	assert_string_equal(d, "my-shop.example");
	assert_int_equal(wiz_parse_keyfile("example.test-mail2-ed-private.pem", d, sizeof d, s, sizeof s), 0);
	assert_string_equal(d, "example.test");
	assert_string_equal(s, "mail2-ed");
	assert_int_equal(wiz_parse_keyfile("shop.xn--p1ai-sel-private.pem", d, sizeof d, s, sizeof s), 0);
	assert_string_equal(d, "shop.xn--p1ai");
	assert_string_equal(s, "sel");
	assert_int_equal(wiz_parse_keyfile("nodash-private.pem", d, sizeof d, s, sizeof s), -1);
	assert_int_equal(wiz_parse_keyfile("example.com-sel.pem", d, sizeof d, s, sizeof s), -1);
	assert_int_equal(wiz_parse_keyfile("-private.pem", d, sizeof d, s, sizeof s), -1);
}

static void test_training_texts(void **state)
{
	struct fixture *f = *state;
	struct wizard *w = &f->w;
	char dir[128], path[256];
	snprintf(dir, sizeof dir, "%s/assets", f->root);
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/domain.txt", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("DKIM signs with the domain's key.\n", fp);
	fclose(fp);

	wiz_init(w, &f->opt);
	wiz_training_load(w, dir);
	assert_null(wiz_training_text(w, WS_DOMAIN));   /* only with --training */
	wiz_free(w);

	parse(f, "--training", NULL);
	wiz_init(w, &f->opt);
	wiz_training_load(w, dir);
	assert_string_equal(wiz_training_text(w, WS_DOMAIN), "DKIM signs with the domain's key.\n");
	assert_null(wiz_training_text(w, WS_KEY));      /* no file: no panel */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain_validated_as_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selector_default_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_record_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_skip_to_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_offered, setup, teardown),
		cmocka_unit_test(test_parse_keyfile),
		cmocka_unit_test_setup_teardown(test_training_texts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
