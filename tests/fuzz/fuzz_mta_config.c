/* fuzz_mta_config.c: the config files the MTA step reads and rewrites
 * (Debian exim4 update-exim4.conf.conf and local macros, postfix main.cf,
 * opendkim.conf, the key and signing tables, /etc/default/opendkim, postfix
 * master.cf), any
 * bytes in each.
 *
 * Byte 0: bit 0 Exim or Postfix+OpenDKIM; the rest, split at NUL bytes, is
 * the contents of the files in the order of files[] below (a missing part:
 * the file does not exist). The files live in a --root sandbox made once,
 * with an RSA key already in /etc/ssl/private. Invariants:
 *  - mta_put_block() refuses a damaged block, or is idempotent: putting the
 *    block twice gives what putting it once gave (a re-run never
 *    duplicates or eats text);
 *  - mta_plan() either refuses with a one-line reason, or plans changes;
 *    planning again over its own output gives the same texts (re-runs are
 *    stable: nothing duplicated, nothing lost).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "mta.h"
#include "signer_util.h"
#include "setup.h"

static char root[512];   /* $TMPDIR/fuzz_mta.XXXXXX (run.sh: build/fuzz/tmp) */
static bool ready;

static const char *const exim_files[] = {
	"/etc/exim4/update-exim4.conf.conf", "/etc/exim4/exim4.conf.localmacros",
	"/etc/exim4/conf.d/main/000_localmacros", NULL,
};
static const char *const postfix_files[] = {
	"/etc/postfix/main.cf", "/etc/opendkim.conf", "/etc/opendkim/key.table",
	"/etc/opendkim/signing.table", "/etc/default/opendkim", "/etc/postfix/master.cf", NULL,
};

/* The directories above a planned file that the sandbox lacks (the plan
 * may add files in a new directory, e.g. Exim's /etc/exim4/dkim/domains). */
static void make_parents(const char *full)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s", full);
	for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		FUZZ_ASSERT(mkdir(dir, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
}

static void put(const char *path, const char *text, size_t len, mode_t mode)
{
	char full[512];
	snprintf(full, sizeof full, "%s%s", root, path);
	unlink(full);
	if (text == NULL)
		return;
	make_parents(full);
	int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, text, len) == (ssize_t)len);
	close(fd);
}

static void rm_tree(void)
{
	/* Only our own mkdtemp directory, a fixed argv: no untrusted text. */
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", root, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
}

static void setup_root(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof root, "%s/fuzz_mta.XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	FUZZ_ASSERT(mkdtemp(root) != NULL);
	atexit(rm_tree);
	static const char *const dirs[] = {
		"/etc", "/etc/ssl", "/etc/ssl/private", "/etc/ssl/certs", "/usr", "/usr/sbin",
		"/etc/exim4", "/etc/exim4/conf.d", "/etc/exim4/conf.d/main", "/etc/postfix",
		"/etc/opendkim", "/etc/default", NULL,
	};
	char full[512];
	for (int i = 0; dirs[i] != NULL; i++) {
		snprintf(full, sizeof full, "%s%s", root, dirs[i]);
		FUZZ_ASSERT(mkdir(full, 0755) == 0);
	}
	static const char sh[] = "#!/bin/sh\nexit 0\n";
	put("/usr/sbin/exim4", sh, sizeof sh - 1, 0755);
	put("/usr/sbin/postfix", sh, sizeof sh - 1, 0755);
	put("/usr/sbin/opendkim", sh, sizeof sh - 1, 0755);
	struct dk_keyjob job;
	struct dk_err err;
	memset(&job, 0, sizeof job);
	job.root = root;
	snprintf(job.domain, sizeof job.domain, "example.com");
	snprintf(job.selector, sizeof job.selector, "s1");
	job.alg = DK_ALG_RSA;
	job.bits = 1024;
	FUZZ_ASSERT(setup_make_key(&job, &err) == 0);
	setup_keyjob_clear(&job);
	ready = true;
}

static void fuzz_put_block(const char *old)
{
	static const char block[] = MTA_BEGIN "\nDKIM_CANON = relaxed\n" MTA_END "\n";
	char *once = mta_put_block(old, block);
	if (once == NULL) {   /* refused: a damaged block (mta_block_ok) */
		FUZZ_ASSERT(mta_block_ok(old, "", NULL) < 0);
		return;
	}
	FUZZ_ASSERT(strstr(once, block) != NULL);
	char *twice = mta_put_block(once, block);
	FUZZ_ASSERT(twice != NULL);
	FUZZ_ASSERT(strcmp(once, twice) == 0);
	free(once);
	free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (!ready)
		setup_root();
	bool exim = !(data[0] & 1);
	const char *const *files = exim ? exim_files : postfix_files;
	/* Parts at NUL bytes; part i is files[i]. */
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	char *first = NULL;
	for (int i = 0; files[i] != NULL; i++) {
		if (p > end) {
			put(files[i], NULL, 0, 0644);
			continue;
		}
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
		put(files[i], p, len, 0644);
		if (i == 1)
			first = strndup(p, len);
		p += len + 1;
	}
	fuzz_put_block(first != NULL ? first : "");
	free(first);

	struct mta_request req = {
		.root = root, .domain = "example.com", .selector = "s1",
		.priv_path = DK_PRIV_DIR "/example.com-s1-private.pem",
		.mta = exim ? "exim" : "postfix",
	};
	struct mta_plan plan;
	struct dk_err err;
	dk_err_clear(&err);
	memset(&plan, 0, sizeof plan);
	int rc = mta_plan(&req, &plan, &err);
	if (rc < 0) {
		FUZZ_ASSERT(err.msg[0] != '\0');
		FUZZ_ASSERT(strchr(err.msg, '\n') == NULL);   /* one line (bytes past the NUL are not the message) */
		mta_plan_clear(&plan);
		return 0;
	}
	/* Write the planned config texts, plan again: the same texts. */
	for (size_t i = 0; i < plan.n; i++) {
		const struct mta_change *c = &plan.changes[i];
		if (c->is_key || c->new_text == NULL)
			continue;
		put(c->path, c->new_text, strlen(c->new_text), 0644);
	}
	struct mta_plan again;
	memset(&again, 0, sizeof again);
	dk_err_clear(&err);
	if (mta_plan(&req, &again, &err) == 0) {
		for (size_t i = 0; i < plan.n; i++) {
			const struct mta_change *c = &plan.changes[i];
			if (c->is_key || c->new_text == NULL)
				continue;
			for (size_t j = 0; j < again.n; j++)
				if (strcmp(again.changes[j].path, c->path) == 0 && again.changes[j].new_text != NULL)
					FUZZ_ASSERT(strcmp(again.changes[j].new_text, c->new_text) == 0);
		}
	}
	mta_plan_clear(&again);
	mta_plan_clear(&plan);
	return 0;
}
