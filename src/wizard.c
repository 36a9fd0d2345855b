/* wizard.c: the steps of the interactive setup as a table; pure logic, no
 * curses. The front end feeds events and redraws from struct wizard. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "validate.h"
#include "wizard.h"

#define RECORD_FILE_DIR "/root"

const struct wiz_key_choice wiz_key_choices[] = {
	{ "RSA 2048 bits (recommended)", "", DK_ALG_RSA, 2048 },
	{ "RSA 3072 bits", "Safe too; a little longer record.", DK_ALG_RSA, 3072 },
	{ "RSA 4096 bits", "Warning: a long record. Some DNS panels refuse it, and answers over "
	  "512 bytes need TCP or EDNS.", DK_ALG_RSA, 4096 },
	{ "RSA 1024 bits (weak)", "Warning: weak. Some receivers ignore such signatures; "
	  "use 2048 unless a DNS panel forces you.", DK_ALG_RSA, 1024 },
};
const size_t wiz_n_key_choices = sizeof wiz_key_choices / sizeof wiz_key_choices[0];

static void set_msg(struct wizard *w, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_msg(struct wizard *w, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof w->msg, fmt, ap);
	va_end(ap);
	w->msg_error = error;
}

/* ---- the worker ---------------------------------------------------------- */

static void *job_main(void *arg)
{
	struct wizard *w = arg;
	dk_err_clear(&w->job.err);
	w->job.rc = w->job.fn(w, &w->job.err);
	ssize_t n;
	do
		n = write(w->job.pipe[1], "x", 1);
	while (n < 0 && errno == EINTR);
	return NULL;
}

/* Stopping a watcher joins its thread, which may be inside a DNS query:
 * hand that to a short-lived thread so the screen never waits for it.
 * wiz_free() joins them all. */
static void *stopper_main(void *arg)
{
	dns_watch_stop(arg);
	return NULL;
}

static void watch_stop_async(struct wizard *w, struct dns_watch **which)
{
	struct dns_watch *dw = *which;
	*which = NULL;
	if (dw == NULL)
		return;
	if (w->n_stoppers < WIZ_MAX_STOPPERS) {
		sigset_t old;
		dk_block_signals(&old, true);
		int rc = pthread_create(&w->stoppers[w->n_stoppers], NULL, stopper_main, dw);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0) {
			w->n_stoppers++;
			return;
		}
	}
	dns_watch_stop(dw);
}

static int job_start(struct wizard *w, enum wiz_job_kind kind, wiz_job_fn fn)
{
	if (w->job.running)
		return -1;
	if (pipe2(w->job.pipe, O_CLOEXEC) < 0) {
		set_msg(w, true, "cannot start the worker: %s", strerror(errno));
		return -1;
	}
	w->job.kind = kind;
	w->job.fn = fn;
	w->job.rc = -1;
	w->job.started = time(NULL);
	sigset_t old;
	dk_block_signals(&old, true);
	int rc = pthread_create(&w->job.thread, NULL, job_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(w->job.pipe[0]);
		close(w->job.pipe[1]);
		set_msg(w, true, "cannot start the worker: %s", strerror(rc));
		return -1;
	}
	w->job.running = true;
	return 0;
}

int wiz_job_fd(const struct wizard *w)
{
	return w->job.running ? w->job.pipe[0] : -1;
}

void wiz_job_collect(struct wizard *w)
{
	if (!w->job.running)
		return;
	pthread_join(w->job.thread, NULL);
	close(w->job.pipe[0]);
	close(w->job.pipe[1]);
	w->job.running = false;
}

void wiz_job_wait(struct wizard *w)
{
	wiz_job_collect(w);   /* pthread_join waits */
}

/* ---- helpers ----------------------------------------------------------- */

static void watch_cfg(const struct wizard *w, const struct dk_keyjob *k, struct dns_watch_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->fqdn = k->fqdn;
	cfg->expect_p = k->p;
	cfg->alg = k->alg;
	cfg->ns = w->opt->ns;
	cfg->n_ns = w->opt->n_ns;
}

static void mta_req(const struct wizard *w, struct mta_request *req)
{
	memset(req, 0, sizeof *req);
	req->root = w->opt->root;
	req->domain = w->key.domain;
	req->selector = w->key.selector;
	req->priv_path = w->key.paths.priv;
	if (w->have_edkey) {
		req->ed_selector = w->edkey.selector;
		req->ed_priv_path = w->edkey.paths.priv;
	}
	req->dry_run = w->opt->dry_run;
	req->mta = w->opt->mta;
}

int wiz_parse_keyfile(const char *name, char *domain, size_t dlen, char *selector, size_t slen)
{
	static const char suffix[] = "-private.pem";
	char why[256], base[NAME_MAX + 1];
	size_t n = strlen(name), sl = sizeof suffix - 1;
	if (n <= sl || n - sl >= sizeof base || strcmp(name + n - sl, suffix) != 0)
		return -1;
	memcpy(base, name, n - sl);
	base[n - sl] = '\0';
	/* Both halves may hold hyphens; a top-level label never does (but for
	 * xn--), so the first split whose domain ends in a clean label wins. */
	for (char *dash = strchr(base, '-'); dash != NULL; dash = strchr(dash + 1, '-')) {
		*dash = '\0';
		const char *tld = strrchr(base, '.');
		bool clean = tld != NULL && (strchr(tld, '-') == NULL || strncmp(tld + 1, "xn--", 4) == 0);
		int ok = clean && validate_domain(base, domain, dlen, why, sizeof why) == 0 &&
			 validate_selector(dash + 1, selector, slen, why, sizeof why) == 0 &&
			 strcmp(domain, base) == 0 && strcmp(selector, dash + 1) == 0;
		*dash = '-';
		if (ok)
			return 0;
	}
	return -1;
}

char *wiz_record_text(const struct dk_keyjob *k)
{
	char *zone = record_zone(k->fqdn, k->value);
	if (zone == NULL)
		return NULL;
	char *out = NULL;
	if (asprintf(&out,
		     "DKIM record for %s, selector %s\n"
		     "\n"
		     "Name:  %s\n"
		     "       (most web DNS panels want only \"%s\": they add the domain themselves)\n"
		     "Type:  TXT\n"
		     "Value: %s\n"
		     "\n"
		     "Zone-file form (strings of at most 255 bytes):\n"
		     "%s\n",
		     k->domain, k->selector, k->fqdn, k->relative, k->value, zone) < 0)
		out = NULL;
	free(zone);
	return out;
}

void wiz_record_path(const struct wizard *w, char *out, size_t outlen)
{
	snprintf(out, outlen, RECORD_FILE_DIR "/dkim-%s.txt", w->key.fqdn);
}

static int save_record(struct wizard *w, struct dk_err *err)
{
	char path[PATH_MAX];
	char *text = wiz_record_text(&w->key);
	if (text == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	if (w->have_edkey) {
		char *ed = wiz_record_text(&w->edkey), *both = NULL;
		if (ed == NULL || asprintf(&both, "%s\n%s", text, ed) < 0) {
			free(ed);
			free(text);
			return dk_fail(err, DK_SYSERR, "out of memory");
		}
		free(ed);
		free(text);
		text = both;
	}
	wiz_record_path(w, path, sizeof path);
	unsigned dry = w->opt->dry_run ? FS_DRY_RUN : 0;
	struct fs_write fw = { .root = w->opt->root, .path = path, .data = text, .len = strlen(text),
			       .mode = 0644, .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID,
			       .flags = FS_REPLACE | FS_BACKUP | dry };
	int rc = fs_mkdir(w->opt->root, RECORD_FILE_DIR, 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, dry, err);
	if (rc == 0)
		rc = fs_write_file(&fw, err);
	free(text);
	if (rc == 0)
		snprintf(w->saved_path, sizeof w->saved_path, "%s", path);
	return rc;
}

/* ---- step 1: look around -------------------------------------------------- */

static void survey_enter(struct wizard *w)
{
	if (w->survey_choice > w->n_resume)
		w->survey_choice = 0;
}

static enum wiz_result survey_handle(struct wizard *w, const struct wiz_event *ev)
{
	switch (ev->type) {
	case EV_CHOOSE:
		if (ev->arg >= 0 && ev->arg <= w->n_resume)
			w->survey_choice = ev->arg;
		return WR_STAY;
	case EV_NEXT:
		if (w->survey_choice > 0) {
			int i = w->survey_choice - 1;
			snprintf(w->domain, sizeof w->domain, "%s", w->resume[i].domain);
			snprintf(w->selector, sizeof w->selector, "%s", w->resume[i].selector);
		}
		return WR_NEXT;
	default:
		return WR_STAY;
	}
}

/* ---- step 2: domain --------------------------------------------------- */

static void domain_check(struct wizard *w)
{
	char norm[DK_DOMAIN_MAX + 1];
	w->why[0] = w->warn[0] = '\0';
	if (w->text[0] == '\0')
		snprintf(w->why, sizeof w->why, "Type the domain your mail is sent from, "
			 "for example example.com.");
	else
		validate_domain(w->text, norm, sizeof norm, w->why, sizeof w->why);
}

static void domain_enter(struct wizard *w)
{
	const char *d = w->domain[0] ? w->domain : w->opt->domain[0] ? w->opt->domain
								      : w->sv.default_domain;
	snprintf(w->text, sizeof w->text, "%s", d);
	domain_check(w);
}

static enum wiz_result text_step_handle(struct wizard *w, const struct wiz_event *ev,
					void (*check)(struct wizard *), char *dst, size_t dstlen,
					int (*norm)(const char *, char *, size_t, char *, size_t))
{
	switch (ev->type) {
	case EV_TEXT:
		if (w->msg_error)
			w->msg[0] = '\0';
		snprintf(w->text, sizeof w->text, "%s", ev->text != NULL ? ev->text : "");
		/* the form pads with blanks */
		for (size_t n = strlen(w->text); n > 0 && w->text[n - 1] == ' '; n--)
			w->text[n - 1] = '\0';
		check(w);
		return WR_STAY;
	case EV_NEXT:
		if (w->why[0] != '\0') {
			set_msg(w, true, "%s", w->why);
			return WR_STAY;
		}
		norm(w->text, dst, dstlen, w->why, sizeof w->why);
		return WR_NEXT;
	case EV_BACK:
		return WR_BACK;
	default:
		return WR_STAY;
	}
}

static enum wiz_result domain_handle(struct wizard *w, const struct wiz_event *ev)
{
	return text_step_handle(w, ev, domain_check, w->domain, sizeof w->domain, validate_domain);
}

/* ---- step 3: selector ------------------------------------------------- */

static void selector_check(struct wizard *w)
{
	char norm[DK_LABEL_MAX + 1];
	struct dk_existing ex;
	w->why[0] = w->warn[0] = '\0';
	if (w->text[0] == '\0') {
		snprintf(w->why, sizeof w->why, "Type a selector: letters, digits and hyphens, "
			 "for example the year and month.");
		return;
	}
	if (validate_selector(w->text, norm, sizeof norm, w->why, sizeof w->why) < 0 ||
	    validate_record_name(w->domain, norm, w->why, sizeof w->why) < 0)
		return;
	setup_existing_key(w->opt->root, w->domain, norm, &ex);
	if (ex.state == KEY_PRESENT) {
		char desc[32];
		snprintf(desc, sizeof desc, ex.alg == DK_ALG_RSA ? "RSA-%d" : "Ed25519", ex.bits);
		snprintf(w->warn, sizeof w->warn, "A %s key for this selector exists already "
			 "(%s%s-%s-private.pem): it will be used again. For a new key, choose "
			 "another selector.", desc, DK_PRIV_DIR "/", w->domain, norm);
		for (size_t i = 0; i < wiz_n_key_choices; i++)
			if (ex.alg == DK_ALG_RSA && wiz_key_choices[i].bits == ex.bits)
				w->key_choice = (int)i;
	} else if (ex.state == KEY_UNREADABLE) {
		snprintf(w->warn, sizeof w->warn, "Something unreadable is in the way: %s. "
			 "Choose another selector.", ex.detail);
	}
}

static void selector_enter(struct wizard *w)
{
	char def[16];
	setup_default_selector(time(NULL), def, sizeof def);
	const char *s = w->selector[0] ? w->selector : w->opt->selector[0] ? w->opt->selector : def;
	snprintf(w->text, sizeof w->text, "%s", s);
	selector_check(w);
}

static enum wiz_result selector_handle(struct wizard *w, const struct wiz_event *ev)
{
	return text_step_handle(w, ev, selector_check, w->selector, sizeof w->selector,
				validate_selector);
}

/* ---- step 4: key ----------------------------------------------------------- */

static struct dns_watch *watch_start(const struct dns_watch_cfg *cfg, struct dk_err *err)
{
	sigset_t old;
	dk_block_signals(&old, true);
	struct dns_watch *dw = dns_watch_start(cfg, err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return dw;
}

static void key_enter(struct wizard *w)
{
	struct dk_existing ex;
	struct dk_err err;
	if (w->key_choice < 0 || (size_t)w->key_choice >= wiz_n_key_choices)
		w->key_choice = 0;
	snprintf(w->ed_selector, sizeof w->ed_selector, "%.60s-ed", w->selector);
	/* continuing a pair: keep making (reusing) both */
	setup_existing_key(w->opt->root, w->domain, w->ed_selector, &ex);
	if (ex.state == KEY_PRESENT && ex.alg == DK_ALG_ED25519)
		w->with_ed = true;
	/* A record already at the name (and no local key for it) would be
	 * replaced: ask the servers in the background while the admin chooses. */
	w->published[0] = '\0';
	setup_existing_key(w->opt->root, w->domain, w->selector, &ex);
	if (ex.state != KEY_ABSENT ||
	    record_fqdn(w->domain, w->selector, w->probe_fqdn, sizeof w->probe_fqdn) < 0)
		return;
	struct dns_watch_cfg cfg = { .fqdn = w->probe_fqdn, .expect_p = NULL, .alg = DK_ALG_RSA,
				     .ns = w->opt->ns, .n_ns = w->opt->n_ns };
	dk_err_clear(&err);
	w->watch = watch_start(&cfg, &err);   /* no answer, no warning: nothing to say */
}

static void key_leave(struct wizard *w)
{
	watch_stop_async(w, &w->watch);
}

/* The background look at the selector's name answered. */
static void key_probe(struct wizard *w)
{
	bool pending = w->view.n == 0 && w->view.error[0] == '\0';
	for (size_t i = 0; i < w->view.n; i++) {
		const struct dns_server_view *sv = &w->view.servers[i];
		switch (sv->status) {
		case DNS_PENDING:
			pending = true;
			break;
		case DNS_ABSENT:
		case DNS_ERROR:
			break;
		default:
			if (w->published[0] == '\0')
				snprintf(w->published, sizeof w->published, "A record is already "
					 "published at %s (%s: %s). A new key would replace it and break "
					 "mail signed with the old one: Esc to choose another selector.", w->probe_fqdn,
					 sv->name, dns_status_name(sv->status));
			break;
		}
	}
	if (!pending) {   /* one answer from each server is enough */
		watch_stop_async(w, &w->watch);
	}
}

static int keygen_job(struct wizard *w, struct dk_err *err)
{
	const struct wiz_key_choice *c = &wiz_key_choices[w->key_choice];
	struct dk_keyjob *jobs[2] = { &w->key, &w->edkey };
	for (int i = 0; i < (w->with_ed ? 2 : 1); i++) {
		struct dk_keyjob *k = jobs[i];
		setup_keyjob_clear(k);
		memset(k, 0, sizeof *k);
		k->root = w->opt->root;
		snprintf(k->domain, sizeof k->domain, "%s", w->domain);
		snprintf(k->selector, sizeof k->selector, "%s", i == 0 ? w->selector : w->ed_selector);
		k->alg = i == 0 ? c->alg : DK_ALG_ED25519;
		k->bits = i == 0 ? c->bits : 0;
		k->force = w->opt->force;
		k->dry_run = w->opt->dry_run;
		if (setup_make_key(k, err) < 0)
			return -1;
	}
	return 0;
}

static enum wiz_result key_handle(struct wizard *w, const struct wiz_event *ev)
{
	switch (ev->type) {
	case EV_CHOOSE:
		if (ev->arg >= 0 && (size_t)ev->arg < wiz_n_key_choices)
			w->key_choice = ev->arg;
		return WR_STAY;
	case EV_ACTION:
		if (ev->arg == ACT_TOGGLE_ED)
			w->with_ed = !w->with_ed;
		return WR_STAY;
	case EV_NEXT:
		w->msg[0] = '\0';
		w->have_key = w->have_edkey = false;
		job_start(w, JOB_KEYGEN, keygen_job);
		return WR_STAY;
	case EV_BACK:
		return WR_BACK;
	case EV_DNS:
		key_probe(w);
		return WR_STAY;
	case EV_JOB_DONE:
		if (w->job.rc < 0) {
			set_msg(w, true, "%s", w->job.err.msg);
			return WR_STAY;
		}
		w->have_key = true;
		w->have_edkey = w->with_ed;
		return WR_NEXT;
	default:
		return WR_STAY;
	}
}

static size_t key_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	(void)w;
	if (max < 1)
		return 0;
	out[0] = (struct wiz_action){ 'e', "Ed25519 too", ACT_TOGGLE_ED };
	return 1;
}

/* ---- step 5: record ---------------------------------------------------- */

static enum wiz_result record_handle(struct wizard *w, const struct wiz_event *ev)
{
	struct dk_err err;
	switch (ev->type) {
	case EV_ACTION:
		if (ev->arg == ACT_SAVE) {
			dk_err_clear(&err);
			if (save_record(w, &err) < 0)
				set_msg(w, true, "Not saved: %s", err.msg);
			else if (w->opt->dry_run)
				set_msg(w, false, "Dry run: would save the record to %s%s",
					w->opt->root, w->saved_path);
			else
				set_msg(w, false, "Saved the record to %s%s", w->opt->root,
					w->saved_path);
		}
		return WR_STAY;
	case EV_NEXT:
		return WR_NEXT;
	case EV_BACK:
		return WR_BACK;
	default:
		return WR_STAY;
	}
}

static size_t record_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	(void)w;
	if (max < 3)
		return 0;
	out[0] = (struct wiz_action){ 'c', "copy", ACT_UI_COPY };
	out[1] = (struct wiz_action){ 'p', "print", ACT_UI_PRINT };
	out[2] = (struct wiz_action){ 's', "save", ACT_SAVE };
	return 3;
}

/* ---- step 6: wait for DNS -------------------------------------------- */

static void dns_start(struct wizard *w)
{
	struct dns_watch_cfg cfg;
	struct dk_err err;
	dk_err_clear(&err);
	watch_cfg(w, &w->key, &cfg);
	w->dns_error[0] = '\0';
	w->watch = watch_start(&cfg, &err);
	if (w->watch == NULL) {
		snprintf(w->dns_error, sizeof w->dns_error, "%s", err.msg[0] ? err.msg : "cannot watch DNS");
		return;
	}
	/* the second (Ed25519) record is watched alongside */
	if (w->have_edkey && w->watch_ed == NULL) {
		watch_cfg(w, &w->edkey, &cfg);
		w->watch_ed = watch_start(&cfg, &err);
	}
}

static void dns_enter(struct wizard *w)
{
	w->dns_ok = w->dns_skipped = false;
	w->publish_note[0] = '\0';
	dns_view_clear(&w->view);
	dns_view_clear(&w->view_ed);
	if (w->opt->dry_run) {
		snprintf(w->dns_error, sizeof w->dns_error, "Dry run: the key was not saved, so "
			 "there is nothing to look for in DNS.");
		return;
	}
	dns_start(w);
}

static void dns_leave(struct wizard *w)
{
	watch_stop_async(w, &w->watch);
	watch_stop_async(w, &w->watch_ed);
}

int wiz_dns_fd(const struct wizard *w)
{
	return w->watch != NULL ? dns_watch_fd(w->watch) : -1;
}

int wiz_dns_fd_ed(const struct wizard *w)
{
	return w->watch_ed != NULL ? dns_watch_fd(w->watch_ed) : -1;
}

int wiz_dns_update(struct wizard *w)
{
	int changed = 0;
	if (w->watch != NULL) {
		dns_view_clear(&w->view);
		changed |= dns_watch_view(w->watch, &w->view);
	}
	if (w->watch_ed != NULL) {
		dns_view_clear(&w->view_ed);
		changed |= dns_watch_view(w->watch_ed, &w->view_ed);
	}
	return changed;
}

static int publish_job(struct wizard *w, struct dk_err *err)
{
	struct dns_watch_cfg cfg;
	watch_cfg(w, &w->key, &cfg);
	if (dns_publish_ex(&cfg, w->key.value, &w->tsig, &w->published_at, err) < 0)
		return -1;
	if (!w->have_edkey)
		return 0;
	struct dns_publish_info ed_at;
	watch_cfg(w, &w->edkey, &cfg);
	return dns_publish_ex(&cfg, w->edkey.value, &w->tsig, &ed_at, err);
}

static enum wiz_result dns_handle(struct wizard *w, const struct wiz_event *ev)
{
	switch (ev->type) {
	case EV_DNS: {
		bool ok = w->view.all_match && (!w->have_edkey || w->view_ed.all_match);
		if (ok && !w->dns_ok)
			set_msg(w, false, "Every server serves the record%s. Press Enter to go on.",
				w->have_edkey ? "s" : "");
		else if (!ok && w->dns_ok)
			set_msg(w, true, "A server stopped serving the record.");
		w->dns_ok = ok;
		return WR_STAY;
	}
	case EV_ACTION:
		switch (ev->arg) {
		case ACT_CHECK_NOW:
			if (w->watch == NULL && !w->opt->dry_run)
				dns_start(w);
			else
				dns_watch_check_now(w->watch);
			dns_watch_check_now(w->watch_ed);
			set_msg(w, false, "Asking every server again...");
			return WR_STAY;
		case ACT_PUBLISH:
			if (!w->have_tsig) {
				set_msg(w, true, "Publishing needs --tsig-key FILE.");
				return WR_STAY;
			}
			if (job_start(w, JOB_PUBLISH, publish_job) == 0)
				set_msg(w, false, "Publishing by RFC 2136 UPDATE...");
			return WR_STAY;
		case ACT_SKIP:
			w->dns_skipped = !w->dns_ok;
			return WR_NEXT;
		default:
			return WR_STAY;
		}
	case EV_JOB_DONE:
		if (w->job.rc < 0) {
			set_msg(w, true, "Not published: %s", w->job.err.msg);
		} else {
			snprintf(w->publish_note, sizeof w->publish_note, "Published: %s@%u accepted the "
				 "update for zone %s (TSIG key %s).", w->published_at.server,
				 w->published_at.port, w->published_at.zone, w->tsig.name);
			set_msg(w, false, "Published; asking the servers again.");
			dns_watch_check_now(w->watch);
			dns_watch_check_now(w->watch_ed);
		}
		return WR_STAY;
	case EV_NEXT:
		if (w->dns_ok || w->opt->dry_run)
			return WR_NEXT;
		set_msg(w, true, "Not every server serves the record yet. Wait, press r after "
			"pasting it, or s to skip and check later.");
		return WR_STAY;
	case EV_BACK:
		return WR_BACK;
	default:
		return WR_STAY;
	}
}

static size_t dns_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	size_t n = 0;
	if (max < 3)
		return 0;
	out[n++] = (struct wiz_action){ 'r', "check now", ACT_CHECK_NOW };
	if (w->have_tsig)
		out[n++] = (struct wiz_action){ 'u', "publish", ACT_PUBLISH };
	out[n++] = (struct wiz_action){ 's', "skip", ACT_SKIP };
	return n;
}

/* ---- step 7: the mail server ------------------------------------------ */

static void mta_enter(struct wizard *w)
{
	struct dk_err err;
	struct mta_request req;
	dk_err_clear(&err);
	mta_plan_clear(&w->plan);
	w->have_plan = false;
	w->mta_error[0] = w->reload_what[0] = '\0';
	w->reloaded = false;
	memset(&w->mres, 0, sizeof w->mres);
	w->mta_phase = MTA_PREVIEW;
	if (mta_detect(w->opt->root, w->opt->mta, &w->mta, &err) < 0) {
		snprintf(w->mta_error, sizeof w->mta_error, "%s", err.msg);
		w->mta_phase = MTA_FAILED;
		return;
	}
	if (w->mta.kind == MTA_NONE) {
		w->mta_phase = MTA_SKIPPED;
		return;
	}
	mta_req(w, &req);
	if (mta_plan(&req, &w->plan, &err) < 0) {
		snprintf(w->mta_error, sizeof w->mta_error, "%s", err.msg);
		w->mta_phase = MTA_FAILED;
		return;
	}
	w->have_plan = true;
	if (w->plan.nothing_to_do)
		w->mta_phase = MTA_DONE;
}

static int apply_job(struct wizard *w, struct dk_err *err)
{
	struct mta_request req;
	mta_req(w, &req);
	return mta_apply(&req, &w->plan, &w->mres, err);
}

static enum wiz_result mta_handle(struct wizard *w, const struct wiz_event *ev)
{
	struct dk_err err;
	switch (ev->type) {
	case EV_NEXT:
		switch (w->mta_phase) {
		case MTA_PREVIEW:
			if (w->opt->dry_run) {
				w->mta_phase = MTA_SHOWN;
				return WR_NEXT;
			}
			if (job_start(w, JOB_MTA_APPLY, apply_job) == 0)
				w->mta_phase = MTA_APPLYING;
			return WR_STAY;
		case MTA_APPLYING:
			return WR_STAY;
		case MTA_APPLIED: {
			struct mta_request req;
			mta_req(w, &req);
			dk_err_clear(&err);
			if (mta_reload(&req, &w->plan, w->reload_what, sizeof w->reload_what, &err) < 0) {
				set_msg(w, true, "Reload failed: %s", err.msg);
				w->mta_phase = MTA_DONE;
				return WR_STAY;
			}
			w->reloaded = true;
			w->mta_phase = MTA_DONE;
			return WR_NEXT;
		}
		default:
			return WR_NEXT;
		}
	case EV_ACTION:
		if (ev->arg == ACT_SKIP && w->mta_phase == MTA_PREVIEW) {
			w->mta_phase = MTA_SKIPPED;
			return WR_NEXT;
		}
		if (ev->arg == ACT_NO_RELOAD && w->mta_phase == MTA_APPLIED)
			return WR_NEXT;
		return WR_STAY;
	case EV_JOB_DONE:
		if (w->job.rc < 0) {
			snprintf(w->mta_error, sizeof w->mta_error, "%s", w->job.err.msg);
			w->mta_phase = MTA_FAILED;
		} else {
			struct mta_request req;
			mta_req(w, &req);
			w->no_reload = mta_no_reload_reason(&req);
			w->mta_phase = MTA_APPLIED;
		}
		return WR_STAY;
	case EV_BACK:
		return w->mta_phase == MTA_APPLYING ? WR_STAY : WR_BACK;
	default:
		return WR_STAY;
	}
}

static size_t mta_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	if (max < 1)
		return 0;
	if (w->mta_phase == MTA_PREVIEW) {
		out[0] = (struct wiz_action){ 's', "skip", ACT_SKIP };
		return 1;
	}
	if (w->mta_phase == MTA_APPLIED && w->no_reload == NULL) {
		out[0] = (struct wiz_action){ 'n', "no reload", ACT_NO_RELOAD };
		return 1;
	}
	return 0;
}

/* ---- step 8: proof and summary ---------------------------------------- */

static int proof_one(const struct wizard *w, const struct dk_keyjob *k, struct proof_result *res,
		     struct dk_err *err)
{
	struct proof_request req = {
		.root = w->opt->root, .domain = k->domain, .selector = k->selector,
		.priv_path = k->paths.priv, .ns = w->opt->ns, .n_ns = w->opt->n_ns,
	};
	return proof_run(&req, res, err);
}

/* Every key made is proven: the RSA one, then the Ed25519 one if any; with
 * two, a failure says which key it was. */
static int proof_job(struct wizard *w, struct dk_err *err)
{
	const struct dk_keyjob *k = &w->key;
	int rc = proof_one(w, k, &w->proof, err);
	if (rc == 0 && w->have_edkey) {
		k = &w->edkey;
		rc = proof_one(w, k, &w->proof_ed, err);
	}
	if (rc == 0 || !w->have_edkey)
		return rc;
	char why[sizeof err->msg];
	snprintf(why, sizeof why, "%s", err->msg);
	return dk_fail(err, err->status, "%s key (%s): %s", k == &w->edkey ? "Ed25519" : "RSA",
		       k->selector, why);
}

static void summary_enter(struct wizard *w)
{
	w->proof_done = false;
	w->proof_error[0] = '\0';
	memset(&w->proof, 0, sizeof w->proof);
	memset(&w->proof_ed, 0, sizeof w->proof_ed);
	if (w->opt->dry_run || !w->dns_ok) {
		w->proof_done = true;
		snprintf(w->proof_error, sizeof w->proof_error, "%s",
			 w->opt->dry_run ? "Dry run: nothing to prove."
					 : "Not tried: the record is not published everywhere yet.");
		return;
	}
	job_start(w, JOB_PROOF, proof_job);
}

static enum wiz_result summary_handle(struct wizard *w, const struct wiz_event *ev)
{
	switch (ev->type) {
	case EV_JOB_DONE:
		w->proof_done = true;
		if (w->job.rc < 0)
			snprintf(w->proof_error, sizeof w->proof_error, "%s", w->job.err.msg);
		return WR_STAY;
	case EV_NEXT:
		if (!w->proof_done)
			return WR_STAY;
		if (w->opt->dry_run)
			w->status = DK_OK;
		else if (!w->dns_ok)
			w->status = DK_MISMATCH;
		else if (w->proof_error[0] != '\0')
			w->status = w->job.err.status ? w->job.err.status : DK_SYSERR;
		else
			w->status = w->proof.verified && (!w->have_edkey || w->proof_ed.verified)
					    ? DK_OK : DK_MISMATCH;
		return WR_FINISH;
	case EV_BACK:
		return w->proof_done ? WR_BACK : WR_STAY;
	default:
		return WR_STAY;
	}
}

/* ---- the table ---------------------------------------------------------- */

const struct step wiz_steps[WS_COUNT] = {
	[WS_SURVEY] = { "Start", "What this server has",
		"dkim-setup looked at this server: the mail software installed, its mail name, "
		"and DKIM keys made before. If a key from an earlier run is listed, you can "
		"continue with it: nothing is generated again.",
		"survey", false, survey_enter, survey_handle, NULL, NULL },
	[WS_DOMAIN] = { "Domain", "The domain you send mail from",
		"The signing domain (d=) is the domain in the From: address of your mail, "
		"for example example.com. Receivers look up the key under this domain. The "
		"default comes from /etc/mailname.",
		"domain", true, domain_enter, domain_handle, NULL, NULL },
	[WS_SELECTOR] = { "Selector", "A name for this key",
		"The selector (s=) names the key, so that a new key can be published next to "
		"the old one when you rotate it. The year and month is a good choice. The "
		"record will be <selector>._domainkey.<domain>.",
		"selector", true, selector_enter, selector_handle, NULL, NULL },
	[WS_KEY] = { "Key", "The key type",
		"RSA 2048 bits is what every receiver checks and what most DNS panels accept. "
		"4096 bits makes a record too long for some panels; 1024 bits is weak. Ed25519 "
		"is small and strong, but many receivers still ignore it, so it is only "
		"offered as a second key next to RSA (press e).",
		"key", false, key_enter, key_handle, key_leave, key_actions },
	[WS_RECORD] = { "Record", "Publish this TXT record in your DNS",
		"Add this TXT record at your DNS provider. Web panels usually want the name "
		"without the domain (they add it). If your terminal cannot copy, press p to "
		"print the record as plain text and select it with the mouse, or s to save "
		"it to a file.",
		"record", false, NULL, record_handle, NULL, record_actions },
	[WS_DNS] = { "DNS", "Waiting for the DNS servers",
		"dkim-setup asks the domain's authoritative name servers directly, every few "
		"seconds. Each must serve exactly the new key. Do not look the name up through "
		"an ordinary resolver before they all do: it would remember \"missing\" for "
		"the zone's negative-caching time. Press s to skip and run dkim-setup check later.",
		"dns", false, dns_enter, dns_handle, dns_leave, dns_actions },
	[WS_MTA] = { "Mail", "Make the mail server sign",
		"The mail server must sign outgoing mail with the key. dkim-setup shows the "
		"exact change, keeps a backup of every file, checks the result with the mail "
		"server's own checker (rolling back if it fails), and reloads only if you say so.",
		"mta", false, mta_enter, mta_handle, NULL, mta_actions },
	[WS_SUMMARY] = { "Done", "Proof and summary",
		"A test message is signed with the new key and verified against the record as "
		"DNS serves it. Then SPF and DMARC records are suggested: DKIM alone does not "
		"tell receivers what to do with unsigned mail.",
		"proof summary", false, summary_enter, summary_handle, NULL, NULL },
};

/* ---- the engine ----------------------------------------------------------- */

static void go(struct wizard *w, enum wiz_step_id to)
{
	const struct step *s = &wiz_steps[w->step];
	if (s->leave != NULL)
		s->leave(w);
	w->step = to;
	w->msg[0] = '\0';
	w->msg_error = false;
	s = &wiz_steps[to];
	if (s->enter != NULL)
		s->enter(w);
}

enum wiz_result wiz_dispatch(struct wizard *w, const struct wiz_event *ev)
{
	/* While the worker runs, the step stays and its inputs stay put (the
	 * worker reads them); only asking DNS again is fine. */
	if (w->job.running && (ev->type == EV_NEXT || ev->type == EV_BACK || ev->type == EV_CHOOSE ||
			       ev->type == EV_TEXT ||
			       (ev->type == EV_ACTION && ev->arg != ACT_CHECK_NOW))) {
		set_msg(w, false, "Please wait a moment: still working.");
		return WR_STAY;
	}
	enum wiz_result r = wiz_steps[w->step].handle(w, ev);
	if (r == WR_NEXT && w->step + 1 < WS_COUNT)
		go(w, w->step + 1);
	else if (r == WR_BACK && w->step > WS_SURVEY)
		go(w, w->step - 1);
	return r;
}

size_t wiz_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	const struct step *s = &wiz_steps[w->step];
	return s->actions != NULL ? s->actions(w, out, max) : 0;
}

const char *wiz_enter_label(const struct wizard *w)
{
	switch (w->step) {
	case WS_KEY:
		return "create";
	case WS_MTA:
		return w->mta_phase == MTA_PREVIEW && !w->opt->dry_run ? "apply"
		       : w->mta_phase == MTA_APPLIED && w->no_reload == NULL ? "reload" : "next";
	case WS_SUMMARY:
		return "finish";
	default:
		return "next";
	}
}

const char *wiz_quit_question(const struct wizard *w)
{
	static char q[PATH_MAX + 256];
	if (w->job.running && w->job.kind == JOB_KEYGEN)
		return "Quit? The key being made is finished and saved first; run dkim-setup "
		       "again to continue with it.";
	/* before the key nothing is written, so nothing is lost */
	if (w->step == WS_SUMMARY || !w->have_key)
		return NULL;
	if (w->opt->dry_run)
		return "Quit? This is a dry run: nothing was written.";
	snprintf(q, sizeof q, "Quit? The key is saved in %s%s; run dkim-setup again to "
		 "continue with it.", w->opt->root, w->key.paths.priv);
	return q;
}

const char *wiz_training_text(const struct wizard *w, enum wiz_step_id step)
{
	if (!w->opt->training || step >= WS_COUNT)
		return NULL;
	return w->training[step];
}

const char *wiz_training_welcome(const struct wizard *w)
{
	return w->opt->training ? w->welcome : NULL;
}

#define TRAINING_MAX 8192

/* dir/name.txt, or NULL. As root only a file root alone can change
 * (fs_read_trusted): DKIM_SETUP_ASSETS or a user's build tree cannot feed
 * root's screen, and a FIFO or symlink there is refused, not waited on. */
static char *read_text(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s.txt", dir, name) >= (int)sizeof path)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	if (fs_read_trusted(path, TRAINING_MAX - 1, &buf, &n, NULL) < 0 || n == 0) {
		free(buf);
		return NULL;
	}
	/* keep it printable: tabs become spaces, other controls go */
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '\t')
			*c = ' ';
		else if ((unsigned char)*c < 0x20 && *c != '\n')
			*c = '?';
	return buf;
}

/* all + t as one text: t's title stands alone, a paragraph of its own.
 * Takes both; returns the joined text (or all when t is NULL). */
static char *join_text(char *all, char *t)
{
	if (t == NULL)
		return all;
	if (all == NULL)
		return t;
	size_t al = strlen(all);
	while (al > 0 && all[al - 1] == '\n')
		all[--al] = '\0';
	char *nl = strchr(t, '\n'), *joined = NULL;
	if (asprintf(&joined, "%s\n\n%.*s\n\n%s", all, nl ? (int)(nl - t) : (int)strlen(t), t,
		     nl ? nl + 1 : "") < 0)
		joined = NULL;
	free(t);
	if (joined == NULL)
		return all;
	free(all);
	return joined;
}

void wiz_training_load(struct wizard *w, const char *dir)
{
	/* The welcome also says what "look around" did: that step has a screen
	 * of its own only when an earlier run left keys. */
	if (w->welcome == NULL)
		w->welcome = read_text(dir, "welcome");
	if (w->welcome != NULL && !w->welcome_has_survey) {
		w->welcome = join_text(w->welcome, read_text(dir, "survey"));
		w->welcome_has_survey = true;
	}
	for (int i = 0; i < WS_COUNT; i++) {
		if (w->training[i] != NULL || wiz_steps[i].asset == NULL)
			continue;
		char names[64];
		snprintf(names, sizeof names, "%s", wiz_steps[i].asset);
		char *save = NULL, *all = NULL;
		for (char *name = strtok_r(names, " ", &save); name != NULL;
		     name = strtok_r(NULL, " ", &save))
			all = join_text(all, read_text(dir, name));
		w->training[i] = all;
	}
}

void wiz_init(struct wizard *w, const struct options *opt)
{
	struct dk_err err;
	memset(w, 0, sizeof *w);
	w->opt = opt;
	w->status = DK_MISMATCH;
	setup_survey(opt->root, &w->sv);
	for (int i = 0; i < w->sv.n_keys && w->n_resume < 16; i++) {
		int k = w->n_resume;
		if (wiz_parse_keyfile(w->sv.keys[i], w->resume[k].domain, sizeof w->resume[k].domain,
				      w->resume[k].selector, sizeof w->resume[k].selector) < 0)
			continue;
		/* "<sel>-ed" next to "<sel>" is the second key of a pair, not a setup */
		struct dk_existing ex;
		char base[DK_LABEL_MAX + 1];
		size_t n = strlen(w->resume[k].selector);
		if (n > 3 && strcmp(w->resume[k].selector + n - 3, "-ed") == 0) {
			snprintf(base, sizeof base, "%.*s", (int)(n - 3), w->resume[k].selector);
			setup_existing_key(opt->root, w->resume[k].domain, base, &ex);
			if (ex.state == KEY_PRESENT)
				continue;
		}
		w->n_resume++;
	}
	for (size_t i = 0; i < wiz_n_key_choices; i++)
		if (opt->alg == DK_ALG_RSA && opt->bits_given && wiz_key_choices[i].bits == opt->bits)
			w->key_choice = (int)i;
	w->with_ed = opt->alg_given && opt->alg == DK_ALG_ED25519;
	if (opt->tsig_key_file != NULL) {
		dk_err_clear(&err);
		if (dns_tsig_load(opt->tsig_key_file, &w->tsig, &err) == 0)
			w->have_tsig = true;
		else
			set_msg(w, true, "TSIG key not usable: %s", err.msg);
	}
	/* Step 1 is a screen of its own only when there is a choice to make. */
	w->step = w->n_resume > 0 && !(opt->domain[0] && opt->selector[0]) ? WS_SURVEY : WS_DOMAIN;
	if (wiz_steps[w->step].enter != NULL)
		wiz_steps[w->step].enter(w);
}

void wiz_free(struct wizard *w)
{
	wiz_job_wait(w);
	const struct step *s = &wiz_steps[w->step];
	if (s->leave != NULL)
		s->leave(w);
	watch_stop_async(w, &w->watch);
	watch_stop_async(w, &w->watch_ed);
	for (int i = 0; i < w->n_stoppers; i++)
		pthread_join(w->stoppers[i], NULL);
	w->n_stoppers = 0;
	dns_view_clear(&w->view);
	dns_view_clear(&w->view_ed);
	dns_tsig_clear(&w->tsig);
	mta_plan_clear(&w->plan);
	setup_keyjob_clear(&w->key);
	setup_keyjob_clear(&w->edkey);
	for (int i = 0; i < WS_COUNT; i++) {
		free(w->training[i]);
		w->training[i] = NULL;
	}
	free(w->welcome);
	w->welcome = NULL;
}
