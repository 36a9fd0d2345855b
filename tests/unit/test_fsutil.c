/* fsutil: atomic, no-follow, backed-up writes in a scratch root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/dkim-fsutil.XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	chmod(root, 0755);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s%s", root, rel);
	if (lstat(p, &st) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static struct fs_write wr(const char *path, const char *data, mode_t mode, unsigned flags)
{
	struct fs_write w = { .root = root, .path = path, .data = data, .len = strlen(data),
			      .mode = mode, .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID, .flags = flags };
	return w;
}

static void test_write_and_replace(void **state)
{
	(void)state;
	struct dk_err err;
	mode_t old = umask(0);   /* the mode must not depend on the caller's umask */
	assert_int_equal(fs_mkdir(root, "/etc/ssl/private", 0710, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err), 0);
	assert_int_equal(mode_of("/etc/ssl/private"), 0710);
	struct fs_write w = wr("/etc/ssl/private/k.pem", "secret\n", 0600, 0);
	assert_int_equal(fs_write_file(&w, &err), 0);
	umask(old);
	assert_int_equal(mode_of("/etc/ssl/private/k.pem"), 0600);

	/* Same bytes again: unchanged, even without FS_REPLACE. */
	assert_int_equal(fs_write_file(&w, &err), 0);
	assert_true(w.unchanged);

	/* Different bytes without FS_REPLACE: refused, DK_USAGE. */
	struct fs_write w2 = wr("/etc/ssl/private/k.pem", "other\n", 0600, 0);
	assert_int_equal(fs_write_file(&w2, &err), -1);
	assert_int_equal(err.status, DK_USAGE);

	/* With FS_REPLACE|FS_BACKUP: replaced, the backup holds the old bytes. */
	w2.flags = FS_REPLACE | FS_BACKUP;
	assert_int_equal(fs_write_file(&w2, &err), 0);
	assert_true(w2.replaced);
	assert_true(w2.backup[0] != '\0');
	char *buf;
	size_t len;
	assert_int_equal(fs_read_file(root, w2.backup, 100, &buf, &len, &err), 0);
	assert_string_equal(buf, "secret\n");
	free(buf);
	assert_int_equal(mode_of(w2.backup), 0600);
	assert_int_equal(fs_read_file(root, "/etc/ssl/private/k.pem", 100, &buf, &len, &err), 0);
	assert_string_equal(buf, "other\n");
	free(buf);

	/* Restore puts the old bytes back. */
	assert_int_equal(fs_restore(root, "/etc/ssl/private/k.pem", w2.backup, &err), 0);
	assert_int_equal(fs_read_file(root, "/etc/ssl/private/k.pem", 100, &buf, &len, &err), 0);
	assert_string_equal(buf, "secret\n");
	free(buf);

	/* Dry run writes nothing. */
	struct fs_write w3 = wr("/etc/ssl/private/new.pem", "x", 0600, FS_DRY_RUN);
	assert_int_equal(fs_write_file(&w3, &err), 0);
	assert_int_equal(fs_exists(root, "/etc/ssl/private/new.pem"), 0);
	assert_int_equal(fs_remove(root, "/etc/ssl/private/k.pem", &err), 0);
	assert_int_equal(fs_exists(root, "/etc/ssl/private/k.pem"), 0);
}

/* Backups go to /var/backups/dkim-setup/<path>.<stamp> with the original's
 * mode, never next to the file; at most FS_BACKUPS_KEPT per file. */
static void test_backups_bounded(void **state)
{
	(void)state;
	struct dk_err err;
	char data[32];
	assert_int_equal(fs_mkdir(root, "/etc/exim4", 0755, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err), 0);
	struct fs_write w = wr("/etc/exim4/exim4.conf.localmacros", "v0\n", 0640, FS_REPLACE | FS_BACKUP);
	assert_int_equal(fs_write_file(&w, &err), 0);
	for (int i = 1; i <= 12; i++) {
		snprintf(data, sizeof data, "v%d\n", i);
		w = wr("/etc/exim4/exim4.conf.localmacros", data, 0640, FS_REPLACE | FS_BACKUP);
		if (fs_write_file(&w, &err) < 0)
			fail_msg("write %d: %s", i, err.msg);
		static const char want[] = "/var/backups/dkim-setup/etc/exim4/exim4.conf.localmacros.";
		assert_int_equal(strncmp(w.backup, want, sizeof want - 1), 0);
		assert_int_equal(mode_of(w.backup), 0640);
	}
	assert_int_equal(mode_of("/var/backups/dkim-setup"), 0700);
	char names[64][NAME_MAX + 1];
	/* nothing but the file itself in /etc/exim4 */
	assert_int_equal(fs_list(root, "/etc/exim4", "", names, 64), 1);
	assert_int_equal(fs_list(root, "/var/backups/dkim-setup/etc/exim4", "", names, 64), FS_BACKUPS_KEPT);
	/* the newest backup holds the previous contents */
	char *buf;
	size_t len;
	assert_int_equal(fs_read_file(root, w.backup, 100, &buf, &len, &err), 0);
	assert_string_equal(buf, "v11\n");
	free(buf);
}

static void test_refusals(void **state)
{
	(void)state;
	struct dk_err err;
	char p[512], q[512];

	/* A symlinked directory component. */
	snprintf(p, sizeof p, "%s/elsewhere", root);
	mkdir(p, 0755);
	snprintf(q, sizeof q, "%s/etc2", root);
	assert_int_equal(symlink(p, q), 0);
	struct fs_write w = wr("/etc2/file", "x", 0644, 0);
	assert_int_equal(fs_write_file(&w, &err), -1);
	assert_non_null(strstr(err.msg, "symlink"));
	snprintf(p, sizeof p, "%s/elsewhere/file", root);
	assert_int_equal(access(p, F_OK), -1);

	/* A directory writable by others. */
	snprintf(p, sizeof p, "%s/open", root);
	mkdir(p, 0777);
	chmod(p, 0777);
	w = wr("/open/file", "x", 0644, 0);
	assert_int_equal(fs_write_file(&w, &err), -1);
	assert_non_null(strstr(err.msg, "writable by others"));

	/* A symlink at the file itself, even with FS_REPLACE. */
	snprintf(p, sizeof p, "%s/d", root);
	mkdir(p, 0755);
	snprintf(q, sizeof q, "%s/d/f", root);
	assert_int_equal(symlink("/etc/passwd", q), 0);
	w = wr("/d/f", "x", 0644, FS_REPLACE | FS_BACKUP);
	assert_int_equal(fs_write_file(&w, &err), -1);
	assert_non_null(strstr(err.msg, "symlink"));
	char *buf;
	size_t len;
	assert_int_equal(fs_read_file(root, "/d/f", 100, &buf, &len, &err), -1);

	/* A hard-linked file is not read. */
	snprintf(p, sizeof p, "%s/d/a", root);
	snprintf(q, sizeof q, "%s/d/b", root);
	FILE *f = fopen(p, "w");
	fputs("x", f);
	fclose(f);
	assert_int_equal(link(p, q), 0);
	assert_int_equal(fs_read_file(root, "/d/a", 100, &buf, &len, &err), -1);
	assert_non_null(strstr(err.msg, "hard link"));

	/* A missing directory is an error, not a crash; nothing created. */
	w = wr("/no/such/dir/f", "x", 0644, 0);
	assert_int_equal(fs_write_file(&w, &err), -1);
	assert_int_equal(fs_exists(root, "/no"), 0);
}

static void test_list(void **state)
{
	(void)state;
	struct dk_err err;
	char names[4][NAME_MAX + 1];
	assert_int_equal(fs_mkdir(root, "/keys", 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err), 0);
	struct fs_write a = wr("/keys/b.com-s1-private.pem", "x", 0600, 0);
	struct fs_write b = wr("/keys/a.com-s1-private.pem", "x", 0600, 0);
	struct fs_write c = wr("/keys/other.txt", "x", 0600, 0);
	assert_int_equal(fs_write_file(&a, &err), 0);
	assert_int_equal(fs_write_file(&b, &err), 0);
	assert_int_equal(fs_write_file(&c, &err), 0);
	assert_int_equal(fs_list(root, "/keys", "-private.pem", names, 4), 2);
	/* more than max: the count says so, the first by name are kept */
	assert_int_equal(fs_list(root, "/keys", "-private.pem", names, 1), 2);
	assert_string_equal(names[0], "a.com-s1-private.pem");
	assert_int_equal(fs_list(root, "/nokeys", "-private.pem", names, 4), 0);
}

/* Temp files left by a run killed with SIGKILL are cleaned up by the next
 * write in that directory, once they are old; nothing else is touched. */
static void test_stale_temps(void **state)
{
	(void)state;
	struct dk_err err;
	char p[512];
	assert_int_equal(fs_mkdir(root, "/d", 0755, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err), 0);
	const char *names[] = { ".dkim-setup.000000000001.tmp", ".dkim-setup.000000000002.tmp" };
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/d/%s", root, names[i]);
		FILE *f = fopen(p, "w");
		fputs("half a key", f);
		fclose(f);
	}
	/* the first is an hour old, the second fresh (a run writing right now) */
	snprintf(p, sizeof p, "%s/d/%s", root, names[0]);
	struct timespec old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	char link[512];
	snprintf(link, sizeof link, "%s/d/.dkim-setup.000000000003.tmp", root);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	struct fs_write w = wr("/d/f", "x", 0644, 0);
	assert_int_equal(fs_write_file(&w, &err), 0);
	assert_int_equal(fs_exists(root, "/d/.dkim-setup.000000000001.tmp"), 0);
	assert_int_equal(fs_exists(root, "/d/.dkim-setup.000000000002.tmp"), 1);
	assert_int_equal(fs_exists(root, "/d/.dkim-setup.000000000003.tmp"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backups_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_temps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
