/* mta.c: the MTA step of --batch (the wizard drives include/mta.h itself).
 *
 * Batch decisions, since nobody is asked:
 * - Dual signing: with an RSA key, an Ed25519 key of the same domain that
 *   already exists in /etc/ssl/private is signed with too; with an Ed25519
 *   key, the domain's RSA key is the other selector, and without one the
 *   step refuses (Ed25519 alone is ignored by many verifiers). The partner
 *   is the selector the MTA already signs with, else the last by name.
 * - Not strict: if the signer cannot use the key, mail goes out unsigned
 *   rather than being held; the key access is checked for real first.
 * - Reload: only when something changed, only with systemd, and only a
 *   service that is already running (a stopped MTA is not started behind
 *   the admin's back). Otherwise the command to run is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fsutil.h"
#include "mta.h"
#include "setup.h"

/* The partner key of `domain` with algorithm `alg`: the one the MTA is
 * already configured with, if its key is still there; else the last by
 * name of the keys in /etc/ssl/private (date selectors sort by age). */
static bool find_partner(const char *root, const struct mta_info *info, const char *domain,
			 const char *self, enum dk_alg alg, char *sel, size_t sellen)
{
	char conf[256], *save = NULL;
	struct dk_existing ex;
	mta_configured_selectors(root, info, domain, conf, sizeof conf);
	for (char *s = strtok_r(conf, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save)) {
		if (strcmp(s, self) == 0)
			continue;
		setup_existing_key(root, domain, s, &ex);
		if (ex.state == KEY_PRESENT && ex.alg == alg) {
			snprintf(sel, sellen, "%s", s);
			return true;
		}
	}
	int n = fs_list(root, DK_PRIV_DIR, "-private.pem", NULL, 0);
	char (*names)[NAME_MAX + 1] = n > 0 ? calloc((size_t)n, sizeof *names) : NULL;
	if (names == NULL || fs_list(root, DK_PRIV_DIR, "-private.pem", names, n) != n)
		n = 0;   /* none, or the directory changed meanwhile: no partner */
	size_t dl = strlen(domain);
	bool found = false;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (strncmp(names[i], domain, dl) != 0 || names[i][dl] != '-' || len <= dl + 1 + 12)
			continue;
		char s[DK_LABEL_MAX + 1];
		size_t sl = len - dl - 1 - 12;
		if (sl == 0 || sl > DK_LABEL_MAX)
			continue;
		memcpy(s, names[i] + dl + 1, sl);
		s[sl] = '\0';
		if (strcmp(s, self) == 0 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != sl)
			continue;
		setup_existing_key(root, domain, s, &ex);
		if (ex.state == KEY_PRESENT && ex.alg == alg) {
			snprintf(sel, sellen, "%s", s);
			found = true;   /* sorted: the last one wins */
		}
	}
	free(names);
	return found;
}

static void json_result(struct json *j, const struct mta_plan *plan, const struct mta_result *res,
			const char *reload, const char *error)
{
	json_object_begin(j, "mta");
	json_string(j, "name", plan->info.name != NULL ? plan->info.name : "none");
	json_string(j, "summary", plan->info.summary);
	json_string(j, "warning", plan->info.warning[0] ? plan->info.warning : NULL);
	json_bool(j, "ed25519", plan->ed25519);
	json_bool(j, "changed", res != NULL && res->applied);
	json_bool(j, "nothing_to_do", plan->nothing_to_do);
	/* the selector that still signs because the new record is not served yet */
	json_string(j, "kept_selector", plan->kept_selector[0] ? plan->kept_selector : NULL);
	json_bool(j, "validated", res != NULL && res->validated);
	json_bool(j, "rolled_back", res != NULL && res->rolled_back);
	json_string(j, "validator", res != NULL && res->validator[0] ? res->validator : NULL);
	json_string(j, "key_access", res != NULL && res->key_access[0] ? res->key_access : NULL);
	json_array_begin(j, "files");
	for (size_t i = 0; i < plan->n; i++)
		json_string(j, NULL, plan->changes[i].path);
	json_array_end(j);
	json_array_begin(j, "backups");
	for (size_t i = 0; res != NULL && i < plan->n; i++)
		if (plan->changes[i].backup[0] != '\0')
			json_string(j, NULL, plan->changes[i].backup);
	json_array_end(j);
	json_array_begin(j, "not_restored");
	for (size_t i = 0; res != NULL && i < plan->n; i++)
		if (plan->changes[i].not_restored)
			json_string(j, NULL, plan->changes[i].path);
	for (size_t i = 0; res != NULL && i < plan->n_dirs; i++)
		if (plan->dirs[i].not_restored)
			json_string(j, NULL, plan->dirs[i].path);
	json_array_end(j);
	json_string(j, "diff", plan->diff);
	json_string(j, "explain", plan->explain);
	json_string(j, "reload", reload);
	json_string(j, "error", error);
	json_object_end(j);
}

int batch_step_mta(struct batch_ctx *b, struct dk_err *err)
{
	const struct options *o = b->opt;
	struct dk_keyjob *k = b->key;
	FILE *out = b->out;
	struct mta_plan plan;
	struct mta_result res;
	char reload[700] = "";
	memset(&plan, 0, sizeof plan);
	memset(&res, 0, sizeof res);

	if (mta_detect(o->root, o->mta, &plan.info, err) < 0)
		return -1;
	if (plan.info.signer == NULL) {
		fprintf(out, "\nMail server: %s; nothing configured.\n", plan.info.summary);
		if (b->json != NULL)
			json_result(b->json, &plan, NULL, NULL, NULL);
		return 0;
	}
	fprintf(out, "\nMail server: %s.\n", plan.info.summary);

	char rsa_sel[DK_LABEL_MAX + 1] = "", ed_sel[DK_LABEL_MAX + 1] = "";
	if (k->alg == DK_ALG_RSA) {
		snprintf(rsa_sel, sizeof rsa_sel, "%s", k->selector);
		find_partner(o->root, &plan.info, k->domain, k->selector, DK_ALG_ED25519, ed_sel, sizeof ed_sel);
	} else {
		snprintf(ed_sel, sizeof ed_sel, "%s", k->selector);
		if (!find_partner(o->root, &plan.info, k->domain, k->selector, DK_ALG_RSA, rsa_sel, sizeof rsa_sel)) {
			dk_fail(err, DK_USAGE, "an Ed25519 key alone is not configured for signing (many "
				"verifiers ignore Ed25519): make an RSA key for %s first, then run this again",
				k->domain);
			if (b->json != NULL)
				json_result(b->json, &plan, NULL, NULL, err->msg);
			fprintf(stderr, "dkim-setup: %s\n", err->msg);
			b->status = DK_USAGE;
			return 0;
		}
	}
	struct dk_paths rp, ep;
	setup_paths(k->domain, rsa_sel, &rp);
	setup_paths(k->domain, ed_sel[0] ? ed_sel : rsa_sel, &ep);
	struct mta_request req = {
		.root = o->root, .domain = k->domain, .selector = rsa_sel, .priv_path = rp.priv,
		.ed_selector = ed_sel[0] ? ed_sel : NULL, .ed_priv_path = ed_sel[0] ? ep.priv : NULL,
		.strict = false, .dry_run = o->dry_run, .mta = plan.info.name, .reload_if_running = true,
		.defer_switch = !b->dns_confirmed,
	};
	int rc = mta_plan(&req, &plan, err);
	if (rc == 0) {
		fprintf(out, "%s\n", plan.explain);
		if (plan.info.warning[0])
			fprintf(out, "Note: %s\n", plan.info.warning);
		if (plan.kept_selector[0])
			fprintf(out, "Note: selector %s keeps signing for %s until DNS serves %s (see above).\n",
				plan.kept_selector, k->domain, rsa_sel);
		if (plan.nothing_to_do)
			fprintf(out, "The mail server is already configured exactly so: nothing to change.\n");
		else if (b->json == NULL)
			fprintf(out, "Changes:\n%s", plan.diff);
		rc = mta_apply(&req, &plan, &res, err);
	}
	if (rc < 0) {
		fprintf(stderr, "dkim-setup: mail server not configured: %s\n", err->msg);
		if (res.rolled_back)
			fprintf(stderr, "dkim-setup: every file changed was restored from its backup.\n");
		for (size_t i = 0; i < plan.n; i++)
			if (plan.changes[i].not_restored)
				fprintf(stderr, "dkim-setup: NOT restored: %s (%s)%s%s\n", plan.changes[i].path,
					plan.changes[i].why, plan.changes[i].backup[0] ? "; its backup is " : "",
					plan.changes[i].backup);
		for (size_t i = 0; i < plan.n_dirs; i++)
			if (plan.dirs[i].not_restored)
				fprintf(stderr, "dkim-setup: NOT restored: directory %s (%s)\n", plan.dirs[i].path,
					plan.dirs[i].why);
		if (b->json != NULL)
			json_result(b->json, &plan, &res, NULL, err->msg);
		b->status = err->status > b->status ? err->status : b->status;
		mta_plan_clear(&plan);
		return 0;
	}
	if (o->dry_run) {
		snprintf(reload, sizeof reload, "dry run: nothing written");
	} else {
		if (res.key_access[0])
			fprintf(out, "Key access: %s.\n", res.key_access);
		fprintf(out, "Check: %s.\n", res.validator);
		for (size_t i = 0; i < plan.n; i++)
			if (plan.changes[i].backup[0] != '\0')
				fprintf(out, "Backup: %s\n", plan.changes[i].backup);
		if (!res.applied)
			snprintf(reload, sizeof reload, "nothing changed: no reload needed");
		else if (mta_reload(&req, &plan, reload, sizeof reload, err) < 0) {
			fprintf(stderr, "dkim-setup: %s\n", err->msg);
			snprintf(reload, sizeof reload, "%s", err->msg);
			b->status = DK_SYSERR > b->status ? DK_SYSERR : b->status;
		}
	}
	fprintf(out, "Reload: %s.\n", reload);
	if (b->json != NULL)
		json_result(b->json, &plan, &res, reload, NULL);
	mta_plan_clear(&plan);
	return 0;
}
