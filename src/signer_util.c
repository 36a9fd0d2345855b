/* signer_util.c: what the signers share: plans and the diff preview,
 * config blocks, reading files, running checkers, and the real key-access
 * check. Imports no signer. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "signer_util.h"
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
		const char *group, bool enforce, struct dk_err *err)
{
	struct mta_dir *d = realloc(plan->dirs, (plan->n_dirs + 1) * sizeof *d);
	if (d == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	plan->dirs = d;
	d += plan->n_dirs++;
	memset(d, 0, sizeof *d);
	snprintf(d->path, sizeof d->path, "%s", path);
	d->mode = mode;
	snprintf(d->owner, sizeof d->owner, "%s", owner ? owner : "");
	snprintf(d->group, sizeof d->group, "%s", group ? group : "");
	d->enforce = enforce;
	return 0;
}

int mta_lookup_ids(const char *root, const char *owner, const char *group, uid_t *uid,
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
	if (mta_lookup_ids(root, owner, group, &uid, &gid, NULL) < 0)
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
	if (fs_read_file(req->root, master, KEYGEN_FILE_MAX, pem, len, err) < 0)
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
void mta_compare_copy(const char *root, struct mta_copy *c, const char *p)
{
	char *pem = NULL, *cp = NULL;
	size_t len = 0;
	EVP_PKEY *k = NULL;
	struct dk_err e;
	dk_err_clear(&e);
	if (fs_read_file(root, c->path, KEYGEN_FILE_MAX, &pem, &len, &e) < 0) {
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

int mta_add_key_copy(const struct mta_request *req, struct mta_plan *plan, const char *master,
		     const char *copy, enum dk_alg want, const char *owner, const char *group,
		     mode_t mode, bool read_old, struct dk_err *err)
{
	char *pem = NULL, *old = NULL;
	size_t len;
	if (mta_master_key(req, master, want, &pem, &len, err) < 0)
		return -1;
	if (read_old && mta_read(req->root, copy, &old, err) < 0) {
		keygen_secret_free(pem, len);
		return -1;
	}
	return mta_add_change(plan, copy, old, pem, mode, owner, group, true, err);
}

void mta_tail_line(const char *out, char *dst, size_t dstlen)
{
	char pr[400];
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	size_t start = n;
	while (start > 0 && out[start - 1] != '\n')
		start--;
	char line[400];
	snprintf(line, sizeof line, "%.*s", (int)(n - start), out + start);
	snprintf(dst, dstlen, "%s", dk_printable(line, pr, sizeof pr));
}

int mta_domlist_put(struct mta_domlist *l, const char *domain, const char *sels, const char *file,
		    struct dk_err *err)
{
	size_t i;
	for (i = 0; i < l->n && strcmp(l->d[i].domain, domain) != 0; i++)
		;
	if (strlen(domain) > DK_DOMAIN_MAX || strlen(sels) >= sizeof l->d[0].sels)
		return dk_fail(err, DK_SYSERR, "an entry for %.80s in %s is longer than a domain and two "
			       "selectors can be", domain, file);
	if (i == l->n) {
		struct mta_dom *d = realloc(l->d, (l->n + 1) * sizeof *d);
		if (d == NULL)
			return dk_fail(err, DK_SYSERR, "out of memory");
		l->d = d;
		l->n++;
	}
	snprintf(l->d[i].domain, sizeof l->d[i].domain, "%s", domain);
	snprintf(l->d[i].sels, sizeof l->d[i].sels, "%s", sels);
	return 0;
}

bool mta_domlist_keep(const struct mta_request *req, const struct mta_domlist *l, bool rsa_last,
		      struct mta_plan *plan, char *note, size_t notelen)
{
	note[0] = '\0';
	if (!req->defer_switch)
		return false;
	const struct mta_dom *d = NULL;
	for (size_t i = 0; i < l->n && d == NULL; i++)
		if (strcmp(l->d[i].domain, req->domain) == 0)
			d = &l->d[i];
	if (d == NULL)
		return false;
	/* the selectors it signs with now, as words ("ed : rsa" or "rsa ed") */
	char words[sizeof d->sels], *save = NULL, *cur = NULL;
	snprintf(words, sizeof words, "%s", d->sels);
	for (char *w = strtok_r(words, " \t:", &save); w != NULL; w = strtok_r(NULL, " \t:", &save)) {
		if (strcmp(w, req->selector) == 0)
			return false;      /* it signs with the new one already: nothing to keep */
		if (cur == NULL || rsa_last)
			cur = w;
	}
	if (cur == NULL)
		return false;
	snprintf(plan->kept_selector, sizeof plan->kept_selector, "%s", cur);
	snprintf(note, notelen, "%s already signs with selector %s, and DNS does not serve the record of "
		 "%s yet: %s keeps signing (the key of %s is installed beside it). Once every "
		 "authoritative server serves %s._domainkey.%s, switch with: dkim-setup --batch -d %s -s %s "
		 "--wait 600. ", req->domain, cur, req->selector, cur, req->selector, req->selector,
		 req->domain, req->domain, req->selector);
	return true;
}

int mta_check_plan_keys(const struct mta_request *req, const struct mta_plan *plan, const char *user,
			struct mta_result *res, struct dk_err *err)
{
	struct sbuf acc = { 0 };
	for (size_t i = 0; i < plan->n; i++) {
		char what[400];
		if (!plan->changes[i].is_key)
			continue;
		if (mta_check_key_access(req->root, plan->changes[i].path, user, what, sizeof what, err) < 0) {
			free(sb_take(&acc));
			return -1;
		}
		sb_printf(&acc, "%s%s", acc.len ? "; " : "", what);
	}
	char *a = sb_take(&acc);
	snprintf(res->key_access, sizeof res->key_access, "%s", a ? a : "");
	free(a);
	return 0;
}

/* ---- secrets out of everything shown ---- */

static bool word_ch(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* After a word that names a secret at s: the length of what precedes the
 * value (blanks, '=' or ':') into *pre and the value's length; 0 if none. */
static size_t secret_value(const char *s, size_t *pre)
{
	static const char *const words[] = { "password", "passwd", "secret", "pass", NULL };
	for (size_t w = 0; words[w] != NULL; w++) {
		size_t n = strlen(words[w]);
		if (strncasecmp(s, words[w], n) != 0 || word_ch(s[n]))
			continue;
		size_t i = n;
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		bool sep = s[i] == '=' || s[i] == ':';
		if (sep)
			i++;
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		if (!sep && i == n)
			return 0;
		if (s[i] == '"' || s[i] == '\'')
			i++;
		size_t v = strcspn(s + i, " \t\r\n;,\"'");
		*pre = i;
		return v;
	}
	return 0;
}

char *mta_mask_secrets(const char *s)
{
	struct sbuf b = { 0 };
	for (size_t i = 0; s[i];) {
		size_t pre = 0, v;
		if (strncmp(s + i, "://", 3) == 0) {
			/* scheme://user:password@host */
			size_t u = i + 3, at = u + strcspn(s + u, "@/ \t\r\n");
			const char *colon = memchr(s + u, ':', at - u);
			if (s[at] == '@' && colon != NULL) {
				sb_addn(&b, s + i, (size_t)(colon - (s + i)) + 1);
				sb_add(&b, "****@");
				i = at + 1;
				continue;
			}
		} else if ((i == 0 || !word_ch(s[i - 1])) && (v = secret_value(s + i, &pre)) > 0) {
			sb_addn(&b, s + i, pre);
			sb_add(&b, "****");
			i += pre + v;
			continue;
		}
		sb_addn(&b, s + i, 1);
		i++;
	}
	return sb_take(&b);
}

void mta_mask_buf(char *buf, size_t cap)
{
	char *m = mta_mask_secrets(buf);
	if (m != NULL)
		snprintf(buf, cap, "%s", m);
	else
		snprintf(buf, cap, "(text not shown: out of memory)");
	free(m);
}

void mta_mask_str(char **s)
{
	if (*s == NULL)
		return;
	char *m = mta_mask_secrets(*s);
	if (m != NULL) {
		free(*s);
		*s = m;
	}
}
