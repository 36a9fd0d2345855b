/*
 * rotate.c: `dkim-setup rotate -d DOMAIN [-s NEW]` and `rotate --auto`.
 *
 * A safe rotation, in this order, each step recorded in the domain's state
 * (include/lifecycle.h) before the next begins, so that a re-run continues
 * where a run stopped:
 *   1. keys    a new selector never used before, of the kinds the domain
 *              signs with now (RSA of the same size; Ed25519 too when it is
 *              dual-signed);
 *   2. publish the new record(s) by RFC 2136 (--publish), or show them;
 *   3. wait    until every authoritative server serves every new record
 *              (asked again on every run: nothing is taken from the state);
 *   4. switch  the signer to the new selector(s), validated, reloaded; the
 *              old selector(s) stop signing now (recorded: retire counts
 *              its grace period from this moment);
 *   5. prove   sign with the new key and verify against DNS.
 * The old record stays published: mail signed a moment ago is still
 * verified. `dkim-setup retire` removes it after the grace period.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "dns.h"
#include "json.h"
#include "lifecycle.h"
#include "mta.h"
#include "record.h"
#include "setup.h"

#define ROTATE_PUBLISH_WAIT 60

/* What one rotation did, for the one-line and JSON reports. */
struct rot {
	const struct options *opt;
	const char *domain;
	FILE *out;                   /* the story; NULL in --auto (one line per action) */
	struct lc_state st;
	char old_rsa[DK_LABEL_MAX + 1], old_ed[DK_LABEL_MAX + 1];
	char new_rsa[DK_LABEL_MAX + 1], new_ed[DK_LABEL_MAX + 1];
	int bits;
	bool published, served, switched, proved;
	char proof[1600];
	char reload[700];
};

static void say(const struct rot *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct rot *r, const char *fmt, ...)
{
	if (r->out == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fflush(r->out);
}

/* The proof after the switch: the test message through the running signer
 * (mta_prove), verified against every authoritative server; under --root or
 * with --mta none only the key against the record, and said so. */
static int rotate_prove(const struct options *opt, const char *domain, const char *selector,
			char *detail, size_t dlen, struct dk_err *err)
{
	struct dk_paths p;
	if (setup_paths(domain, selector, &p) < 0)
		return dk_fail(err, DK_USAGE, "name too long");
	struct mta_request req = {
		.root = opt->root, .domain = domain, .selector = selector, .priv_path = p.priv,
		.mta = opt->mta[0] ? opt->mta : NULL,
	};
	struct mta_proof pr;
	int rc = mta_prove(&req, opt->ns, opt->n_ns, &pr, err);
	if (pr.fix[0] != '\0')
		snprintf(detail, dlen, "%s; to fix: %s", pr.detail[0] ? pr.detail : err->msg, pr.fix);
	else
		snprintf(detail, dlen, "%s", pr.detail[0] ? pr.detail : err->msg);
	mta_proof_clear(&pr);
	return rc;
}

/* The selectors the signer signs domain with now, from the inventory. */
static int active_keys(const struct lc_inventory *inv, struct rot *r, struct dk_err *err)
{
	r->old_rsa[0] = r->old_ed[0] = '\0';
	for (size_t i = 0; i < inv->n; i++) {
		const struct lc_key *k = &inv->k[i];
		if (!k->signing || !k->master || k->unreadable)
			continue;
		if (k->alg == DK_ALG_RSA && r->old_rsa[0] == '\0') {
			snprintf(r->old_rsa, sizeof r->old_rsa, "%s", k->selector);
			r->bits = k->bits;
		} else if (k->alg == DK_ALG_ED25519 && r->old_ed[0] == '\0') {
			snprintf(r->old_ed, sizeof r->old_ed, "%s", k->selector);
		}
	}
	if (r->old_rsa[0] == '\0')
		return dk_fail(err, DK_USAGE, "%s has no active RSA key: the signer (%s) signs it with none of "
			       "the keys in " DK_PRIV_DIR "; set it up first (dkim-setup --batch -d %s)",
			       r->domain, inv->info.summary, r->domain);
	return 0;
}

static int make_key(struct rot *r, const char *sel, enum dk_alg alg, struct dk_keyjob *job, struct dk_err *err)
{
	memset(job, 0, sizeof *job);
	job->root = r->opt->root;
	snprintf(job->domain, sizeof job->domain, "%s", r->domain);
	snprintf(job->selector, sizeof job->selector, "%s", sel);
	job->alg = alg;
	job->bits = alg == DK_ALG_RSA ? (r->opt->bits_given ? r->opt->bits : r->bits) : 0;
	if (alg == DK_ALG_RSA && !keygen_bits_allowed(job->bits))
		job->bits = DK_RSA_DEFAULT_BITS;
	job->dry_run = r->opt->dry_run;
	if (setup_make_key(job, err) < 0)
		return -1;
	say(r, "Key %s: %s %s (%s).\n", sel, job->outcome == KEYJOB_REUSED ? "kept" : job->outcome ==
	    KEYJOB_DRY_RUN ? "would make" : "made", job->paths.priv,
	    alg == DK_ALG_RSA ? "RSA" : "Ed25519");
	return 0;
}

static int publish(struct rot *r, const struct dk_keyjob *job, struct dk_err *err)
{
	struct dns_tsig tsig;
	struct dns_publish_info info;
	struct dns_watch_cfg cfg = { .fqdn = job->fqdn, .ns = r->opt->ns, .n_ns = r->opt->n_ns, .timeout = 2.0 };
	if (dns_tsig_load(r->opt->tsig_key_file, &tsig, err) < 0)
		return -1;
	int rc = dns_publish_ex(&cfg, job->value, &tsig, &info, err);
	dns_tsig_clear(&tsig);
	if (rc == 0)
		say(r, "Published %s: %s accepted the update (zone %s).\n", job->fqdn, info.server, info.zone);
	return rc;
}

static void show_record(const struct rot *r, const struct dk_keyjob *job)
{
	char *zone = record_zone(job->fqdn, job->value);
	say(r, "\nPublish this record at your DNS host (name %s, or %s in most web panels):\n  %s\n\n"
	    "Zone-file form:\n%s\n", job->fqdn, job->relative, job->value, zone ? zone : "");
	free(zone);
}

/* Every server serves every new record? Asked until `secs` pass (at least
 * once). 0 yes, 1 not yet, -1 + err when DNS could not be asked at all. */
static int wait_served(struct rot *r, struct dk_keyjob *jobs, size_t n, long secs, struct dk_err *err)
{
	double deadline = dns_now() + (double)secs;
	if (secs > 0)
		say(r, "Waiting up to %ld s for every authoritative server to serve the new record%s...\n", secs,
		    n > 1 ? "s" : "");
	for (;;) {
		size_t ok = 0;
		for (size_t i = 0; i < n; i++) {
			struct dns_watch_cfg cfg = {
				.fqdn = jobs[i].fqdn, .expect_p = jobs[i].p, .alg = jobs[i].alg, .ns = r->opt->ns,
				.n_ns = r->opt->n_ns, .timeout = 2.0,
			};
			struct dns_view v;
			if (dns_check(&cfg, &v, err) < 0) {
				dns_view_clear(&v);
				if (dns_now() >= deadline)
					return -1;
				continue;
			}
			if (v.all_match)
				ok++;
			else if (dns_now() >= deadline)
				for (size_t s = 0; s < v.n; s++)
					say(r, "  %s %s (%s): %s\n", jobs[i].fqdn, v.servers[s].name, v.servers[s].addr,
					    dns_status_name(v.servers[s].status));
			dns_view_clear(&v);
		}
		if (ok == n)
			return 0;
		if (dns_now() >= deadline)
			return 1;
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
}

/* Point the signer at the new selector(s). */
static int switch_signer(struct rot *r, struct dk_err *err)
{
	struct dk_paths rp, ep;
	setup_paths(r->domain, r->new_rsa, &rp);
	setup_paths(r->domain, r->new_ed[0] ? r->new_ed : r->new_rsa, &ep);
	struct mta_request req = {
		.root = r->opt->root, .domain = r->domain, .selector = r->new_rsa, .priv_path = rp.priv,
		.ed_selector = r->new_ed[0] ? r->new_ed : NULL, .ed_priv_path = r->new_ed[0] ? ep.priv : NULL,
		.strict = false, .dry_run = r->opt->dry_run, .mta = r->opt->mta[0] ? r->opt->mta : NULL,
		.reload_if_running = true,
	};
	struct mta_plan plan;
	struct mta_result res;
	memset(&res, 0, sizeof res);
	int rc = mta_plan(&req, &plan, err);
	if (rc == 0)
		rc = mta_apply(&req, &plan, &res, err);
	if (rc < 0) {
		if (res.rolled_back)
			say(r, "Every file changed was restored from its backup; the signer still uses %s.\n",
			    r->old_rsa);
		mta_plan_clear(&plan);
		return -1;
	}
	say(r, "Signer: %s.\n", plan.info.summary);
	if (res.validator[0])
		say(r, "Check: %s.\n", res.validator);
	if (!res.applied)
		snprintf(r->reload, sizeof r->reload, "nothing changed: no reload needed");
	else if (mta_reload(&req, &plan, r->reload, sizeof r->reload, err) < 0)
		rc = -1;
	say(r, "Reload: %s.\n", rc == 0 ? r->reload : err->msg);
	mta_plan_clear(&plan);
	return rc;
}

static void day_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm);
}

static int save(struct rot *r, struct dk_err *err)
{
	return r->opt->dry_run ? 0 : lc_state_save(r->opt->root, r->domain, &r->st, err);
}

/* Steps 3-5 from wherever the state says, after the keys are there. */
static int finish(struct rot *r, struct dk_keyjob *jobs, size_t n, struct dk_err *err)
{
	const struct options *opt = r->opt;
	if (r->st.stage < LC_SWITCHED) {
		if (opt->publish && r->st.stage < LC_PUBLISHED) {
			for (size_t i = 0; i < n; i++)
				if (!opt->dry_run && publish(r, &jobs[i], err) < 0)
					return -1;
			r->published = !opt->dry_run;
			r->st.stage = LC_PUBLISHED;
			if (save(r, err) < 0)
				return -1;
		} else if (!opt->publish) {
			for (size_t i = 0; i < n; i++)
				show_record(r, &jobs[i]);
		}
		if (opt->dry_run) {
			say(r, "Dry run: nothing published, the signer not switched.\n");
			return 0;
		}
		long secs = opt->wait_secs > 0 ? opt->wait_secs : opt->publish ? ROTATE_PUBLISH_WAIT : 0;
		int w = wait_served(r, jobs, n, secs, err);
		if (w != 0) {
			if (w > 0)
				dk_fail(err, DK_MISMATCH, "not switching %s to %s: not every authoritative server serves "
					"the new record yet; once it does, run this command again (it continues here)",
					r->domain, r->new_rsa);
			return -1;
		}
		r->served = true;
		say(r, "Every authoritative server serves the new record%s.\n", n > 1 ? "s" : "");
		if (switch_signer(r, err) < 0)
			return -1;
		r->switched = true;
		r->st.stage = LC_SWITCHED;
		if (save(r, err) < 0)
			return -1;
	} else {
		r->served = r->switched = true;
	}
	/* the old selectors stopped signing now (or, after an interruption
	 * between the switch and this record, a moment ago) */
	const char *olds[] = { r->old_rsa, r->old_ed };
	for (size_t i = 0; i < 2; i++) {
		struct lc_sel_state *s = olds[i][0] ? lc_state_sel(&r->st, olds[i], true) : NULL;
		if (s != NULL && s->stopped == 0)
			s->stopped = lc_now();
	}
	if (save(r, err) < 0)
		return -1;
	struct dk_err perr;
	dk_err_clear(&perr);
	r->proved = true;
	for (size_t i = 0; i < n && r->proved; i++)
		r->proved = rotate_prove(opt, r->domain, jobs[i].selector, r->proof, sizeof r->proof, &perr) == 0;
	say(r, "Proof: %s: %s.\n", r->proved ? "OK" : "FAILED", r->proof);
	r->st.stage = LC_IDLE;
	if (save(r, err) < 0)
		return -1;
	char day[40];
	struct lc_sel_state *s = lc_state_sel(&r->st, r->old_rsa, false);
	time_t stopped = s != NULL ? s->stopped : lc_now();
	day_text(stopped, day, sizeof day);
	say(r, "\n%s now signs with %s%s%s. The old selector %s%s%s stopped signing at %s; its record stays "
	    "published so that mail already sent still verifies.\n", r->domain, r->new_rsa,
	    r->new_ed[0] ? " and " : "", r->new_ed, r->old_rsa, r->old_ed[0] ? " and " : "", r->old_ed, day);
	day_text(stopped + (time_t)LC_GRACE_DAYS * LC_DAY, day, sizeof day);
	say(r, "Retire it after %s: dkim-setup retire -d %s -s %s (rotate --auto does it by itself).\n", day,
	    r->domain, r->old_rsa);
	if (!r->proved) {
		say(r, "Once the signer runs with its new configuration, prove it again: dkim-setup check -d %s "
		    "-s %s --prove\n", r->domain, r->new_rsa);
		return dk_fail(err, DK_MISMATCH, "the proof failed: %s", r->proof);
	}
	return 0;
}

/* One domain's rotation, from wherever its state says. */
static int rotate_domain(const struct options *opt, const char *domain, FILE *out, struct rot *r,
			 struct dk_err *err)
{
	struct lc_inventory inv;
	memset(r, 0, sizeof *r);
	r->opt = opt;
	r->domain = domain;
	r->out = out;
	lc_state_load(opt->root, domain, &r->st);
	if (lc_inventory_load(opt->root, opt->mta, domain, &inv, err) < 0)
		return -1;
	if (inv.info.signer == NULL) {
		lc_inventory_free(&inv);
		return dk_fail(err, DK_USAGE, "no signer to switch: %s", inv.info.summary);
	}
	int rc = active_keys(&inv, r, err);
	if (rc < 0) {
		lc_inventory_free(&inv);
		return -1;
	}
	if (r->st.stage != LC_IDLE) {
		/* a rotation under way: its selectors, whatever -s says now */
		snprintf(r->new_rsa, sizeof r->new_rsa, "%s", r->st.new_rsa);
		snprintf(r->new_ed, sizeof r->new_ed, "%s", r->st.new_ed);
		if (opt->selector[0] && strcmp(opt->selector, r->new_rsa) != 0) {
			lc_inventory_free(&inv);
			return dk_fail(err, DK_USAGE, "a rotation of %s to %s is under way: run rotate without -s "
				       "to continue it", domain, r->new_rsa);
		}
		if (strcmp(r->old_rsa, r->new_rsa) == 0) {
			/* the signer was switched; the state may not say so yet */
			r->st.stage = LC_SWITCHED;
			snprintf(r->old_rsa, sizeof r->old_rsa, "%s", r->st.old_rsa);
			snprintf(r->old_ed, sizeof r->old_ed, "%s", r->st.old_ed);
		}
		say(r, "Continuing the rotation of %s from %s to %s (stage: %s).\n", domain, r->old_rsa, r->new_rsa,
		    r->st.stage == LC_SWITCHED ? "switched" : r->st.stage == LC_PUBLISHED ? "published" : "keys made");
	} else {
		if (lc_new_selector(opt->root, domain, opt->selector, &r->st, r->new_rsa, sizeof r->new_rsa, err) < 0) {
			/* -s names a key made here that never signed (a switch held
			 * back until DNS served it): rotate to that key */
			const struct lc_key *k = opt->selector[0]
				? lc_adoptable(opt->root, domain, opt->selector, r->old_ed[0] != '\0', &inv, &r->st)
				: NULL;
			if (k == NULL) {
				lc_inventory_free(&inv);
				return -1;
			}
			dk_err_clear(err);
			snprintf(r->new_rsa, sizeof r->new_rsa, "%s", opt->selector);
			if (!opt->bits_given)
				r->bits = k->bits;
			say(r, "Selector %s has a key made on this host that has never signed (its switch waited "
			    "for DNS): rotating to it.\n", r->new_rsa);
		}
		if (r->old_ed[0])
			snprintf(r->new_ed, sizeof r->new_ed, "%.60s-ed", r->new_rsa);
		snprintf(r->st.new_rsa, sizeof r->st.new_rsa, "%s", r->new_rsa);
		snprintf(r->st.new_ed, sizeof r->st.new_ed, "%s", r->new_ed);
		snprintf(r->st.old_rsa, sizeof r->st.old_rsa, "%s", r->old_rsa);
		snprintf(r->st.old_ed, sizeof r->st.old_ed, "%s", r->old_ed);
		r->st.stage = LC_KEYS;
		const char *all[] = { r->old_rsa, r->old_ed, r->new_rsa, r->new_ed };
		for (size_t i = 0; i < 4; i++)
			if (all[i][0])
				lc_state_sel(&r->st, all[i], true);
		say(r, "Rotating %s: %s%s%s -> %s%s%s.\n", domain, r->old_rsa, r->old_ed[0] ? " + " : "", r->old_ed,
		    r->new_rsa, r->new_ed[0] ? " + " : "", r->new_ed);
		/* the names are recorded before any key exists: a re-run
		 * after an interruption uses the same ones */
		if (save(r, err) < 0) {
			lc_inventory_free(&inv);
			return -1;
		}
	}
	lc_inventory_free(&inv);
	struct dk_keyjob jobs[2];
	size_t n = 0;
	memset(jobs, 0, sizeof jobs);
	rc = make_key(r, r->new_rsa, DK_ALG_RSA, &jobs[n], err);
	if (rc == 0)
		n++;
	if (rc == 0 && r->new_ed[0]) {
		rc = make_key(r, r->new_ed, DK_ALG_ED25519, &jobs[n], err);
		if (rc == 0)
			n++;
	}
	if (rc == 0 && opt->dry_run && jobs[0].value == NULL)
		say(r, "Dry run: no key made, so there is no record to show yet.\n");
	else if (rc == 0)
		rc = finish(r, jobs, n, err);
	for (size_t i = 0; i < n; i++)
		setup_keyjob_clear(&jobs[i]);
	return rc;
}

static void json_rot(struct json *j, const struct rot *r, const char *action, int status, const char *error)
{
	json_string(j, "domain", r->domain);
	json_string(j, "action", action);
	json_string(j, "old_selector", r->old_rsa[0] ? r->old_rsa : NULL);
	json_string(j, "old_ed25519_selector", r->old_ed[0] ? r->old_ed : NULL);
	json_string(j, "new_selector", r->new_rsa[0] ? r->new_rsa : NULL);
	json_string(j, "new_ed25519_selector", r->new_ed[0] ? r->new_ed : NULL);
	json_bool(j, "published", r->published);
	json_bool(j, "served", r->served);
	json_bool(j, "switched", r->switched);
	json_bool(j, "proved", r->proved);
	json_string(j, "proof", r->proof[0] ? r->proof : NULL);
	json_string(j, "reload", r->reload[0] ? r->reload : NULL);
	json_string(j, "error", error);
	json_int(j, "status", status);
}

/* ---- --auto ---- */

struct auto_run {
	const struct options *opt;
	struct json *j;
	int status;
	int actions;
};

static void auto_line(struct auto_run *a, const char *domain, const char *what, int status, const char *detail)
{
	a->actions++;
	if (status > a->status)
		a->status = status;
	if (a->j == NULL)
		printf("%s %s: %s\n", what, domain, detail);
}

static void auto_rotate(struct auto_run *a, const char *domain)
{
	struct rot r;
	struct dk_err err;
	dk_err_clear(&err);
	int rc = rotate_domain(a->opt, domain, NULL, &r, &err);
	char line[700];
	if (rc == 0)
		snprintf(line, sizeof line, "%s -> %s%s%s, published, served, switched, proved", r.old_rsa, r.new_rsa,
			 r.new_ed[0] ? " + " : "", r.new_ed);
	else
		snprintf(line, sizeof line, "%s -> %s: stopped: %s", r.old_rsa, r.new_rsa[0] ? r.new_rsa : "?", err.msg);
	if (a->j != NULL) {
		json_object_begin(a->j, NULL);
		json_rot(a->j, &r, "rotate", rc == 0 ? 0 : err.status, rc == 0 ? NULL : err.msg);
		json_object_end(a->j);
	}
	auto_line(a, domain, rc == 0 ? "rotated" : "rotate FAILED", rc == 0 ? 0 : err.status, line);
}

static void auto_retire(struct auto_run *a, const char *domain, const char *sel)
{
	struct dk_err err;
	char detail[600];
	dk_err_clear(&err);
	int rc = lc_retire(a->opt, domain, sel, NULL, detail, sizeof detail, &err);
	if (a->j != NULL) {
		json_object_begin(a->j, NULL);
		json_string(a->j, "domain", domain);
		json_string(a->j, "action", "retire");
		json_string(a->j, "selector", sel);
		json_string(a->j, "detail", rc == 0 ? detail : NULL);
		json_string(a->j, "error", rc == 0 ? NULL : err.msg);
		json_int(a->j, "status", rc == 0 ? 0 : err.status);
		json_object_end(a->j);
	}
	char line[800];
	snprintf(line, sizeof line, "%s: %s", sel, rc == 0 ? detail : err.msg);
	auto_line(a, domain, rc == 0 ? "retired" : "retire FAILED", rc == 0 ? 0 : err.status, line);
}

/* What --auto does for one domain (its keys are inv->k[from..to)). */
static void auto_domain(struct auto_run *a, const struct lc_inventory *inv, size_t from, size_t to)
{
	const struct options *opt = a->opt;
	char domain[DK_DOMAIN_MAX + 1];
	snprintf(domain, sizeof domain, "%s", inv->k[from].domain);
	time_t now = lc_now();
	long max_age = opt->max_age_days > 0 ? opt->max_age_days : LC_MAX_AGE_DAYS;
	long grace = opt->grace_days > 0 ? opt->grace_days : opt->grace_days < 0 ? 0 : LC_GRACE_DAYS;
	struct lc_state st;
	lc_state_load(opt->root, domain, &st);
	bool rotate = st.stage != LC_IDLE, any_signing = false;
	for (size_t i = from; i < to; i++) {
		const struct lc_key *k = &inv->k[i];
		any_signing |= k->signing;
		if (k->signing && k->master && k->alg == DK_ALG_RSA && k->created != 0 &&
		    now - k->created >= (time_t)max_age * LC_DAY)
			rotate = true;
	}
	if (rotate && any_signing)
		auto_rotate(a, domain);
	/* Selectors that stopped signing: retired once their grace is over.
	 * One whose stop was never recorded (the state was lost, or it was
	 * switched away by hand) starts its grace period now. */
	lc_state_load(opt->root, domain, &st);
	bool dirty = false;
	for (size_t i = from; i < to; i++) {
		const struct lc_key *k = &inv->k[i];
		if (k->signing || !k->master || !any_signing)
			continue;
		if (st.stage != LC_IDLE && (!strcmp(st.new_rsa, k->selector) || !strcmp(st.new_ed, k->selector)))
			continue;
		struct lc_sel_state *s = lc_state_sel(&st, k->selector, true);
		if (s == NULL || s->retired != 0)
			continue;
		if (s->stopped == 0) {
			s->stopped = now;
			dirty = true;
			continue;
		}
		if (now - s->stopped >= (time_t)grace * LC_DAY)
			auto_retire(a, domain, k->selector);
	}
	struct dk_err err;
	if (dirty && !opt->dry_run && lc_state_save(opt->root, domain, &st, &err) < 0)
		auto_line(a, domain, "state FAILED", err.status, err.msg);
}

static int rotate_auto(const struct options *opt)
{
	struct lc_inventory inv;
	struct dk_err err;
	struct json json;
	struct auto_run a = { .opt = opt, .j = NULL, .status = 0, .actions = 0 };
	dk_err_clear(&err);
	if (lc_inventory_load(opt->root, opt->mta, NULL, &inv, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	if (opt->json) {
		json_init(&json, stdout);
		a.j = &json;
		json_object_begin(a.j, NULL);
		json_array_begin(a.j, "actions");
	}
	for (size_t i = 0; i < inv.n;) {
		size_t e = i + 1;
		while (e < inv.n && strcmp(inv.k[e].domain, inv.k[i].domain) == 0)
			e++;
		auto_domain(&a, &inv, i, e);
		i = e;
	}
	if (a.j != NULL) {
		json_array_end(a.j);
		json_int(a.j, "status", a.status);
		json_object_end(a.j);
		json_finish(a.j);
	} else if (a.actions == 0) {
		printf("nothing to do: no key older than %ld days, no old selector past its grace period\n",
		       opt->max_age_days > 0 ? opt->max_age_days : (long)LC_MAX_AGE_DAYS);
	}
	lc_inventory_free(&inv);
	return a.status;
}

int cmd_rotate(const struct options *opt)
{
	if (opt->auto_mode) {
		if (opt->domain[0] || opt->selector[0]) {
			fprintf(stderr, "dkim-setup: rotate --auto looks at every domain: no -d or -s\n");
			return DK_USAGE;
		}
		if (!opt->publish && !opt->dry_run) {
			fprintf(stderr, "dkim-setup: rotate --auto needs --publish --tsig-key FILE (nobody is there to "
				"paste a record)\n");
			return DK_USAGE;
		}
		return rotate_auto(opt);
	}
	if (opt->domain[0] == '\0') {
		fprintf(stderr, "dkim-setup: rotate needs -d DOMAIN (or --auto)\n");
		return DK_USAGE;
	}
	struct dk_err err;
	struct rot r;
	struct json json;
	dk_err_clear(&err);
	if (batch_dns_precheck(opt, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return DK_USAGE;
	}
	int rc = rotate_domain(opt, opt->domain, opt->json ? stderr : stdout, &r, &err);
	int status = rc == 0 ? DK_OK : err.status;
	if (rc < 0)
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
	if (opt->json) {
		json_init(&json, stdout);
		json_object_begin(&json, NULL);
		json_rot(&json, &r, "rotate", status, rc == 0 ? NULL : err.msg);
		json_object_end(&json);
		json_finish(&json);
	}
	return status;
}
