/* mta plan/apply under a --root sandbox: which file each layout gets, the
 * block replaced and never duplicated, other people's settings kept, the
 * key never in the diff, a re-run that has nothing to do, refusals. */
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

#include "mta.h"

static char root[64];

static void mkdirs(const char *rel)
{
	char path[1024], *p;
	snprintf(path, sizeof path, "%s%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[1024];
	mkdirs(rel);
	snprintf(path, sizeof path, "%s%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static char *get(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s%s", root, rel);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void copy_key(const char *data, const char *rel)
{
	char src[1024];
	const char *top = getenv("TOP");
	snprintf(src, sizeof src, "%s/tests/data/%s", top ? top : ".", data);
	FILE *f = fopen(src, "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	put(rel, buf, 0600);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/test_mta.XXXXXX");
	assert_non_null(mkdtemp(root));
	chmod(root, 0755);
	mkdirs("/etc/ssl/private/x");
	char p[128];
	snprintf(p, sizeof p, "%s/etc/ssl/private", root);
	chmod(p, 0700);
	copy_key("rsa2048.pem", "/etc/ssl/private/example.com-rsa1-private.pem");
	copy_key("ed25519.pem", "/etc/ssl/private/example.com-ed1-private.pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *debconf(const char *type, const char *split)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "dc_eximconfig_configtype='%s'\ndc_use_split_config='%s'\ndc_other_hostnames=''\n",
		 type, split);
	return buf;
}

static struct mta_request req_for(const char *domain, bool ed)
{
	static char priv[256], edpriv[256];
	snprintf(priv, sizeof priv, "/etc/ssl/private/%s-rsa1-private.pem", domain);
	snprintf(edpriv, sizeof edpriv, "/etc/ssl/private/%s-ed1-private.pem", domain);
	struct mta_request r = {
		.root = root, .domain = domain, .selector = "rsa1", .priv_path = priv,
		.ed_selector = ed ? "ed1" : NULL, .ed_priv_path = ed ? edpriv : NULL,
		.mta = MTA_EXIM,
	};
	return r;
}

static void plan_apply(struct mta_request *r, bool expect_change)
{
	struct mta_plan plan;
	struct mta_result res;
	struct dk_err err;
	if (mta_plan(r, &plan, &err) < 0)
		fail_msg("plan: %s", err.msg);
	assert_int_equal(plan.nothing_to_do, !expect_change);
	assert_null(strstr(plan.diff, "PRIVATE KEY"));
	if (mta_apply(r, &plan, &res, &err) < 0)
		fail_msg("apply: %s", err.msg);
	assert_int_equal(res.applied, expect_change);
	mta_plan_clear(&plan);
}

static void test_exim_unsplit(void **state)
{
	(void)state;
	put("/etc/exim4/update-exim4.conf.conf", debconf("internet", "false"), 0644);
	put("/etc/exim4/exim4.conf.localmacros", "# the admin's own macro\nMAIN_TLS_ENABLE = yes\n", 0644);
	struct mta_info info;
	struct dk_err err;
	assert_int_equal(mta_detect(root, MTA_AUTO, &info, &err), 0);
	assert_int_equal(info.kind, MTA_EXIM);
	assert_int_equal(info.flavor, MTA_FL_EXIM_UNSPLIT);
	struct mta_request r = req_for("example.com", true);
	plan_apply(&r, true);
	char *m = get("/etc/exim4/exim4.conf.localmacros");
	assert_non_null(strstr(m, "MAIN_TLS_ENABLE = yes\n"));
	assert_non_null(strstr(m, "DKIM_SELECTOR = ${if eq{$dkim_domain}{example.com}{ed1 : rsa1}{}}\n"));
	assert_non_null(strstr(m, "DKIM_DOMAIN = ${if eqi{${domain:$rh_from:}}{example.com}{example.com}{}}\n"));
	assert_non_null(strstr(m, "DKIM_PRIVATE_KEY = /etc/exim4/dkim/${dkim_domain}-${dkim_selector}-private.pem\n"));
	/* no message data in the key path: $sender_*, $h_*, $domain are tainted */
	assert_null(strstr(strstr(m, "DKIM_PRIVATE_KEY"), "$sender"));
	assert_null(get("/etc/exim4/conf.d/main/000_localmacros"));
	char *k = get("/etc/exim4/dkim/example.com-ed1-private.pem");
	assert_non_null(k);
	free(k);
	free(m);
	/* again: nothing to do */
	plan_apply(&r, false);
	/* a stale copy (another key) is replaced by a re-run, as check says */
	copy_key("ed25519.pem", "/etc/exim4/dkim/example.com-rsa1-private.pem");
	plan_apply(&r, true);
	char *master = get("/etc/ssl/private/example.com-rsa1-private.pem");
	char *fresh = get("/etc/exim4/dkim/example.com-rsa1-private.pem");
	assert_string_equal(master, fresh);
	free(master);
	free(fresh);
	/* a second domain: both signed, one block */
	copy_key("rsa2048.pem", "/etc/ssl/private/other.org-rsa1-private.pem");
	struct mta_request r2 = req_for("other.org", false);
	plan_apply(&r2, true);
	m = get("/etc/exim4/exim4.conf.localmacros");
	assert_non_null(strstr(m, "{example.com}{ed1 : rsa1}{${if eq{$dkim_domain}{other.org}{rsa1}{}}}"));
	assert_null(strstr(strstr(m, "# END dkim-setup") + 1, "# BEGIN dkim-setup"));
	free(m);
}

/* A write that fails halfway: the key copy already written is removed,
 * and so is the key directory apply created; the admin's file is intact. */
static void test_rollback_dirs(void **state)
{
	(void)state;
	put("/etc/exim4/update-exim4.conf.conf", debconf("internet", "false"), 0644);
	/* the macros file cannot be written: a directory stands in its place */
	mkdirs("/etc/exim4/exim4.conf.localmacros/x");
	struct mta_request r = req_for("example.com", false);
	struct mta_plan plan;
	struct mta_result res;
	struct dk_err err;
	if (mta_plan(&r, &plan, &err) < 0)
		fail_msg("plan: %s", err.msg);
	assert_int_equal(mta_apply(&r, &plan, &res, &err), -1);
	assert_true(res.rolled_back);
	char path[1024];
	struct stat st;
	snprintf(path, sizeof path, "%s/etc/exim4/dkim", root);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(path, sizeof path, "%s/etc/exim4/exim4.conf.localmacros", root);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	mta_plan_clear(&plan);
}

static void test_exim_split(void **state)
{
	(void)state;
	put("/etc/exim4/update-exim4.conf.conf", debconf("internet", "true"), 0644);
	put("/etc/exim4/conf.d/main/02_exim4-config_options", "MAIN_HARDCODE_PRIMARY_HOSTNAME = x\n", 0644);
	struct mta_request r = req_for("example.com", false);
	plan_apply(&r, true);
	char *m = get("/etc/exim4/conf.d/main/000_localmacros");
	assert_non_null(m);
	assert_non_null(strstr(m, "{example.com}{rsa1}{}"));
	assert_null(get("/etc/exim4/exim4.conf.localmacros"));
	free(m);
}

static void test_exim_refusals(void **state)
{
	(void)state;
	struct mta_plan plan;
	struct dk_err err;
	struct mta_request r = req_for("example.com", false);
	put("/etc/exim4/update-exim4.conf.conf", debconf("smarthost", "false"), 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	assert_int_equal(err.status, DK_SYSERR);
	assert_non_null(strstr(err.msg, "smarthost"));
	assert_null(get("/etc/exim4/exim4.conf.localmacros"));
	mta_plan_clear(&plan);
	put("/etc/exim4/update-exim4.conf.conf", debconf("satellite", "false"), 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	mta_plan_clear(&plan);
	put("/etc/exim4/update-exim4.conf.conf", debconf("internet", "false"), 0644);
	put("/etc/exim4/exim4.conf.localmacros", "DKIM_DOMAIN = theirs.example\n", 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "did not write"));
	mta_plan_clear(&plan);
	/* our block damaged by hand: no guessing */
	put("/etc/exim4/exim4.conf.localmacros", "# BEGIN dkim-setup\nDKIM_CANON = relaxed\n", 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "damaged dkim-setup block"));
	mta_plan_clear(&plan);
	/* an Ed25519 key given as the RSA one */
	put("/etc/exim4/exim4.conf.localmacros", "", 0644);
	r.priv_path = "/etc/ssl/private/example.com-ed1-private.pem";
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	mta_plan_clear(&plan);
}

/* A hand-written exim4.conf wins over Debian's generated one: we write the
 * transport options as a fragment to .include, and edit nothing of theirs. */
static void test_exim_plain(void **state)
{
	(void)state;
	put("/etc/exim4/update-exim4.conf.conf", debconf("internet", "false"), 0644);
	put("/etc/exim4/exim4.conf", "# mine\nbegin transports\nremote_smtp:\n  driver = smtp\n", 0644);
	struct mta_info info;
	struct dk_err err;
	assert_int_equal(mta_detect(root, MTA_EXIM, &info, &err), 0);
	assert_int_equal(info.flavor, MTA_FL_EXIM_PLAIN);
	struct mta_request r = req_for("example.com", false);
	plan_apply(&r, true);
	char *f = get("/etc/exim4/dkim/dkim-setup-transport.conf");
	assert_non_null(f);
	assert_non_null(strstr(f, "\ndkim_selector = rsa1\n"));
	assert_non_null(strstr(f, "\ndkim_private_key = /etc/exim4/dkim/example.com-${dkim_selector}-private.pem\n"));
	assert_non_null(strstr(f, "\ndkim_canon = relaxed\n"));
	free(f);
	f = get("/etc/exim4/exim4.conf");
	assert_string_equal(f, "# mine\nbegin transports\nremote_smtp:\n  driver = smtp\n");
	free(f);
	plan_apply(&r, false);
}

/* split smarthost: the transport gets the DKIM options through a .rul
 * override built from Debian's file; re-runs rebuild it identically. */
static void test_exim_smarthost_split(void **state)
{
	(void)state;
	put("/etc/exim4/update-exim4.conf.conf", debconf("smarthost", "true"), 0644);
	put("/etc/exim4/conf.d/transport/30_exim4-config_remote_smtp_smarthost",
	    "remote_smtp_smarthost:\n  debug_print = \"T: x\"\n  driver = smtp\n  multi_domain\n", 0644);
	struct mta_request r = req_for("example.com", false);
	plan_apply(&r, true);
	char *f = get("/etc/exim4/conf.d/transport/30_exim4-config_remote_smtp_smarthost.rul");
	assert_non_null(f);
	assert_non_null(strstr(f, "  driver = smtp\n# BEGIN dkim-setup"));
	assert_non_null(strstr(f, ".ifdef DKIM_PRIVATE_KEY\n  dkim_private_key = DKIM_PRIVATE_KEY\n.endif\n"));
	assert_non_null(strstr(f, "# END dkim-setup\n  multi_domain\n"));
	free(f);
	f = get("/etc/exim4/conf.d/main/000_localmacros");
	assert_non_null(strstr(f, "DKIM_SELECTOR"));
	free(f);
	plan_apply(&r, false);
}

static const char *maincf =
	"smtpd_banner = $myhostname ESMTP\n"
	"smtpd_milters = unix:/spamass/spamass.sock,\n"
	"    inet:localhost:11332\n"
	"non_smtpd_milters = $smtpd_milters\n"
	"myhostname = mail.example.com\n";

static void test_postfix(void **state)
{
	(void)state;
	put("/etc/postfix/main.cf", maincf, 0644);
	put("/usr/sbin/postfix", "", 0755);
	put("/usr/sbin/opendkim", "", 0755);
	put("/etc/opendkim.conf", "Syslog\t\t\tyes\nUMask\t\t\t007\nSocket\t\t\tlocal:/run/opendkim/opendkim.sock\n", 0644);
	put("/etc/opendkim/signing.table", "*@other.org other._domainkey.other.org\n", 0644);
	put("/etc/opendkim.conf.d-unused", "", 0644);
	/* the admin's tables already in use */
	char *c = get("/etc/opendkim.conf");
	char buf[4096];
	snprintf(buf, sizeof buf, "%sKeyTable file:/etc/opendkim/keys\nSigningTable refile:/etc/opendkim/signing.table\n", c);
	put("/etc/opendkim.conf", buf, 0644);
	free(c);
	put("/etc/opendkim/keys", "other._domainkey.other.org other.org:other:/etc/dkimkeys/other.private\n", 0644);
	struct mta_request r = req_for("example.com", true);
	r.mta = MTA_POSTFIX;
	struct mta_plan plan;
	struct dk_err err;
	assert_int_equal(mta_plan(&r, &plan, &err), 0);
	assert_true(plan.ed25519);
	assert_non_null(strstr(plan.explain, "second OpenDKIM"));
	mta_plan_clear(&plan);
	plan_apply(&r, true);
	char *m = get("/etc/postfix/main.cf");
	assert_non_null(strstr(m, "smtpd_milters = unix:/spamass/spamass.sock, inet:localhost:11332, "
				 "{ inet:127.0.0.1:8891, default_action=accept }, "
				 "{ inet:127.0.0.1:8892, default_action=accept }\n"));
	assert_non_null(strstr(m, "non_smtpd_milters = $smtpd_milters\n"));
	assert_non_null(strstr(m, "myhostname = mail.example.com\n"));
	assert_null(strstr(m, "    inet:localhost"));
	free(m);
	m = get("/etc/opendkim/keys");
	assert_string_equal(m, "other._domainkey.other.org other.org:other:/etc/dkimkeys/other.private\n"
			       "rsa1._domainkey.example.com example.com:rsa1:/etc/dkimkeys/example.com-rsa1.private\n");
	free(m);
	m = get("/etc/opendkim/signing.table");
	assert_string_equal(m, "*@other.org other._domainkey.other.org\n*@example.com rsa1._domainkey.example.com\n");
	free(m);
	m = get("/etc/opendkim.conf");
	assert_non_null(strstr(m, "# disabled by dkim-setup (see its block below): Socket\t\t\tlocal:"));
	assert_non_null(strstr(m, "\nSocket\t\t\tinet:8891@127.0.0.1\n"));
	assert_null(strstr(m, "refile:/etc/opendkim/signing.table\nKeyTable"));
	free(m);
	struct stat st;
	char p[256];
	snprintf(p, sizeof p, "%s/etc/dkimkeys/example.com-rsa1.private", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	m = get("/etc/opendkim-ed25519.conf");
	assert_non_null(strstr(m, "SignatureAlgorithm\ted25519-sha256\n"));
	assert_non_null(strstr(m, "Socket\t\t\tinet:8892@127.0.0.1\n"));
	free(m);
	m = get("/etc/opendkim/key-ed25519.table");
	assert_string_equal(m, "ed1._domainkey.example.com example.com:ed1:/etc/dkimkeys/example.com-ed1.private\n");
	free(m);
	m = get("/etc/systemd/system/opendkim-ed25519.service");
	assert_non_null(strstr(m, "ExecStart=/usr/sbin/opendkim -x /etc/opendkim-ed25519.conf\n"));
	free(m);
	/* The re-run reads the tables back, and dkim-setup reads nothing below a
	 * directory root does not own: as an ordinary user (a package build's
	 * `make check-unit`) the files made above are the user's. */
	if (geteuid() == 0)
		plan_apply(&r, false);
	/* strict: our milter alone changes to tempfail */
	r.strict = true;
	plan_apply(&r, true);
	m = get("/etc/postfix/main.cf");
	assert_non_null(strstr(m, "inet:localhost:11332, { inet:127.0.0.1:8891, default_action=tempfail }, "
				 "{ inet:127.0.0.1:8892, default_action=tempfail }\n"));
	free(m);
	/* a milter list we cannot parse safely is left alone */
	put("/etc/postfix/main.cf", "smtpd_milters = { inet:127.0.0.1:9999, default_action=accept\n", 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "edits safely"));
	mta_plan_clear(&plan);
	/* a single-KeyFile setup of somebody else is refused */
	put("/etc/opendkim.conf", "KeyFile /etc/dkimkeys/theirs.private\nDomain x.org\nSelector s\n", 0644);
	assert_int_equal(mta_plan(&r, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "KeyFile"));
	mta_plan_clear(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exim_unsplit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exim_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exim_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exim_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exim_smarthost_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postfix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
