/* signer.c: the list of signers and the one dispatch on it; the
 * include/mta.h contract the front ends use, the same for every signer:
 * detection (which MTA, which signer), plan, apply with validation and
 * rollback, reload, the selectors in use and the key copies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "keygen.h"
#include "signer.h"
#include "signer_util.h"

extern const struct signer signer_exim, signer_opendkim, signer_rspamd;

/* The signers, in the order a tie is broken and usage lists them. */
static const struct signer *const signers[] = { &signer_exim, &signer_opendkim, &signer_rspamd };
#define N_SIGNERS (sizeof signers / sizeof signers[0])

const struct signer *signer_by_name(const char *name)
{
	for (size_t i = 0; name != NULL && i < N_SIGNERS; i++)
		if (strcmp(signers[i]->name, name) == 0)
			return signers[i];
	return NULL;
}

const char *signer_names(void)
{
	static char names[128];
	if (names[0] == '\0')
		for (size_t i = 0; i < N_SIGNERS; i++) {
			size_t u = strlen(names);
			snprintf(names + u, sizeof names - u, "%s%s", i ? "|" : "", signers[i]->name);
		}
	return names;
}

/* The signer of the MTA that is here (see signer.h, mta_found), or NULL
 * with why in info->summary. An installed program decides; where both or
 * neither MTA is installed, the configuration files do. */
static const struct signer *choose(const char *root, struct mta_info *info)
{
	int found[N_SIGNERS];
	for (size_t i = 0; i < N_SIGNERS; i++)
		found[i] = signers[i]->mta_found(root);
	const char *mtas[N_SIGNERS];
	size_t n = 0;
	for (int bit = 2; bit >= 1 && n != 1; bit--) {
		n = 0;
		for (size_t i = 0; i < N_SIGNERS; i++) {
			bool seen = false;
			for (size_t k = 0; k < n; k++)
				seen |= strcmp(mtas[k], signers[i]->mta) == 0;
			if ((found[i] & bit) && !seen)
				mtas[n++] = signers[i]->mta;
		}
		if (n > 1 && bit == 2) {
			/* both installed: the configuration decides, among those */
			for (size_t i = 0; i < N_SIGNERS; i++)
				if (!(found[i] & 2))
					found[i] = 0;
		}
	}
	if (n != 1) {
		struct sbuf b = { 0 };
		for (size_t i = 0; i < N_SIGNERS; i++) {
			bool dup = false;
			for (size_t k = 0; k < i; k++)
				dup |= strcmp(signers[k]->mta, signers[i]->mta) == 0;
			if (!dup)
				sb_printf(&b, "%s%s", b.len ? " or " : "", signers[i]->mta);
		}
		char *list = sb_take(&b);
		if (n > 1)
			snprintf(info->summary, sizeof info->summary,
				 "both %s and %s found: choose one with --mta %s", mtas[0], mtas[1], signer_names());
		else
			snprintf(info->summary, sizeof info->summary, "no mail server found (%s)",
				 list ? list : "");
		free(list);
		return NULL;
	}
	const struct signer *best = NULL;
	int best_pref = -1;
	for (size_t i = 0; i < N_SIGNERS; i++) {
		if (strcmp(signers[i]->mta, mtas[0]) != 0)
			continue;
		int p = signers[i]->preference(root);
		if (p > best_pref) {
			best = signers[i];
			best_pref = p;
		}
	}
	return best;
}

int mta_detect(const char *root, const char *want, struct mta_info *info, struct dk_err *err)
{
	memset(info, 0, sizeof *info);
	if (want != NULL && strcmp(want, "none") == 0) {
		snprintf(info->summary, sizeof info->summary, "no MTA to configure (--mta none)");
		return 0;
	}
	const struct signer *s;
	if (want != NULL && want[0] != '\0') {
		if ((s = signer_by_name(want)) == NULL)
			return dk_fail(err, DK_USAGE, "--mta %s: not one of %s|none", want, signer_names());
	} else if ((s = choose(root, info)) == NULL) {
		return 0;
	}
	info->signer = s;
	info->name = s->name;
	int rc = s->detect(root, info, err);
	/* a DSN or password in a config value is never shown */
	mta_mask_buf(info->summary, sizeof info->summary);
	mta_mask_buf(info->warning, sizeof info->warning);
	if (rc < 0 && err != NULL)
		mta_mask_buf(err->msg, sizeof err->msg);
	return rc;
}

const char *mta_alternative(const char *root, const struct mta_info *info)
{
	for (size_t i = 0; info->signer != NULL && i < N_SIGNERS; i++) {
		const struct signer *s = signers[i];
		struct mta_info other;
		struct dk_err e;
		if (s == info->signer || strcmp(s->mta, info->signer->mta) != 0)
			continue;
		memset(&other, 0, sizeof other);
		other.signer = s;
		other.name = s->name;
		if (s->detect(root, &other, &e) == 0 && other.can_sign && other.has_signer)
			return s->name;
	}
	return NULL;
}

int mta_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	memset(plan, 0, sizeof *plan);
	if (mta_detect(req->root, req->mta, &plan->info, err) < 0)
		return -1;
	if (plan->info.signer == NULL)
		return dk_fail(err, DK_USAGE, "%s", plan->info.summary);
	if (!plan->info.can_sign)
		return dk_fail(err, plan->info.refused ? DK_USAGE : DK_SYSERR, "%s", plan->info.warning);
	int rc = plan->info.signer->plan(req, plan, err);
	if (rc == 0)
		rc = mta_finish_plan(req->root, plan, err);
	/* the diff and the explanation quote the admin's files: no secrets */
	mta_mask_str(&plan->diff);
	mta_mask_str(&plan->explain);
	if (rc < 0 && err != NULL)
		mta_mask_buf(err->msg, sizeof err->msg);
	if (rc < 0) {
		struct mta_info keep = plan->info;
		mta_plan_clear(plan);
		plan->info = keep;
	}
	return rc;
}

/* Does root+path have the owner and mode in *was again? */
static bool meta_back(const char *root, const char *path, const struct stat *was)
{
	struct stat st;
	return fs_stat(root, path, &st) == 0 && st.st_uid == was->st_uid && st.st_gid == was->st_gid &&
	       (st.st_mode & 07777) == (was->st_mode & 07777);
}

/* Undo what apply wrote, newest first: files, then the directories it
 * created (when empty again) or whose owner and mode it changed. */
void mta_rollback(const struct mta_request *req, struct mta_plan *plan, const bool *written,
		  const struct mta_dir_before *dirs, struct mta_result *res)
{
	struct dk_err e2;
	res->n_not_restored = 0;
	for (size_t i = plan->n; i-- > 0;) {
		struct mta_change *c = &plan->changes[i];
		if (!written[i])
			continue;
		dk_err_clear(&e2);
		int rc = c->backup[0] != '\0' ? fs_restore(req->root, c->path, c->backup, &e2)
					      : fs_remove(req->root, c->path, &e2);
		if (rc < 0) {
			c->not_restored = true;
			snprintf(c->why, sizeof c->why, "%s", e2.msg);
			res->n_not_restored++;
		}
	}
	for (size_t i = plan->n_dirs; i-- > 0;) {
		struct mta_dir *d = &plan->dirs[i];
		if (!dirs[i].touched)
			continue;
		dk_err_clear(&e2);
		int rc = 0;
		if (!dirs[i].existed) {
			rc = fs_remove_dir(req->root, d->path, &e2);
		} else if (d->enforce && (rc = fs_mkdir(req->root, d->path, dirs[i].st.st_mode & 07777,
							 dirs[i].st.st_uid, dirs[i].st.st_gid, FS_ENFORCE,
							 &e2)) < 0 &&
			   meta_back(req->root, d->path, &dirs[i].st)) {
			/* the old owner may be the signer's user, which fs_mkdir
			 * reports as unsafe after putting it back: that is how it was */
			rc = 0;
		}
		if (rc < 0) {
			d->not_restored = true;
			snprintf(d->why, sizeof d->why, "%s", e2.msg);
			res->n_not_restored++;
		}
	}
	res->rolled_back = res->n_not_restored == 0;
}

int mta_apply(const struct mta_request *req, struct mta_plan *plan, struct mta_result *res,
	      struct dk_err *err)
{
	memset(res, 0, sizeof *res);
	if (req->dry_run)
		return 0;
	if (plan->info.signer == NULL)
		return dk_fail(err, DK_USAGE, "no signer to apply");
	unsigned flags = FS_REPLACE | FS_BACKUP;
	bool *written = calloc(plan->n + 1, sizeof *written);
	struct mta_dir_before *dirs = calloc(plan->n_dirs + 1, sizeof *dirs);
	if (written == NULL || dirs == NULL) {
		free(written);
		free(dirs);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; i < plan->n_dirs && rc == 0; i++) {
		struct mta_dir *d = &plan->dirs[i];
		uid_t uid;
		gid_t gid;
		dirs[i].touched = true;
		dirs[i].existed = fs_stat(req->root, d->path, &dirs[i].st) == 0 && S_ISDIR(dirs[i].st.st_mode);
		if (mta_lookup_ids(req->root, d->owner, d->group, &uid, &gid, err) < 0 ||
		    fs_mkdir(req->root, d->path, d->mode, uid, gid, d->enforce ? FS_ENFORCE : 0, err) < 0)
			rc = -1;
	}
	for (size_t i = 0; i < plan->n && rc == 0; i++) {
		struct mta_change *c = &plan->changes[i];
		struct fs_write w = {
			.root = req->root, .path = c->path, .data = c->new_text,
			.len = strlen(c->new_text), .mode = c->mode, .flags = flags,
		};
		if (mta_lookup_ids(req->root, c->owner, c->group, &w.uid, &w.gid, err) < 0) {
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
		snprintf(c->backup, sizeof c->backup, "%s", w.backup);
		res->n_backups += w.backup[0] != '\0';
	}
	const struct signer *s = plan->info.signer;
	if (rc == 0) {
		rc = s->validate(req, plan, res, err);
		res->validated = rc == 0;
	}
	if (rc == 0 && s->activate != NULL)
		rc = s->activate(req, plan, res, err);
	if (rc < 0) {
		mta_rollback(req, plan, written, dirs, res);
		if (err != NULL)
			mta_mask_buf(err->msg, sizeof err->msg);
		mta_mask_buf(res->validator, sizeof res->validator);
	}
	free(written);
	free(dirs);
	return rc;
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

static int service_active(const char *unit)
{
	const char *const argv[] = { "/usr/bin/systemctl", "is-active", "--quiet", unit, NULL };
	return mta_run(argv, NULL, 0) == 0;
}

int mta_reload(const struct mta_request *req, const struct mta_plan *plan, char *what,
	       size_t whatlen, struct dk_err *err)
{
	const struct signer *s = plan->info.signer;
	if (s == NULL) {
		snprintf(what, whatlen, "nothing to reload");
		return 0;
	}
	const char *why = mta_no_reload_reason(req);
	if (why != NULL) {
		snprintf(what, whatlen, "%s, so not reloading; to make it take effect run: %s", why,
			 plan->reload_cmd);
		return 0;
	}
	struct signer_reload r = { .n = 0 };
	s->reload(plan, &r);
	struct sbuf done = { 0 };
	for (size_t i = 0; i < r.n; i++) {
		const struct signer_step *st = &r.steps[i];
		/* batch: leave stopped services stopped */
		if (req->reload_if_running && st->probe != NULL && !service_active(st->probe)) {
			if (st->unit != NULL)
				sb_printf(&done, "%s%s is not running: left alone", done.len ? "; " : "", st->unit);
			continue;
		}
		char out[512];
		const char *const argv[] = { "/usr/bin/systemctl", st->verb, st->unit, NULL };
		int rc = mta_run(argv, out, sizeof out);
		if (rc != 0) {
			char pr[200];
			free(sb_take(&done));
			return dk_fail(err, DK_SYSERR, "systemctl %s %s failed: %s", st->verb,
				       st->unit ? st->unit : "", dk_printable(out, pr, sizeof pr));
		}
		sb_printf(&done, "%ssystemctl %s%s%s: done", done.len ? "; " : "", st->verb,
			  st->unit ? " " : "", st->unit ? st->unit : "");
	}
	char *t = sb_take(&done);
	snprintf(what, whatlen, "%s", t != NULL ? t : "");
	free(t);
	return 0;
}

void mta_configured_selectors(const char *root, const struct mta_info *info, const char *domain,
			      char *out, size_t outlen)
{
	out[0] = '\0';
	if (info->signer != NULL)
		info->signer->selectors(root, info, domain, out, outlen);
}

int mta_compare_copies(const char *root, const char *domain, const char *selector, const char *p,
		       struct mta_copy **out, struct dk_err *err)
{
	*out = NULL;
	int n = 0;
	for (size_t i = 0; i < N_SIGNERS; i++) {
		char path[PATH_MAX];
		if (signers[i]->key_copy(domain, selector, path, sizeof path) < 0)
			continue;
		int there = fs_exists(root, path);
		bool denied = there < 0 && errno == EACCES;
		/* absent, or in a directory dkim-setup does not manage (Debian's
		 * own /etc/dkimkeys belongs to opendkim until our first copy) */
		if (there != 1 && !denied)
			continue;
		struct mta_copy *c = realloc(*out, ((size_t)n + 1) * sizeof *c);
		if (c == NULL) {
			free(*out);
			*out = NULL;
			return dk_fail(err, DK_SYSERR, "out of memory");
		}
		*out = c;
		c += n++;
		memset(c, 0, sizeof *c);
		snprintf(c->path, sizeof c->path, "%s", path);
		snprintf(c->signer, sizeof c->signer, "%s", signers[i]->name);
		if (denied) {
			/* a key directory this user cannot search */
			c->state = MTA_COPY_UNREADABLE;
			snprintf(c->detail, sizeof c->detail, "cannot be looked at as this user (run check "
				 "with sudo to compare it)");
		} else {
			mta_compare_copy(root, c, p);
		}
	}
	return n;
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
	free(plan->dirs);
	free(plan->diff);
	free(plan->explain);
	memset(plan, 0, sizeof *plan);
}
