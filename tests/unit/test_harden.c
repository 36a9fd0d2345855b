/* test_harden.c: regression tests for what the fuzzers found (issue 6),
 * each naming the harness and the checked-in crash input; and for the
 * second hardening round (issue 17): the root held by descriptor, clean
 * children with deadlines, and the smaller items. */
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
#include "signer_util.h"
#include "options.h"
#include "record.h"
#include "setup.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "json.h"
#include "spawn.h"

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


/* ---- issue 17 ---- */

#define NOBODY_UID 65534
#define NOBODY_GID 65534

static void sh(const char *cmd)
{
	assert_int_equal(system(cmd), 0);
}

static char *tmpdir_0755(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/dk-harden.XXXXXX");
	assert_non_null(mkdtemp(buf));
	chmod(buf, 0755);
	return buf;
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	sh(cmd);
}

static bool exists_at(const char *a, const char *b)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s%s", a, b);
	struct stat st;
	return lstat(p, &st) == 0;
}

/* 17.1: the sandbox is swapped for a symlink to another tree after the
 * first write: the next writes still land in the sandbox it opened. */
static void root_held_across_swap(void **state)
{
	(void)state;
	char top[64], sb[PATH_MAX], old[PATH_MAX], other[PATH_MAX];
	tmpdir_0755(top, sizeof top);
	snprintf(sb, sizeof sb, "%s/sb", top);
	snprintf(old, sizeof old, "%s/sb.old", top);
	snprintf(other, sizeof other, "%s/other", top);
	mkdir(sb, 0755);
	mkdir(other, 0755);
	char o_etc[PATH_MAX + 8];
	snprintf(o_etc, sizeof o_etc, "%s/etc", other);
	mkdir(o_etc, 0755);
	struct dk_err err;
	struct fs_write w = { .root = sb, .path = "/etc/first", .data = "1\n", .len = 2, .mode = 0644,
			      .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID };
	assert_int_equal(fs_mkdir(sb, "/etc", 0755, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err), 0);
	assert_int_equal(fs_write_file(&w, &err), 0);
	/* the owner of `top` swaps the sandbox */
	assert_int_equal(rename(sb, old), 0);
	assert_int_equal(symlink(other, sb), 0);
	w.path = "/etc/second";
	fs_write_file(&w, &err);
	fs_mkdir(sb, "/etc/made", 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, &err);
	fs_remove(sb, "/etc/first", &err);
	assert_false(exists_at(other, "/etc/second"));
	assert_false(exists_at(other, "/etc/made"));
	assert_true(exists_at(old, "/etc/second"));
	assert_true(exists_at(old, "/etc/made"));
	assert_false(exists_at(old, "/etc/first"));
	rm_rf(top);
}

/* 17.1: as root, a --root below a directory another user owns or can
 * write is refused with the reason; under sticky /tmp it is fine. */
static void root_policy_as_root(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char top[64], p[PATH_MAX];
	tmpdir_0755(top, sizeof top);
	struct dk_err err;
	dk_err_clear(&err);
	snprintf(p, sizeof p, "%s/u", top);
	mkdir(p, 0755);
	assert_int_equal(chown(p, NOBODY_UID, NOBODY_GID), 0);
	snprintf(p, sizeof p, "%s/u/sb", top);
	mkdir(p, 0755);   /* root's, inside the user's directory */
	assert_int_equal(fs_root_open(p, &err), -1);
	assert_int_equal(err.status, DK_USAGE);
	assert_non_null(strstr(err.msg, "/u belongs to"));
	assert_non_null(strstr(err.msg, "run dkim-setup as that user"));

	snprintf(p, sizeof p, "%s/g", top);
	mkdir(p, 0775);
	chmod(p, 0775);
	assert_int_equal(chown(p, 0, NOBODY_GID), 0);
	snprintf(p, sizeof p, "%s/g/sb", top);
	mkdir(p, 0755);
	assert_int_equal(fs_root_open(p, &err), -1);
	assert_non_null(strstr(err.msg, "writable by its group"));

	/* the root itself another user's */
	snprintf(p, sizeof p, "%s/theirs", top);
	mkdir(p, 0755);
	assert_int_equal(chown(p, NOBODY_UID, NOBODY_GID), 0);
	assert_int_equal(fs_root_open(p, &err), -1);

	/* /tmp (sticky, root's) on the way, root's sandbox: fine */
	snprintf(p, sizeof p, "%s/ok", top);
	mkdir(p, 0755);
	assert_int_equal(fs_root_open(p, &err), 0);
	rm_rf(top);
}

/* 17.5: a root-owned directory writable by a group other than root's is
 * not safe to write into. */
static void group_writable_dir_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char top[64], p[PATH_MAX];
	tmpdir_0755(top, sizeof top);
	snprintf(p, sizeof p, "%s/etc", top);
	mkdir(p, 0775);
	chmod(p, 0775);
	assert_int_equal(chown(p, 0, NOBODY_GID), 0);
	struct dk_err err;
	struct fs_write w = { .root = top, .path = "/etc/f", .data = "x", .len = 1, .mode = 0644,
			      .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID };
	assert_int_equal(fs_write_file(&w, &err), -1);
	assert_non_null(strstr(err.msg, "writable by group"));
	assert_false(exists_at(top, "/etc/f"));
	/* root's own group may write: that is root */
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(fs_write_file(&w, &err), 0);
	rm_rf(top);
}

/* 17.5: a stale temp of the OpenDKIM copy belongs to opendkim, not root:
 * the clean-up removes it too. */
static void stale_temp_of_other_owner_removed(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char top[64], p[PATH_MAX];
	tmpdir_0755(top, sizeof top);
	snprintf(p, sizeof p, "%s/keys", top);
	mkdir(p, 0750);
	snprintf(p, sizeof p, "%s/keys/.dkim-setup.0123456789ab.tmp", top);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, NOBODY_UID, NOBODY_GID), 0);
	struct timespec old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	assert_int_equal(futimens(fd, old), 0);
	close(fd);
	struct dk_err err;
	struct fs_write w = { .root = top, .path = "/keys/k", .data = "x", .len = 1, .mode = 0600,
			      .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID };
	assert_int_equal(fs_write_file(&w, &err), 0);
	assert_false(exists_at(top, "/keys/.dkim-setup.0123456789ab.tmp"));
	rm_rf(top);
}

/* Is s valid UTF-8 (RFC 3629)? */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (k == 0 || i + k > n)
			return false;
		unsigned cp = k == 1 ? c : c & (0xff >> (k + 1));
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

/* 17.5: JSON is valid UTF-8 whatever bytes a value holds. */
static void json_is_valid_utf8(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "bad", "a\xff" "b\xc3" "c\xe2\x82" "d\xc0\xaf" "e\xed\xa0\x80" "f\xf4\x90\x80\x80");
	json_string(&j, "good", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
	json_string(&j, "ctl", "\x1b[2J\x7f");
	json_object_end(&j);
	json_finish(&j);
	fclose(f);
	assert_true(valid_utf8((unsigned char *)buf, len));
	assert_non_null(strstr(buf, "a\\ufffdb"));
	assert_non_null(strstr(buf, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"));
	assert_non_null(strstr(buf, "\\u001b[2J\\u007f"));
	free(buf);
}

/* The value of a "Name:\t..." line of a /proc status text. */
static const char *status_field(const char *text, const char *name, char *out, size_t outlen)
{
	const char *p = strstr(text, name);
	if (p == NULL)
		return "";
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "\n");
	snprintf(out, outlen, "%.*s", (int)n, p);
	return out;
}

/* 17.3: a program the MTA code starts (mta_run) has no blocked and no
 * ignored signal, whatever the calling thread had, the fixed environment
 * and no descriptor of ours. */
static void children_start_clean(void **state)
{
	(void)state;
	sigset_t block, old;
	sigemptyset(&block);
	int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&block, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	void (*oldpipe)(int) = signal(SIGPIPE, SIG_IGN);
	setenv("OPENSSL_CONF", "/nonexistent/evil.cnf", 1);
	int leak = open("/dev/null", O_RDONLY);   /* not O_CLOEXEC */

	char out[8192], f[64];
	const char *const st[] = { "/bin/cat", "/proc/self/status", NULL };
	assert_int_equal(mta_run(st, out, sizeof out), 0);
	assert_string_equal(status_field(out, "SigBlk:", f, sizeof f), "0000000000000000");
	/* Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): sigaction
	 * refuses them, so a child keeps what the test inherited, and GNU make
	 * 4.3 starts its recipes with both ignored (make check-unit). */
	unsigned long long ign = strtoull(status_field(out, "SigIgn:", f, sizeof f), NULL, 16);
	assert_int_equal(ign & ~(3ULL << 31), 0);
	const char *const env[] = { "/usr/bin/env", NULL };
	assert_int_equal(mta_run(env, out, sizeof out), 0);
	assert_string_equal(out, SPAWN_ENV_PATH "\n" SPAWN_ENV_LANG "\n");
	const char *const fds[] = { "/bin/ls", "/proc/self/fd", NULL };
	assert_int_equal(mta_run(fds, out, sizeof out), 0);
	assert_string_equal(out, "0\n1\n2\n3\n");   /* 3: ls's own look at the directory */

	close(leak);
	unsetenv("OPENSSL_CONF");
	signal(SIGPIPE, oldpipe);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* 17.4: a stopped or hung child is killed at its deadline, with the reason. */
static void stopped_child_times_out(void **state)
{
	(void)state;
	struct spawn_result res;
	char out[256];
	const char *const stop[] = { "/bin/sh", "-c", "echo before; kill -STOP $$; echo after", NULL };
	time_t t0 = time(NULL);
	assert_int_equal(spawn_run(stop, out, sizeof out, 700, &res), -1);
	assert_true(time(NULL) - t0 < 5);
	assert_int_equal(res.end, SPAWN_TIMEOUT);
	assert_true(res.stopped);
	assert_non_null(strstr(res.why, "stopped"));
	assert_string_equal(out, "before\n");
	/* a grandchild keeping the output open dies with the group */
	const char *const hang[] = { "/bin/sh", "-c", "/bin/sleep 30 & wait", NULL };
	t0 = time(NULL);
	assert_int_equal(spawn_run(hang, out, sizeof out, 700, &res), -1);
	assert_int_equal(res.end, SPAWN_TIMEOUT);
	assert_true(time(NULL) - t0 < 5);
	assert_non_null(strstr(res.why, "no answer after 1 s"));
}

/*
 * An attacker running as the probe's user stops (or kills) every process
 * of theirs as fast as it can: kill(-1, sig). Done inside a new PID
 * namespace so that it reaches nothing outside this test. `body` runs as
 * that namespace's first process; returns its exit status.
 */
static int in_pid_ns_with_attacker(uid_t uid, int sig, int (*body)(void))
{
	pid_t outer = fork();
	if (outer == 0) {
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		pid_t init = fork();
		if (init == 0) {
			pid_t att = fork();
			if (att == 0) {
				if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
					_exit(1);
				for (;;)
					kill(-1, sig);
			}
			int rc = body();
			kill(att, SIGKILL);
			waitpid(att, NULL, 0);
			_exit(rc);
		}
		int st;
		waitpid(init, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
	}
	int st;
	waitpid(outer, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static uid_t nobody_uid(void)
{
	struct passwd *pw = getpwnam("nobody");
	return pw != NULL ? pw->pw_uid : (uid_t)-1;
}

#define PROBE_UID 64999   /* no such user: only the probe and its attacker */

static int probe_stopped_body(void)
{
	struct spawn_result res;
	int e = 0;
	/* the attacker needs a few tries to catch the short-lived probe */
	for (int i = 0; i < 2000; i++) {
		e = spawn_probe_open("/etc/hostname", PROBE_UID, PROBE_UID, 300, &res);
		if (e < 0)
			break;
	}
	if (e < 0 && res.end == SPAWN_TIMEOUT && strstr(res.why, "no answer") != NULL)
		return 0;
	fprintf(stderr, "stopped probe: %d, %d, %s\n", e, (int)res.end, res.why);
	return 1;
}

static int probe_killed_body(void)
{
	struct spawn_result res;
	int e = 0;
	for (int i = 0; i < 2000; i++) {
		e = spawn_probe_open("/etc/ssl/private", PROBE_UID, PROBE_UID, 300, &res);
		if (e != EACCES)
			break;
	}
	/* never "cannot open": a killed probe is no answer */
	return e < 0 && res.end == SPAWN_SIGNALED && strstr(res.why, "signal 9") != NULL ? 0 : 1;
}

static void stopped_or_killed_probe_is_no_answer(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	int rc = in_pid_ns_with_attacker(PROBE_UID, SIGSTOP, probe_stopped_body);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
	assert_int_equal(in_pid_ns_with_attacker(PROBE_UID, SIGKILL, probe_killed_body), 0);
}

/* What the key check must say when the attacker stops (10 s deadline) or
 * kills the "nobody" probe: it fails, and never passes as "cannot open". */
static const char *key_check_want;

static int key_check_body(void)
{
	/* the real check: the signer (root here) can open the key, and the
	 * "nobody" probe is attacked */
	char what[256];
	struct dk_err err;
	dk_err_clear(&err);
	int rc = -1;
	for (int i = 0; i < 2000 && (rc = mta_check_key_access("", "/etc/shadow", "root", what, sizeof what, &err)) == 0; i++)
		;
	if (rc < 0 && strstr(err.msg, "user nobody") != NULL && strstr(err.msg, key_check_want) != NULL)
		return 0;
	fprintf(stderr, "key check: %d: %s\n", rc, err.msg);
	return 1;
}

static void key_access_nobody_probe_attacked(void **state)
{
	(void)state;
	if (geteuid() != 0 || nobody_uid() != NOBODY_UID)
		skip();
	key_check_want = "killed by signal 9";
	int rc = in_pid_ns_with_attacker(NOBODY_UID, SIGKILL, key_check_body);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
	key_check_want = "no answer after 10 s (it was stopped)";
	assert_int_equal(in_pid_ns_with_attacker(NOBODY_UID, SIGSTOP, key_check_body), 0);
}

/* 17.2: texts outside --root (DKIM_SETUP_ASSETS, the build tree): a FIFO
 * or a symlink is refused at once; as root, a directory of another user
 * or a file of another user is not read. */
static void trusted_texts(void **state)
{
	(void)state;
	char top[64], p[PATH_MAX];
	tmpdir_0755(top, sizeof top);
	char *buf;
	size_t len;
	struct dk_err err;
	snprintf(p, sizeof p, "%s/fifo.txt", top);
	assert_int_equal(mkfifo(p, 0644), 0);
	time_t t0 = time(NULL);
	assert_int_equal(fs_read_trusted(p, 8192, &buf, &len, &err), -1);
	assert_true(time(NULL) - t0 < 2);
	assert_non_null(strstr(err.msg, "not a regular file"));
	snprintf(p, sizeof p, "%s/link.txt", top);
	assert_int_equal(symlink("/etc/shadow", p), 0);
	assert_int_equal(fs_read_trusted(p, 8192, &buf, &len, &err), -1);
	snprintf(p, sizeof p, "%s/ok.txt", top);
	FILE *f = fopen(p, "w");
	fputs("text\n", f);
	fclose(f);
	assert_int_equal(fs_read_trusted(p, 8192, &buf, &len, &err), 0);
	assert_string_equal(buf, "text\n");
	free(buf);
	if (geteuid() == 0) {
		assert_int_equal(chown(p, NOBODY_UID, NOBODY_GID), 0);
		assert_int_equal(fs_read_trusted(p, 8192, &buf, &len, &err), -1);
		assert_int_equal(chown(p, 0, 0), 0);
		assert_int_equal(chown(top, NOBODY_UID, NOBODY_GID), 0);
		assert_int_equal(fs_read_trusted(p, 8192, &buf, &len, &err), -1);
		assert_non_null(strstr(err.msg, "belongs to"));
		assert_int_equal(chown(top, 0, 0), 0);
	}
	rm_rf(top);
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
		cmocka_unit_test(root_held_across_swap),
		cmocka_unit_test(root_policy_as_root),
		cmocka_unit_test(group_writable_dir_refused),
		cmocka_unit_test(stale_temp_of_other_owner_removed),
		cmocka_unit_test(json_is_valid_utf8),
		cmocka_unit_test(children_start_clean),
		cmocka_unit_test(stopped_child_times_out),
		cmocka_unit_test(stopped_or_killed_probe_is_no_answer),
		cmocka_unit_test(key_access_nobody_probe_attacked),
		cmocka_unit_test(trusted_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
