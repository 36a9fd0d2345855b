/*
 * wizard_rotate.c: rotation in the wizard (include/wizard.h). The survey
 * step shows the keys of this host (the status overview, without asking
 * DNS: that is `dkim-setup status`) and offers to rotate each domain that
 * signs now; for the host's own domain that is the default. A rotation
 * then goes through the same steps as a new key, with the domain, a
 * never-used selector and the same kind of key filled in; the DNS step
 * cannot be skipped (the signer is switched only once every server serves
 * the new record), and when the mail server step has switched the signer
 * the old selectors' stop is recorded for retire's grace period.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lifecycle.h"
#include "wizard.h"

int wiz_survey_items(const struct wizard *w)
{
	return 1 + w->n_rotate + w->n_resume;
}

void wiz_survey_item(const struct wizard *w, int i, char *out, size_t outlen)
{
	if (i <= 0) {
		snprintf(out, outlen, "%s", w->n_rotate > 0 ? "Add a domain (set up a new key)" : "Set up a new key");
	} else if (i <= w->n_rotate) {
		const struct wiz_rotatable *r = &w->rotate[i - 1];
		snprintf(out, outlen, "Rotate %s (now %s%s%s, %ld days old)", r->domain, r->rsa, r->ed[0] ? " + " : "",
			 r->ed, r->age_days);
	} else if (i - 1 - w->n_rotate < w->n_resume) {
		int k = i - 1 - w->n_rotate;
		snprintf(out, outlen, "Continue with %s, selector %s", w->resume[k].domain, w->resume[k].selector);
	} else {
		out[0] = '\0';
	}
}

void wiz_rotate_survey(struct wizard *w)
{
	struct lc_inventory inv;
	struct dk_err err;
	time_t now = lc_now();
	w->n_rotate = w->n_overview = 0;
	if (lc_inventory_load(w->opt->root, w->opt->mta, NULL, &inv, &err) < 0 || inv.n == 0)
		return;
	snprintf(w->overview[w->n_overview++], sizeof w->overview[0], "%-26s %-12s %-9s %5s %-5s %s", "DOMAIN",
		 "SELECTOR", "KEY", "AGE", "SIGNS", "COPY");
	for (size_t i = 0; i < inv.n; i++) {
		const struct lc_key *k = &inv.k[i];
		char key[16] = "-", age[16] = "-";
		if (k->master && !k->unreadable)
			snprintf(key, sizeof key, k->alg == DK_ALG_RSA ? "RSA-%d" : "Ed25519", k->bits);
		if (k->created != 0)
			snprintf(age, sizeof age, "%lldd", (long long)((now - k->created) / LC_DAY));
		if (w->n_overview < (int)(sizeof w->overview / sizeof w->overview[0]))
			snprintf(w->overview[w->n_overview++], sizeof w->overview[0], "%-26.26s %-12.12s %-9s %5s %-5s %s",
				 k->domain, k->selector, key, age, k->signing ? "yes" : "no",
				 k->copy == LC_COPY_SAME ? "same" : k->copy == LC_COPY_DIFFERENT ? "DIFFERENT"
				 : k->copy == LC_COPY_UNREADABLE ? "?" : "-");
		if (!k->signing || !k->master || k->unreadable || w->n_rotate == WIZ_ROTATE_MAX)
			continue;
		int r = -1;
		for (int j = 0; j < w->n_rotate; j++)
			if (strcmp(w->rotate[j].domain, k->domain) == 0)
				r = j;
		if (r < 0) {
			r = w->n_rotate++;
			memset(&w->rotate[r], 0, sizeof w->rotate[r]);
			snprintf(w->rotate[r].domain, sizeof w->rotate[r].domain, "%s", k->domain);
		}
		if (k->alg == DK_ALG_RSA && w->rotate[r].rsa[0] == '\0') {
			snprintf(w->rotate[r].rsa, sizeof w->rotate[r].rsa, "%s", k->selector);
			w->rotate[r].bits = k->bits;
			w->rotate[r].age_days = (long)((now - k->created) / LC_DAY);
		} else if (k->alg == DK_ALG_ED25519 && w->rotate[r].ed[0] == '\0') {
			snprintf(w->rotate[r].ed, sizeof w->rotate[r].ed, "%s", k->selector);
		}
	}
	lc_inventory_free(&inv);
	/* an Ed25519 key alone is not rotated here (it never signs alone) */
	for (int j = 0; j < w->n_rotate; j++)
		if (w->rotate[j].rsa[0] == '\0') {
			memmove(&w->rotate[j], &w->rotate[j + 1], (size_t)(w->n_rotate - j - 1) * sizeof w->rotate[0]);
			w->n_rotate--;
			j--;
		}
	/* the host's own domain signs already: rotating it is the default */
	const char *d = w->opt->domain[0] ? w->opt->domain : w->sv.default_domain;
	for (int j = 0; j < w->n_rotate; j++)
		if (strcmp(w->rotate[j].domain, d) == 0)
			w->survey_choice = j + 1;
}

bool wiz_rotate_choose(struct wizard *w, int i)
{
	struct dk_err err;
	if (i < 1 || i > w->n_rotate) {
		if (w->rotating) {   /* back from a rotation to something else */
			w->domain[0] = w->selector[0] = '\0';
			w->with_ed = false;
		}
		w->rotating = false;
		return false;
	}
	const struct wiz_rotatable *r = &w->rotate[i - 1];
	struct lc_state st;
	lc_state_load(w->opt->root, r->domain, &st);
	snprintf(w->domain, sizeof w->domain, "%s", r->domain);
	/* a rotation under way (dkim-setup rotate stopped) keeps its selector */
	if (st.stage != LC_IDLE && st.stage != LC_SWITCHED && st.new_rsa[0] && strcmp(st.old_rsa, r->rsa) == 0)
		snprintf(w->selector, sizeof w->selector, "%s", st.new_rsa);
	else if (lc_new_selector(w->opt->root, r->domain, NULL, &st, w->selector, sizeof w->selector, &err) < 0)
		w->selector[0] = '\0';   /* the selector step asks */
	for (size_t k = 0; k < wiz_n_key_choices; k++)
		if (wiz_key_choices[k].alg == DK_ALG_RSA && wiz_key_choices[k].bits == r->bits)
			w->key_choice = (int)k;
	w->with_ed = r->ed[0] != '\0';
	snprintf(w->rot_old_rsa, sizeof w->rot_old_rsa, "%s", r->rsa);
	snprintf(w->rot_old_ed, sizeof w->rot_old_ed, "%s", r->ed);
	w->rotating = true;
	w->rot_note[0] = '\0';
	return true;
}

void wiz_rotate_keys_made(struct wizard *w)
{
	struct lc_state st;
	struct dk_err err;
	if (!w->rotating || w->opt->dry_run)
		return;
	lc_state_load(w->opt->root, w->domain, &st);
	st.stage = LC_KEYS;
	snprintf(st.new_rsa, sizeof st.new_rsa, "%s", w->selector);
	snprintf(st.new_ed, sizeof st.new_ed, "%s", w->with_ed ? w->ed_selector : "");
	snprintf(st.old_rsa, sizeof st.old_rsa, "%s", w->rot_old_rsa);
	snprintf(st.old_ed, sizeof st.old_ed, "%s", w->rot_old_ed);
	const char *all[] = { st.new_rsa, st.new_ed, st.old_rsa, st.old_ed };
	for (size_t i = 0; i < 4; i++)
		if (all[i][0])
			lc_state_sel(&st, all[i], true);
	if (lc_state_save(w->opt->root, w->domain, &st, &err) < 0)
		snprintf(w->rot_note, sizeof w->rot_note, "Could not record the rotation under way: %s", err.msg);
}

void wiz_rotate_switched(struct wizard *w)
{
	struct lc_state st;
	struct dk_err err;
	char sels[256];
	if (!w->rotating || w->opt->dry_run)
		return;
	/* only once the signer really names the new selector */
	mta_configured_selectors(w->opt->root, &w->plan.info, w->domain, sels, sizeof sels);
	if (strstr(sels, w->selector) == NULL)
		return;
	lc_state_load(w->opt->root, w->domain, &st);
	const char *olds[] = { w->rot_old_rsa, w->rot_old_ed, w->selector, w->ed_selector };
	for (size_t i = 0; i < 4; i++) {
		if (olds[i][0] == '\0' || (i == 3 && !w->with_ed))
			continue;
		struct lc_sel_state *s = lc_state_sel(&st, olds[i], true);
		if (s != NULL && i < 2 && s->stopped == 0)
			s->stopped = lc_now();
	}
	st.stage = LC_IDLE;
	if (lc_state_save(w->opt->root, w->domain, &st, &err) < 0)
		snprintf(w->rot_note, sizeof w->rot_note, "Could not record when %s stopped signing (%s): retire "
			 "will start its grace period when it first sees it.", w->rot_old_rsa, err.msg);
}

void wiz_rotate_summary(const struct wizard *w, struct doc *pre, bool after)
{
	char day[32];
	time_t due = lc_now() + (time_t)LC_GRACE_DAYS * LC_DAY;
	struct tm tm;
	gmtime_r(&due, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	if (after) {
		doc_blank(pre);
		doc_para(pre, 0, DA_BOLD, "Keys over time");
		doc_para(pre, 2, DA_NORMAL, "dkim-setup status shows every key and what to do next. With your "
			 "own DNS server, a daily timer can rotate keys older than 180 days and retire old "
			 "selectors: put DKIM_SETUP_ROTATE_ARGS=\"--publish --tsig-key FILE\" in "
			 "/etc/default/dkim-setup, then:");
		doc_cmd(pre, 4, DA_BOLD, "systemctl enable --now dkim-setup-rotate.timer");
		return;
	}
	if (w->rotating && (w->mta_phase == MTA_APPLIED || w->mta_phase == MTA_DONE)) {
		doc_para(pre, 0, DA_BOLD, "Rotation: %s%s%s stopped signing; its record stays published", w->rot_old_rsa,
			 w->rot_old_ed[0] ? " and " : "", w->rot_old_ed);
		doc_para(pre, 2, DA_NORMAL, "so that mail sent a moment ago still verifies. After %s (7 days), "
			 "revoke it:", day);
		char cmd[DK_DOMAIN_MAX + 128];
		snprintf(cmd, sizeof cmd, "dkim-setup retire -d %s -s %s", w->domain, w->rot_old_rsa);
		doc_cmd(pre, 4, DA_BOLD, cmd);
		if (w->rot_note[0])
			doc_para(pre, 2, DA_WARN, "%s", w->rot_note);
	} else if (w->rotating) {
		doc_para(pre, 0, DA_WARN, "Rotation: not finished; the mail server still signs with %s. Run "
			 "dkim-setup rotate -d %s to continue.", w->rot_old_rsa, w->domain);
	}
	if (w->rotating)
		doc_blank(pre);
}
