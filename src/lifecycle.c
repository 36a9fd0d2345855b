/* lifecycle.c: the inventory of keys and the per-domain state
 * (include/lifecycle.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "keygen.h"
#include "lifecycle.h"
#include "setup.h"
#include "validate.h"

__attribute__((weak)) time_t lc_test_clock(time_t real)
{
	return real;
}

time_t lc_now(void)
{
	return lc_test_clock(time(NULL));
}

/* ---- state ---- */

static int state_path(const char *domain, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, LC_STATE_DIR "/%s.state", domain);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

struct lc_sel_state *lc_state_sel(struct lc_state *st, const char *sel, bool create)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->s[i].sel, sel) == 0)
			return &st->s[i];
	if (!create || st->n == LC_SELS_MAX || strlen(sel) > DK_LABEL_MAX)
		return NULL;
	struct lc_sel_state *s = &st->s[st->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->sel, sizeof s->sel, "%s", sel);
	return s;
}

static bool sel_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= DK_LABEL_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static const char *const stage_names[] = { "idle", "keys", "published", "switched" };

void lc_state_load(const char *root, const char *domain, struct lc_state *st)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	struct dk_err e;
	memset(st, 0, sizeof *st);
	if (state_path(domain, path, sizeof path) < 0 || fs_read_file(root, path, 16384, &text, &len, &e) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char a[80] = "", b[80] = "";
		long long t = 0;
		if (sscanf(l, "stage %79s", a) == 1) {
			for (size_t i = 0; i < sizeof stage_names / sizeof stage_names[0]; i++)
				if (strcmp(a, stage_names[i]) == 0)
					st->stage = (enum lc_stage)i;
		} else if (sscanf(l, "new %79s %79s", a, b) >= 1 && sel_ok(a)) {
			snprintf(st->new_rsa, sizeof st->new_rsa, "%s", a);
			if (sel_ok(b))
				snprintf(st->new_ed, sizeof st->new_ed, "%s", b);
		} else if (sscanf(l, "old %79s %79s", a, b) >= 1 && sel_ok(a)) {
			snprintf(st->old_rsa, sizeof st->old_rsa, "%s", a);
			if (sel_ok(b))
				snprintf(st->old_ed, sizeof st->old_ed, "%s", b);
		} else if (sscanf(l, "stopped %79s %lld", a, &t) == 2 && sel_ok(a) && t > 0) {
			struct lc_sel_state *s = lc_state_sel(st, a, true);
			if (s != NULL)
				s->stopped = (time_t)t;
		} else if (sscanf(l, "retired %79s %lld", a, &t) == 2 && sel_ok(a) && t > 0) {
			struct lc_sel_state *s = lc_state_sel(st, a, true);
			if (s != NULL)
				s->retired = (time_t)t;
		} else if (sscanf(l, "used %79s", a) == 1 && sel_ok(a)) {
			lc_state_sel(st, a, true);
		}
	}
	if (st->stage != LC_IDLE && st->new_rsa[0] == '\0')
		st->stage = LC_IDLE;
	free(text);
}

int lc_state_save(const char *root, const char *domain, const struct lc_state *st, struct dk_err *err)
{
	char path[PATH_MAX], buf[8192];
	if (state_path(domain, path, sizeof path) < 0)
		return dk_fail(err, DK_USAGE, "domain name too long for a state file");
	size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, __VA_ARGS__)
	ADD("# dkim-setup: key lifecycle of %s. Rewritten by dkim-setup; if it is lost,\n"
	    "# rotate, retire and status derive it again (a grace period then restarts).\n", domain);
	ADD("stage %s\n", stage_names[st->stage]);
	if (st->stage != LC_IDLE) {
		ADD("new %s %s\n", st->new_rsa, st->new_ed);
		ADD("old %s %s\n", st->old_rsa, st->old_ed);
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct lc_sel_state *s = &st->s[i];
		ADD("used %s\n", s->sel);
		if (s->stopped != 0)
			ADD("stopped %s %lld\n", s->sel, (long long)s->stopped);
		if (s->retired != 0)
			ADD("retired %s %lld\n", s->sel, (long long)s->retired);
	}
#undef ADD
	if (n >= sizeof buf)
		return dk_fail(err, DK_SYSERR, "state of %s too large", domain);
	if (fs_mkdir(root, LC_STATE_DIR, 0755, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, err) < 0)
		return -1;
	struct fs_write w = {
		.root = root, .path = path, .data = buf, .len = n, .mode = 0644,
		.uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID, .flags = FS_REPLACE,
	};
	return fs_write_file(&w, err);
}

/* ---- names ---- */

int lc_split_key_name(const char *name, char *domain, size_t dlen, char *sel, size_t slen)
{
	static const char suffix[] = "-private.pem";
	size_t len = strlen(name), sl = sizeof suffix - 1;
	if (len <= sl || strcmp(name + len - sl, suffix) != 0)
		return -1;
	size_t base = len - sl;
	/* the domain's last label ends at the first '-' after its last dot */
	const char *dot = NULL;
	for (size_t i = 0; i < base; i++)
		if (name[i] == '.')
			dot = name + i;
	if (dot == NULL)
		return -1;
	const char *dash = memchr(dot, '-', base - (size_t)(dot - name));
	if (dash == NULL || dash == name || (size_t)(dash - name) >= dlen)
		return -1;
	size_t dl = (size_t)(dash - name), ssl = base - dl - 1;
	if (ssl == 0 || ssl >= slen)
		return -1;
	memcpy(domain, name, dl);
	domain[dl] = '\0';
	memcpy(sel, dash + 1, ssl);
	sel[ssl] = '\0';
	return sel_ok(sel) ? 0 : -1;
}

/* ---- inventory ---- */

static struct lc_key *inv_find(struct lc_inventory *inv, const char *domain, const char *sel, bool add)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->k[i].domain, domain) == 0 && strcmp(inv->k[i].selector, sel) == 0)
			return &inv->k[i];
	if (!add)
		return NULL;
	struct lc_key *k = realloc(inv->k, (inv->n + 1) * sizeof *k);
	if (k == NULL)
		return NULL;
	inv->k = k;
	k += inv->n++;
	memset(k, 0, sizeof *k);
	snprintf(k->domain, sizeof k->domain, "%s", domain);
	snprintf(k->selector, sizeof k->selector, "%s", sel);
	return k;
}

static void load_master(const char *root, struct lc_key *k)
{
	struct dk_paths p;
	struct stat st;
	char *pem = NULL;
	size_t len = 0;
	struct dk_err e;
	EVP_PKEY *pk = NULL;
	if (setup_paths(k->domain, k->selector, &p) < 0 || fs_stat(root, p.priv, &st) < 0)
		return;
	k->master = true;
	k->created = st.st_mtime;
	if (fs_read_file(root, p.priv, KEYGEN_FILE_MAX, &pem, &len, &e) < 0 ||
	    keygen_load_private(pem, len, &pk, &e) < 0 || keygen_describe(pk, &k->alg, &k->bits, &e) < 0 ||
	    keygen_p_value(pk, &k->p, &e) < 0)
		k->unreadable = true;
	if (pem != NULL)
		keygen_secret_free(pem, len);
	EVP_PKEY_free(pk);
}

static int by_name(const void *a, const void *b)
{
	const struct lc_key *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);
	return c != 0 ? c : strcmp(x->selector, y->selector);
}

static void fill_copy(const char *root, struct lc_key *k)
{
	struct mta_copy *c = NULL;
	struct dk_err e;
	int n = mta_compare_copies(root, k->domain, k->selector, k->p != NULL ? k->p : "", &c, &e);
	for (int i = 0; i < n; i++) {
		int st = c[i].state == MTA_COPY_SAME ? LC_COPY_SAME
			 : c[i].state == MTA_COPY_DIFFERENT ? LC_COPY_DIFFERENT : LC_COPY_UNREADABLE;
		/* the worst copy decides */
		if (k->copy == LC_COPY_NONE || st == LC_COPY_DIFFERENT ||
		    (st == LC_COPY_UNREADABLE && k->copy == LC_COPY_SAME)) {
			k->copy = st;
			snprintf(k->copy_path, sizeof k->copy_path, "%s", c[i].path);
		}
	}
	if (k->p == NULL && k->copy == LC_COPY_DIFFERENT)
		k->copy = LC_COPY_UNREADABLE;   /* nothing to compare with */
	free(c);
}

int lc_inventory_load(const char *root, const char *mta, const char *domain, struct lc_inventory *inv,
		      struct dk_err *err)
{
	memset(inv, 0, sizeof *inv);
	if (mta_detect(root, mta, &inv->info, err) < 0)
		return -1;
	int n = fs_list(root, DK_PRIV_DIR, "-private.pem", NULL, 0);
	if (n < 0 && errno == EACCES)
		return dk_fail(err, DK_SYSERR, "cannot list " DK_PRIV_DIR ": only root may; run it with sudo");
	if (n < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "cannot list " DK_PRIV_DIR);
	char (*names)[NAME_MAX + 1] = calloc((size_t)n + 1, sizeof *names);
	if (names == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	if (n > 0 && fs_list(root, DK_PRIV_DIR, "-private.pem", names, n) != n)
		n = 0;
	for (int i = 0; i < n; i++) {
		char d[DK_DOMAIN_MAX + 1], s[DK_LABEL_MAX + 1];
		if (lc_split_key_name(names[i], d, sizeof d, s, sizeof s) < 0)
			continue;
		if (domain != NULL && strcmp(d, domain) != 0)
			continue;
		if (inv_find(inv, d, s, true) == NULL) {
			free(names);
			lc_inventory_free(inv);
			return dk_fail(err, DK_SYSERR, "out of memory");
		}
	}
	free(names);
	/* Keys whose master is gone but a signer still has a copy. */
	struct mta_copy_name *copies = NULL;
	size_t nc = mta_list_copies(root, &copies);
	for (size_t i = 0; i < nc; i++)
		if ((domain == NULL || strcmp(copies[i].domain, domain) == 0) &&
		    inv_find(inv, copies[i].domain, copies[i].selector, true) == NULL)
			break;
	free(copies);
	/* The selectors the signer signs with, for every domain seen (and the
	 * one asked for): some may have no master key here. */
	size_t nd = inv->n;
	for (size_t i = 0; i <= nd; i++) {
		const char *d = i < nd ? inv->k[i].domain : domain;
		if (d == NULL || (i > 0 && i < nd && strcmp(d, inv->k[i - 1].domain) == 0))
			continue;
		char dom[DK_DOMAIN_MAX + 1], sels[512], *save = NULL;
		snprintf(dom, sizeof dom, "%s", d);   /* inv->k may move */
		mta_configured_selectors(root, &inv->info, dom, sels, sizeof sels);
		for (char *s = strtok_r(sels, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save)) {
			struct lc_key *k = sel_ok(s) ? inv_find(inv, dom, s, true) : NULL;
			if (k != NULL)
				k->signing = true;
		}
	}
	/* Retired selectors stay in view (their revoked record is still
	 * worth checking) as long as the state remembers them, also for a
	 * domain none of whose keys is left. */
	int ns = fs_list(root, LC_STATE_DIR, ".state", NULL, 0);
	names = ns > 0 ? calloc((size_t)ns, sizeof *names) : NULL;
	if (names != NULL && fs_list(root, LC_STATE_DIR, ".state", names, ns) == ns) {
		for (int i = 0; i < ns; i++) {
			char dom[DK_DOMAIN_MAX + 1], why[128];
			names[i][strlen(names[i]) - strlen(".state")] = '\0';
			if (validate_domain(names[i], dom, sizeof dom, why, sizeof why) < 0 ||
			    strcmp(dom, names[i]) != 0 || (domain != NULL && strcmp(dom, domain) != 0))
				continue;
			struct lc_state st;
			lc_state_load(root, dom, &st);
			for (size_t s = 0; s < st.n; s++)
				if (st.s[s].retired != 0)
					inv_find(inv, dom, st.s[s].sel, true);
		}
	}
	free(names);
	for (size_t i = 0; i < inv->n; i++) {
		load_master(root, &inv->k[i]);
		fill_copy(root, &inv->k[i]);
	}
	if (inv->n > 1)
		qsort(inv->k, inv->n, sizeof *inv->k, by_name);
	return 0;
}

void lc_inventory_free(struct lc_inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++)
		free(inv->k[i].p);
	free(inv->k);
	inv->k = NULL;
	inv->n = 0;
}

/* ---- new selectors ---- */

/* A retired key's backup (retire.c) exists for domain/sel. */
static bool sel_retired_backup(const char *root, const char *domain, const char *sel)
{
	char bk[PATH_MAX];
	snprintf(bk, sizeof bk, FS_BACKUP_DIR DK_PRIV_DIR "/%s-%s-private.pem", domain, sel);
	int n = fs_list(root, FS_BACKUP_DIR DK_PRIV_DIR, "", NULL, 0);
	if (n > 0) {
		char (*names)[NAME_MAX + 1] = calloc((size_t)n, sizeof *names);
		bool hit = false;
		const char *base = strrchr(bk, '/') + 1;
		if (names != NULL && fs_list(root, FS_BACKUP_DIR DK_PRIV_DIR, "", names, n) == n)
			for (int i = 0; i < n && !hit; i++)
				hit = strncmp(names[i], base, strlen(base)) == 0;
		free(names);
		if (hit)
			return true;
	}
	return false;
}

static bool sel_used(const char *root, const char *domain, const char *sel, const struct lc_state *st)
{
	struct dk_paths p;
	if (setup_paths(domain, sel, &p) < 0)
		return true;
	if (fs_exists(root, p.priv) != 0 || fs_exists(root, p.pub) != 0)
		return true;
	for (size_t i = 0; st != NULL && i < st->n; i++)
		if (strcmp(st->s[i].sel, sel) == 0)
			return true;
	if (sel_retired_backup(root, domain, sel))
		return true;
	struct mta_copy *c = NULL;
	struct dk_err e;
	int nc = mta_compare_copies(root, domain, sel, "", &c, &e);
	free(c);
	return nc > 0;
}

int lc_new_selector(const char *root, const char *domain, const char *want, const struct lc_state *st,
		    char *out, size_t outlen, struct dk_err *err)
{
	if (want != NULL && want[0] != '\0') {
		char ed[DK_LABEL_MAX + 8];
		snprintf(ed, sizeof ed, "%.60s-ed", want);
		if (sel_used(root, domain, want, st) || sel_used(root, domain, ed, st))
			return dk_fail(err, DK_USAGE, "selector %s of %s was used before: a rotation needs a "
				       "selector never used (receivers and caches may still hold the old record)",
				       want, domain);
		snprintf(out, outlen, "%s", want);
		return 0;
	}
	char base[16], cand[DK_LABEL_MAX + 1], ed[DK_LABEL_MAX + 8];
	setup_default_selector(lc_now(), base, sizeof base);
	for (int i = 0; i < 26; i++) {
		if (i == 0)
			snprintf(cand, sizeof cand, "%s", base);
		else
			snprintf(cand, sizeof cand, "%s%c", base, 'a' + i);
		snprintf(ed, sizeof ed, "%s-ed", cand);
		if (!sel_used(root, domain, cand, st) && !sel_used(root, domain, ed, st)) {
			snprintf(out, outlen, "%s", cand);
			return 0;
		}
	}
	return dk_fail(err, DK_USAGE, "every selector %s..%sz of %s is taken: give one with -s", base, base,
		       domain);
}

/* One key of the inventory that may be adopted: made on this host, of alg,
 * readable, never signing, never stopped or retired. */
static const struct lc_key *adoptable_key(const char *root, const char *domain, const char *sel, enum dk_alg alg,
					  const struct lc_inventory *inv, const struct lc_state *st)
{
	const struct lc_key *k = NULL;
	for (size_t i = 0; i < inv->n && k == NULL; i++)
		if (strcmp(inv->k[i].domain, domain) == 0 && strcmp(inv->k[i].selector, sel) == 0)
			k = &inv->k[i];
	if (k == NULL || !k->master || k->unreadable || k->signing || k->alg != alg ||
	    k->copy == LC_COPY_DIFFERENT || k->copy == LC_COPY_UNREADABLE)
		return NULL;
	for (size_t i = 0; st != NULL && i < st->n; i++)
		if (strcmp(st->s[i].sel, sel) == 0 && (st->s[i].stopped != 0 || st->s[i].retired != 0))
			return NULL;
	return sel_retired_backup(root, domain, sel) ? NULL : k;
}

const struct lc_key *lc_adoptable(const char *root, const char *domain, const char *sel, bool with_ed,
				  const struct lc_inventory *inv, const struct lc_state *st)
{
	const struct lc_key *k = adoptable_key(root, domain, sel, DK_ALG_RSA, inv, st);
	if (k == NULL || !with_ed)
		return k;
	char ed[DK_LABEL_MAX + 8];
	snprintf(ed, sizeof ed, "%.60s-ed", sel);
	if (!sel_used(root, domain, ed, st) || adoptable_key(root, domain, ed, DK_ALG_ED25519, inv, st) != NULL)
		return k;
	return NULL;
}
