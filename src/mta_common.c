/* mta_common.c: what Exim and Postfix share: plans, the diff preview,
 * applying through fsutil with rollback, running checkers, and the real
 * key-access check. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "mta_int.h"
#include "spawn.h"

/* ---- strings ---- */

void sb_addn(struct sbuf *b, const char *text, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, text, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_add(struct sbuf *b, const char *text)
{
	sb_addn(b, text, strlen(text));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		sb_addn(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_addn(b, big, (size_t)n);
	free(big);
}

char *sb_take(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		memset(b, 0, sizeof *b);
		return NULL;
	}
	char *s = b->s != NULL ? b->s : strdup("");
	memset(b, 0, sizeof *b);
	return s;
}

int mta_read(const char *root, const char *path, char **text, struct dk_err *err)
{
	size_t len;
	*text = NULL;
	if (fs_exists(root, path) == 0)
		return 0;
	if (fs_read_file(root, path, MTA_FILE_MAX, text, &len, err) < 0) {
		*text = NULL;
		return errno == ENOENT ? 0 : -1;
	}
	return 0;
}

/* The line starting at p that begins with `marker`, or NULL. */
static const char *find_line(const char *text, const char *marker)
{
	size_t n = strlen(marker);
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, marker, n) == 0)
			return p;
	return NULL;
}

int mta_block_ok(const char *text, const char *path, struct dk_err *err)
{
	int begins = 0, ends = 0;
	bool open_block = false;
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, MTA_BEGIN, strlen(MTA_BEGIN)) == 0) {
			begins++;
			if (open_block)
				break;
			open_block = true;
		} else if (strncmp(p, MTA_END, strlen(MTA_END)) == 0) {
			ends++;
			if (!open_block)
				break;
			open_block = false;
		}
	}
	if (begins > 1 || begins != ends || open_block)
		return dk_fail(err, DK_SYSERR,
			       "%s has a damaged dkim-setup block (%d BEGIN and %d END lines): repair it by "
			       "hand, dkim-setup will not guess which lines are its own", path, begins, ends);
	return 0;
}

char *mta_put_block(const char *old, const char *block)
{
	struct sbuf b = { 0 };
	if (mta_block_ok(old, "", NULL) < 0)
		return NULL;   /* a damaged block: guessing could eat the admin's lines */
	const char *begin = old != NULL ? find_line(old, MTA_BEGIN) : NULL;
	const char *end = begin != NULL ? find_line(begin, MTA_END) : NULL;
	if (begin != NULL && end != NULL) {
		const char *after = strchr(end, '\n');
		after = after != NULL ? after + 1 : end + strlen(end);
		sb_addn(&b, old, (size_t)(begin - old));
		sb_add(&b, block);
		sb_add(&b, after);
	} else {
		if (old != NULL && *old) {
			sb_add(&b, old);
			if (old[strlen(old) - 1] != '\n')
				sb_add(&b, "\n");
			sb_add(&b, "\n");
		}
		sb_add(&b, block);
	}
	return sb_take(&b);
}

int mta_add_change(struct mta_plan *plan, const char *path, char *old_text, char *new_text,
		   mode_t mode, const char *owner, const char *group, bool is_key,
		   struct dk_err *err)
{
	struct mta_change *c = realloc(plan->changes, (plan->n + 1) * sizeof *c);
	if (c == NULL || new_text == NULL) {
		if (c != NULL)
			plan->changes = c;
		if (is_key) {
			keygen_secret_free(old_text, old_text ? strlen(old_text) : 0);
			keygen_secret_free(new_text, new_text ? strlen(new_text) : 0);
		} else {
			free(old_text);
			free(new_text);
		}
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	plan->changes = c;
	c += plan->n++;
	memset(c, 0, sizeof *c);
	snprintf(c->path, sizeof c->path, "%s", path);
	c->old_text = old_text;
	c->new_text = new_text;
	c->mode = mode;
	c->is_key = is_key;
	snprintf(c->owner, sizeof c->owner, "%s", owner ? owner : "");
	snprintf(c->group, sizeof c->group, "%s", group ? group : "");
	return 0;
}

int mta_add_dir(struct mta_plan *plan, const char *path, mode_t mode, const char *owner,
		const char *group, bool enforce)
{
	if (plan->n_dirs >= sizeof plan->dirs / sizeof plan->dirs[0])
		return -1;
	struct mta_dir *d = &plan->dirs[plan->n_dirs++];
	snprintf(d->path, sizeof d->path, "%s", path);
	d->mode = mode;
	snprintf(d->owner, sizeof d->owner, "%s", owner ? owner : "");
	snprintf(d->group, sizeof d->group, "%s", group ? group : "");
	d->enforce = enforce;
	return 0;
}

static int lookup_ids(const char *root, const char *owner, const char *group, uid_t *uid,
		      gid_t *gid, struct dk_err *err)
{
	/* Under --root nothing is chowned: the users may not exist there. */
	if (root[0] != '\0') {
		*uid = FS_KEEP_ID;
		*gid = (gid_t)FS_KEEP_ID;
		return 0;
	}
	*uid = 0;
	*gid = 0;
	if (owner[0] != '\0') {
		struct passwd *pw = getpwnam(owner);
		if (pw == NULL)
			return dk_fail(err, DK_SYSERR, "user %s does not exist (is the package installed?)", owner);
		*uid = pw->pw_uid;
	}
	if (group[0] != '\0') {
		struct group *gr = getgrnam(group);
		if (gr == NULL)
			return dk_fail(err, DK_SYSERR, "group %s does not exist (is the package installed?)", group);
		*gid = gr->gr_gid;
	}
	return 0;
}

bool mta_meta_ok(const char *root, const char *path, mode_t mode, const char *owner,
		 const char *group)
{
	struct stat st;
	if (fs_stat(root, path, &st) < 0)
		return false;
	if ((st.st_mode & 07777) != mode)
		return false;
	if (root[0] != '\0')
		return true;
	uid_t uid;
	gid_t gid;
	if (lookup_ids(root, owner, group, &uid, &gid, NULL) < 0)
		return false;
	return st.st_uid == uid && st.st_gid == gid;
}

/* ---- the diff preview: LCS over the lines that differ ---- */

struct lines {
	const char **at;
	size_t *len;
	size_t n;
};

static int split_lines(const char *text, struct lines *l)
{
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == '\n';
	l->at = malloc(cap * sizeof *l->at);
	l->len = malloc(cap * sizeof *l->len);
	l->n = 0;
	if (l->at == NULL || l->len == NULL)
		return -1;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		l->at[l->n] = p;
		l->len[l->n++] = n;
		p += n + (nl != NULL);
	}
	return 0;
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

/* ops: ' ' both, '-' only in a, '+' only in b, in order. */
static char *edit_script(const struct lines *a, const struct lines *b, size_t *nops)
{
	size_t p = 0, s = 0;
	while (p < a->n && p < b->n && line_eq(a, p, b, p))
		p++;
	while (s < a->n - p && s < b->n - p && line_eq(a, a->n - 1 - s, b, b->n - 1 - s))
		s++;
	size_t n = a->n - p - s, m = b->n - p - s;
	char *ops = malloc(a->n + b->n + 1);
	if (ops == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < p; i++)
		ops[k++] = ' ';
	unsigned *dp = NULL;
	if (n > 0 && m > 0 && n * m <= 4000000)
		dp = calloc((n + 1) * (m + 1), sizeof *dp);
	if (dp != NULL) {
		/* dp[i][j]: LCS length of a[p+i..] and b[p+j..] */
		for (size_t i = n; i-- > 0;)
			for (size_t j = m; j-- > 0;)
				dp[i * (m + 1) + j] = line_eq(a, p + i, b, p + j)
							      ? dp[(i + 1) * (m + 1) + j + 1] + 1
							      : (dp[(i + 1) * (m + 1) + j] > dp[i * (m + 1) + j + 1]
									 ? dp[(i + 1) * (m + 1) + j]
									 : dp[i * (m + 1) + j + 1]);
		size_t i = 0, j = 0;
		while (i < n && j < m) {
			if (line_eq(a, p + i, b, p + j)) {
				ops[k++] = ' ';
				i++, j++;
			} else if (dp[(i + 1) * (m + 1) + j] >= dp[i * (m + 1) + j + 1]) {
				ops[k++] = '-';
				i++;
			} else {
				ops[k++] = '+';
				j++;
			}
		}
		for (; i < n; i++)
			ops[k++] = '-';
		for (; j < m; j++)
			ops[k++] = '+';
		free(dp);
	} else {
		for (size_t i = 0; i < n; i++)
			ops[k++] = '-';
		for (size_t j = 0; j < m; j++)
			ops[k++] = '+';
	}
	for (size_t i = 0; i < s; i++)
		ops[k++] = ' ';
	*nops = k;
	return ops;
}

static void unified(struct sbuf *out, const char *path, const char *old, const char *new_text)
{
	struct lines a = { 0 }, b = { 0 };
	size_t nops = 0;
	char *ops = NULL;
	if (split_lines(old ? old : "", &a) < 0 || split_lines(new_text, &b) < 0 ||
	    (ops = edit_script(&a, &b, &nops)) == NULL) {
		out->oom = true;
		goto done;
	}
	sb_printf(out, "--- %s%s\n+++ %s\n", old ? "a" : "/dev/null", old ? path : "", path);
	const size_t ctx = 3;
	size_t k = 0;
	while (k < nops) {
		while (k < nops && ops[k] == ' ')
			k++;
		if (k == nops)
			break;
		/* A hunk: from ctx before this change to ctx after the last change
		 * that is at most 2*ctx unchanged lines away. */
		size_t start = k > ctx ? k - ctx : 0, end = k;
		for (size_t q = k; q < nops; q++) {
			if (ops[q] != ' ')
				end = q + 1;
			else if (q - end >= 2 * ctx)
				break;
		}
		size_t stop = end + ctx < nops ? end + ctx : nops;
		size_t ai = 0, bi = 0;
		for (size_t q = 0; q < start; q++) {
			ai += ops[q] != '+';
			bi += ops[q] != '-';
		}
		size_t ac = 0, bc = 0;
		for (size_t q = start; q < stop; q++) {
			ac += ops[q] != '+';
			bc += ops[q] != '-';
		}
		sb_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? ai + 1 : ai, ac, bc ? bi + 1 : bi, bc);
		for (size_t q = start; q < stop; q++) {
			const struct lines *l = ops[q] == '+' ? &b : &a;
			size_t idx = ops[q] == '+' ? bi : ai;
			sb_printf(out, "%c%.*s\n", ops[q], (int)l->len[idx], l->at[idx]);
			ai += ops[q] != '+';
			bi += ops[q] != '-';
		}
		k = stop;
	}
done:
	free(ops);
	free(a.at);
	free(a.len);
	free(b.at);
	free(b.len);
}

int mta_finish_plan(const char *root, struct mta_plan *plan, struct dk_err *err)
{
	struct sbuf d = { 0 };
	bool same = true;
	for (size_t i = 0; i < plan->n_dirs; i++) {
		struct mta_dir *dir = &plan->dirs[i];
		struct stat st;
		if (fs_stat(root, dir->path, &st) < 0) {
			sb_printf(&d, "# new directory %s (mode %04o, %s:%s)\n", dir->path,
				  (unsigned)dir->mode, dir->owner[0] ? dir->owner : "root",
				  dir->group[0] ? dir->group : "root");
			same = false;
		} else if (dir->enforce && !mta_meta_ok(root, dir->path, dir->mode, dir->owner, dir->group)) {
			sb_printf(&d, "# directory %s gets mode %04o, owner %s:%s\n", dir->path,
				  (unsigned)dir->mode, dir->owner[0] ? dir->owner : "root",
				  dir->group[0] ? dir->group : "root");
			same = false;
		}
	}
	for (size_t i = 0; i < plan->n; i++) {
		struct mta_change *c = &plan->changes[i];
		bool text_same = c->old_text != NULL && strcmp(c->old_text, c->new_text) == 0;
		bool meta_same = c->old_text != NULL &&
				 (c->is_key ? mta_meta_ok(root, c->path, c->mode, c->owner, c->group) : true);
		if (text_same && meta_same)
			continue;
		same = false;
		if (c->is_key) {
			/* Never show key material, not even in a preview. */
			sb_printf(&d, "# %s %s (private key copy, mode %04o, %s:%s; contents not shown)\n",
				  c->old_text == NULL ? "new file" : text_same ? "fix mode/owner of" : "replace",
				  c->path, (unsigned)c->mode, c->owner[0] ? c->owner : "root",
				  c->group[0] ? c->group : "root");
			continue;
		}
		unified(&d, c->path, c->old_text, c->new_text);
	}
	if (plan->regenerate) {
		sb_add(&d, "# the running Exim configuration lacks these settings: update-exim4.conf regenerates it\n");
		same = false;
	}
	plan->nothing_to_do = same;
	plan->diff = sb_take(&d);
	if (plan->diff == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	return 0;
}

/* ---- running the MTA's own tools ---- */

int mta_run(const char *const argv[], char *out, size_t outlen)
{
	struct spawn_result res;
	int rc = spawn_run(argv, out, outlen, SPAWN_TIMEOUT_MS, &res);
	if (rc >= 0)
		return rc;
	/* The reason goes where callers look for the tool's own words. */
	if (out != NULL && outlen > 0) {
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s(%s: %s)", used > 0 ? " " : "", argv[0], res.why);
	}
	return res.end == SPAWN_SIGNALED ? 128 + res.sig : res.end == SPAWN_TIMEOUT ? 124 : -1;
}

int mta_master_key(const struct mta_request *req, const char *master, enum dk_alg want, char **pem,
		   size_t *len, struct dk_err *err)
{
	*pem = NULL;
	*len = 0;
	if (req->dry_run && fs_exists(req->root, master) == 0) {
		static const char standin[] = "(dry run: the key that would be made)\n";
		if ((*pem = strdup(standin)) == NULL)
			return dk_fail_errno(err, DK_SYSERR, ENOMEM, "key copy");
		*len = sizeof standin - 1;
		return 0;
	}
	if (fs_read_file(req->root, master, 1u << 16, pem, len, err) < 0)
		return -1;
	EVP_PKEY *k = NULL;
	enum dk_alg alg;
	int bits;
	int rc = -1;
	if (keygen_load_private(*pem, *len, &k, err) == 0 && keygen_describe(k, &alg, &bits, err) == 0) {
		if (alg == want)
			rc = 0;
		else
			dk_fail(err, DK_USAGE, "%s is not an %s key", master, keygen_alg_name(want));
	}
	EVP_PKEY_free(k);
	if (rc < 0) {
		keygen_secret_free(*pem, *len);
		*pem = NULL;
		*len = 0;
	}
	return rc;
}

/* One copy against the master's p= value. */
static void compare_copy(const char *root, struct mta_copy *c, const char *p)
{
	char *pem = NULL, *cp = NULL;
	size_t len = 0;
	EVP_PKEY *k = NULL;
	struct dk_err e;
	dk_err_clear(&e);
	if (fs_read_file(root, c->path, 1u << 16, &pem, &len, &e) < 0) {
		c->state = MTA_COPY_UNREADABLE;
		snprintf(c->detail, sizeof c->detail, "cannot be read%s: %s",
			 geteuid() != 0 ? " as this user (run check with sudo to compare it)" : "", e.msg);
		return;
	}
	if (keygen_load_private(pem, len, &k, &e) < 0 || keygen_p_value(k, &cp, &e) < 0) {
		c->state = MTA_COPY_DIFFERENT;
		snprintf(c->detail, sizeof c->detail, "not a key this tool can read: %s", e.msg);
	} else if (strcmp(cp, p) != 0) {
		c->state = MTA_COPY_DIFFERENT;
		snprintf(c->detail, sizeof c->detail, "a different key than the master: the mail server "
			 "signs with a key that does not match the record");
	} else {
		c->state = MTA_COPY_SAME;
	}
	free(cp);
	EVP_PKEY_free(k);
	keygen_secret_free(pem, len);
}

int mta_compare_copies(const char *root, const char *domain, const char *selector, const char *p,
		       struct mta_copy *out, int max)
{
	char paths[2][PATH_MAX];
	snprintf(paths[0], sizeof paths[0], EXIM_COPY_FMT, domain, selector);
	snprintf(paths[1], sizeof paths[1], OPENDKIM_COPY_FMT, domain, selector);
	int n = 0;
	for (size_t i = 0; i < 2 && n < max; i++) {
		struct mta_copy *c = &out[n];
		memset(c, 0, sizeof *c);
		snprintf(c->path, sizeof c->path, "%s", paths[i]);
		int there = fs_exists(root, c->path);
		if (there == 1) {
			compare_copy(root, c, p);
		} else if (there < 0 && errno == EACCES) {
			/* a key directory this user cannot search */
			c->state = MTA_COPY_UNREADABLE;
			snprintf(c->detail, sizeof c->detail, "cannot be looked at as this user (run check "
				 "with sudo to compare it)");
		} else {
			/* absent, or in a directory dkim-setup does not manage (Debian's
			 * own /etc/dkimkeys belongs to opendkim until our first copy) */
			continue;
		}
		n++;
	}
	return n;
}

const char *mta_no_reload_reason(const struct mta_request *req)
{
	if (req->root[0] != '\0')
		return "this is a sandbox (--root)";
	if (req->dry_run)
		return "this is a dry run";
	if (!mta_have_systemd(req->root))
		return "systemd is not running here";
	return NULL;
}

bool mta_have_systemd(const char *root)
{
	/* sd_booted(): systemd is PID 1 when this directory exists. */
	struct stat st;
	return root[0] == '\0' && lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int mta_check_key_access(const char *root, const char *path, const char *user, char *what,
			 size_t whatlen, struct dk_err *err)
{
	char full[PATH_MAX];
	if (fs_join(root, path, full, sizeof full) < 0)
		return dk_fail(err, DK_SYSERR, "path too long");
	struct stat st;
	if (fs_stat(root, path, &st) < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "%s", path);
	if (st.st_mode & 0007)
		return dk_fail(err, DK_SYSERR, "%s is readable or writable by every user (mode %04o)", path,
			       (unsigned)(st.st_mode & 07777));
	if (root[0] != '\0') {
		snprintf(what, whatlen, "%s: mode %04o (owners not checked under --root)", path,
			 (unsigned)(st.st_mode & 07777));
		return 0;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return dk_fail(err, DK_SYSERR, "user %s does not exist", user);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	struct spawn_result res;
	int e = spawn_probe_open(full, uid, gid, SPAWN_PROBE_TIMEOUT_MS, &res);
	if (e < 0)
		return dk_fail(err, DK_SYSERR, "could not test whether %s can open %s: %s", user, path, res.why);
	if (e != 0)
		return dk_fail(err, DK_SYSERR, "%s cannot open %s (%s): it would sign nothing", user, path,
			       strerror(e));
	/* Somebody else: "nobody", as an ordinary local user would be. */
	struct passwd *nb = getpwnam("nobody");
	uid_t nuid = nb != NULL ? nb->pw_uid : 65534;
	gid_t ngid = nb != NULL ? nb->pw_gid : 65534;
	e = spawn_probe_open(full, nuid, ngid, SPAWN_PROBE_TIMEOUT_MS, &res);
	if (e < 0)
		return dk_fail(err, DK_SYSERR, "could not test whether user nobody can open %s: %s", path,
			       res.why);
	if (e == 0)
		return dk_fail(err, DK_SYSERR, "%s can be opened by user nobody: too open", path);
	/* The file's group must hold nobody but the signer (and root). */
	struct group *gr = getgrgid(st.st_gid);
	if ((st.st_mode & 0040) && gr != NULL)
		for (char **m = gr->gr_mem; *m != NULL; m++)
			if (strcmp(*m, user) != 0 && strcmp(*m, "root") != 0)
				return dk_fail(err, DK_SYSERR, "%s is readable by group %s, which also has member %s",
					       path, gr->gr_name, *m);
	snprintf(what, whatlen, "%s: user %s can open it; user nobody cannot (%s)", path, user,
		 strerror(e));
	return 0;
}

int mta_check_safe_key(const char *root, const char *path, const char *user, struct dk_err *err)
{
	struct stat st;
	if (fs_stat(root, path, &st) < 0)
		return dk_fail(err, DK_SYSERR, "%s is missing", path);
	if (st.st_mode & 0006)
		return dk_fail(err, DK_SYSERR, "OpenDKIM refuses %s: other users can read or write it", path);
	if (root[0] != '\0')
		return 0;
	struct passwd *pw = getpwnam(user);
	if (st.st_uid != 0 && (pw == NULL || st.st_uid != pw->pw_uid))
		return dk_fail(err, DK_SYSERR, "OpenDKIM refuses %s: owned by neither root nor %s", path, user);
	if (st.st_mode & 0060) {
		struct group *gr = getgrgid(st.st_gid);
		if (gr != NULL && gr->gr_mem[0] != NULL)
			return dk_fail(err, DK_SYSERR,
				       "OpenDKIM refuses %s: its group %s has members (RequireSafeKeys)", path,
				       gr->gr_name);
	}
	return 0;
}

/* ---- the contract ---- */

int mta_detect(const char *root, enum dk_mta want, struct mta_info *info, struct dk_err *err)
{
	memset(info, 0, sizeof *info);
	if (want == MTA_NONE) {
		info->kind = MTA_NONE;
		snprintf(info->summary, sizeof info->summary, "no MTA to configure (--mta none)");
		return 0;
	}
	if (want == MTA_AUTO) {
		/* The MTA whose program is installed; its config files alone can
		 * be leftovers (exim4-config stays when postfix replaces exim). */
		bool exim = fs_exists(root, "/usr/sbin/exim4") == 1 || fs_exists(root, "/usr/sbin/exim") == 1;
		bool postfix = fs_exists(root, "/usr/sbin/postfix") == 1;
		if (exim == postfix) {
			exim = fs_exists(root, "/etc/exim4/update-exim4.conf.conf") == 1 ||
			       fs_exists(root, "/etc/exim/exim.conf") == 1;
			postfix = fs_exists(root, "/etc/postfix/main.cf") == 1;
		}
		if (postfix && !exim)
			want = MTA_POSTFIX;
		else if (exim && !postfix)
			want = MTA_EXIM;
		else {
			info->kind = MTA_NONE;
			snprintf(info->summary, sizeof info->summary,
				 exim ? "both Exim and Postfix found: choose one with --mta"
				      : "no mail server found (Exim or Postfix)");
			return 0;
		}
	}
	info->kind = want;
	return want == MTA_EXIM ? mta_exim_detect(root, info, err) : mta_postfix_detect(root, info, err);
}

int mta_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	memset(plan, 0, sizeof *plan);
	if (mta_detect(req->root, req->mta, &plan->info, err) < 0)
		return -1;
	if (plan->info.kind == MTA_NONE)
		return dk_fail(err, DK_USAGE, "%s", plan->info.summary);
	if (!plan->info.can_sign)
		return dk_fail(err, DK_SYSERR, "%s", plan->info.warning);
	int rc = plan->info.kind == MTA_EXIM ? mta_exim_plan(req, plan, err) : mta_postfix_plan(req, plan, err);
	if (rc == 0)
		rc = mta_finish_plan(req->root, plan, err);
	if (rc < 0) {
		struct mta_info keep = plan->info;
		mta_plan_clear(plan);
		plan->info = keep;
	}
	return rc;
}

/* A plan directory as it was before apply. */
struct dir_before {
	bool touched;     /* apply got as far as this one */
	bool existed;
	struct stat st;
};

/* Undo what apply wrote, newest first: files, then the directories it
 * created (when empty again) or whose owner and mode it changed. */
static void rollback(const struct mta_request *req, struct mta_plan *plan, bool *written,
		     char (*backup)[PATH_MAX], const struct dir_before *dirs, struct mta_result *res)
{
	struct dk_err e2;
	for (size_t i = plan->n; i-- > 0;) {
		if (!written[i])
			continue;
		if (backup[i][0] != '\0')
			fs_restore(req->root, plan->changes[i].path, backup[i], &e2);
		else
			fs_remove(req->root, plan->changes[i].path, &e2);
	}
	for (size_t i = plan->n_dirs; i-- > 0;) {
		const struct mta_dir *d = &plan->dirs[i];
		if (!dirs[i].touched)
			continue;
		if (!dirs[i].existed)
			fs_remove_dir(req->root, d->path, &e2);
		else if (d->enforce)
			/* the old owner may be the signer's user, which fs_mkdir
			 * then reports as unsafe: that is how it was */
			fs_mkdir(req->root, d->path, dirs[i].st.st_mode & 07777, dirs[i].st.st_uid,
				 dirs[i].st.st_gid, FS_ENFORCE, &e2);
	}
	res->rolled_back = true;
}

int mta_apply(const struct mta_request *req, struct mta_plan *plan, struct mta_result *res,
	      struct dk_err *err)
{
	memset(res, 0, sizeof *res);
	if (req->dry_run)
		return 0;
	unsigned flags = FS_REPLACE | FS_BACKUP;
	bool *written = calloc(plan->n + 1, sizeof *written);
	char (*backup)[PATH_MAX] = calloc(plan->n + 1, sizeof *backup);
	struct dir_before dirs[sizeof plan->dirs / sizeof plan->dirs[0]];
	memset(dirs, 0, sizeof dirs);
	if (written == NULL || backup == NULL) {
		free(written);
		free(backup);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; i < plan->n_dirs && rc == 0; i++) {
		struct mta_dir *d = &plan->dirs[i];
		uid_t uid;
		gid_t gid;
		dirs[i].touched = true;
		dirs[i].existed = fs_stat(req->root, d->path, &dirs[i].st) == 0 && S_ISDIR(dirs[i].st.st_mode);
		if (lookup_ids(req->root, d->owner, d->group, &uid, &gid, err) < 0 ||
		    fs_mkdir(req->root, d->path, d->mode, uid, gid, d->enforce ? FS_ENFORCE : 0, err) < 0)
			rc = -1;
	}
	for (size_t i = 0; i < plan->n && rc == 0; i++) {
		struct mta_change *c = &plan->changes[i];
		struct fs_write w = {
			.root = req->root, .path = c->path, .data = c->new_text,
			.len = strlen(c->new_text), .mode = c->mode, .flags = flags,
		};
		if (lookup_ids(req->root, c->owner, c->group, &w.uid, &w.gid, err) < 0) {
			rc = -1;
			break;
		}
		if (fs_write_file(&w, err) < 0) {
			rc = -1;
			break;
		}
		if (w.unchanged)
			continue;
		written[i] = true;
		res->applied = true;
		snprintf(backup[i], PATH_MAX, "%s", w.backup);
		if (w.backup[0] != '\0' && res->n_backups < sizeof res->backups / sizeof res->backups[0])
			snprintf(res->backups[res->n_backups++], PATH_MAX, "%s", w.backup);
	}
	if (rc == 0) {
		rc = plan->info.kind == MTA_EXIM ? mta_exim_validate(req, plan, res, err)
						 : mta_postfix_validate(req, plan, res, err);
		res->validated = rc == 0;
	}
	if (rc == 0 && plan->info.kind == MTA_EXIM && (res->applied || plan->regenerate)) {
		rc = mta_exim_activate(req, plan, err);
		res->applied = res->applied || (rc == 0 && req->root[0] == '\0');
	}
	if (rc == 0 && plan->info.kind == MTA_POSTFIX)
		rc = mta_postfix_activate(req, plan, err);
	if (rc < 0)
		rollback(req, plan, written, backup, dirs, res);
	free(written);
	free(backup);
	return rc;
}

static int service_active(const char *unit)
{
	const char *const argv[] = { "/usr/bin/systemctl", "is-active", "--quiet", unit, NULL };
	return mta_run(argv, NULL, 0) == 0;
}

int mta_reload(const struct mta_request *req, const struct mta_plan *plan, char *what,
	       size_t whatlen, struct dk_err *err)
{
	/* systemctl verb + unit, in order; "daemon-reload" and "enable" have no
	 * service of their own to test for "running". */
	const char *steps[6][2];
	int n = 0;
	if (plan->info.kind == MTA_EXIM) {
		steps[n][0] = "reload", steps[n++][1] = "exim4";
	} else if (plan->info.kind == MTA_POSTFIX) {
		if (plan->ed25519) {
			steps[n][0] = "daemon-reload", steps[n++][1] = NULL;
			steps[n][0] = "enable", steps[n++][1] = "opendkim-ed25519";
		}
		/* OpenDKIM reads its KeyTable and Socket only when it starts. */
		steps[n][0] = "restart", steps[n++][1] = "opendkim";
		if (plan->ed25519)
			steps[n][0] = "restart", steps[n++][1] = "opendkim-ed25519";
		steps[n][0] = "reload", steps[n++][1] = "postfix";
	} else {
		snprintf(what, whatlen, "nothing to reload");
		return 0;
	}
	const char *why = mta_no_reload_reason(req);
	if (why != NULL) {
		snprintf(what, whatlen, "%s, so not reloading; to make it take effect run: %s", why,
			 plan->reload_cmd);
		return 0;
	}
	struct sbuf done = { 0 };
	bool signer_running = plan->info.kind != MTA_POSTFIX || service_active("opendkim");
	for (int i = 0; i < n; i++) {
		const char *verb = steps[i][0], *unit = steps[i][1];
		/* batch: leave stopped services stopped; the Ed25519 filter follows
		 * the RSA one */
		const char *probe = unit != NULL && strcmp(unit, "opendkim-ed25519") == 0 ? NULL : unit;
		if (req->reload_if_running && (probe != NULL ? !service_active(probe) : !signer_running)) {
			if (unit != NULL)
				sb_printf(&done, "%s%s is not running: left alone", done.len ? "; " : "", unit);
			continue;
		}
		char out[512];
		const char *const argv[] = { "/usr/bin/systemctl", verb, unit, NULL };
		int rc = mta_run(argv, out, sizeof out);
		if (rc != 0) {
			char pr[200];
			free(sb_take(&done));
			return dk_fail(err, DK_SYSERR, "systemctl %s %s failed: %s", verb, unit ? unit : "",
				       dk_printable(out, pr, sizeof pr));
		}
		sb_printf(&done, "%ssystemctl %s%s%s: done", done.len ? "; " : "", verb, unit ? " " : "",
			  unit ? unit : "");
	}
	char *s = sb_take(&done);
	snprintf(what, whatlen, "%s", s != NULL ? s : "");
	free(s);
	return 0;
}

void mta_configured_selectors(const char *root, const struct mta_info *info, const char *domain,
			      char *out, size_t outlen)
{
	out[0] = '\0';
	if (info->kind == MTA_EXIM && info->flavor != MTA_FL_EXIM_PLAIN)
		mta_exim_selectors(root, info, domain, out, outlen);
	else if (info->kind == MTA_POSTFIX)
		mta_postfix_selectors(root, domain, out, outlen);
}

void mta_plan_clear(struct mta_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		struct mta_change *c = &plan->changes[i];
		if (c->is_key) {
			keygen_secret_free(c->old_text, c->old_text ? strlen(c->old_text) : 0);
			keygen_secret_free(c->new_text, c->new_text ? strlen(c->new_text) : 0);
		} else {
			free(c->old_text);
			free(c->new_text);
		}
	}
	free(plan->changes);
	free(plan->diff);
	free(plan->explain);
	memset(plan, 0, sizeof *plan);
}
