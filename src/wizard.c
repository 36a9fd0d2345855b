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
#include "ui_doc.h"
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


/* ---- screen text helpers (no curses: struct doc, see ui_doc.h) ------------- */

static const char *mta_names(const struct dk_survey *sv, char *buf, size_t len)
{
	const char *names[] = { sv->has_exim ? "Exim" : NULL, sv->has_postfix ? "Postfix" : NULL,
				sv->has_opendkim ? "OpenDKIM" : NULL, sv->has_rspamd ? "rspamd" : NULL };
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i] != NULL)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "", names[i]);
	if (buf[0] == '\0')
		snprintf(buf, len, "no mail server found");
	return buf;
}

static void spinner(const struct wizard *w, char *buf, size_t len, const char *what)
{
	static const char wheel[] = "|/-\\";
	time_t secs = time(NULL) - w->job.started;
	snprintf(buf, len, "%c %s... %ld s", wheel[secs % 4], what, (long)secs);
}

void wiz_command(const struct wizard *w, const char *verb, const struct dk_keyjob *k, char *out,
		 size_t outlen)
{
	char ns[2 * DK_MAX_NAMESERVERS * (DK_ADDR_MAX + 24)];
	options_dns_args(w->opt, ns, sizeof ns);
	snprintf(out, outlen, "dkim-setup %s -d %s -s %s%s%s%s", verb, k->domain, k->selector,
		 w->opt->root[0] ? " --root " : "", w->opt->root, strcmp(verb, "check") == 0 ? ns : "");
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
	req->mta = w->mta_choice[0] ? w->mta_choice : w->opt->mta;
	/* a selector that signs now is not displaced before DNS serves the new one */
	req->defer_switch = !w->dns_ok;
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

int wiz_record_sections(const struct dk_keyjob *k, char *out[3])
{
	char *zone = record_zone(k->fqdn, k->value), *chunks = record_chunks(k->value);
	out[0] = out[1] = out[2] = NULL;
	if (zone != NULL && chunks != NULL &&
	    (asprintf(&out[0],
		      "DKIM record for %s, selector %s\n"
		      "\n"
		      "Name:  %s\n"
		      "       (most web DNS panels want only \"%s\": they add the domain themselves)\n"
		      "Type:  TXT\n"
		      "Value: %s\n", k->domain, k->selector, k->fqdn, k->relative, k->value) < 0 ||
	     asprintf(&out[1], "Value as quoted strings of at most 255 bytes (Route 53, Google "
		      "Cloud DNS):\n%s\n", chunks) < 0 ||
	     asprintf(&out[2], "Zone-file form:\n%s\n", zone) < 0)) {
		free(out[0]);
		free(out[1]);
		out[0] = out[1] = out[2] = NULL;
	}
	free(zone);
	free(chunks);
	return out[0] != NULL ? 0 : -1;
}

char *wiz_record_text(const struct dk_keyjob *k)
{
	char *sec[3], *out = NULL;
	if (wiz_record_sections(k, sec) < 0)
		return NULL;
	if (asprintf(&out, "%s\n%s\n%s", sec[0], sec[1], sec[2]) < 0)
		out = NULL;
	for (int i = 0; i < 3; i++)
		free(sec[i]);
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
	if (w->survey_choice >= wiz_survey_items(w))
		w->survey_choice = 0;
}

static enum wiz_result survey_handle(struct wizard *w, const struct wiz_event *ev)
{
	switch (ev->type) {
	case EV_CHOOSE:
		if (ev->arg >= 0 && ev->arg < wiz_survey_items(w))
			w->survey_choice = ev->arg;
		return WR_STAY;
	case EV_NEXT:
		if (wiz_rotate_choose(w, w->survey_choice))
			return WR_NEXT;
		if (w->survey_choice > w->n_rotate) {
			int i = w->survey_choice - 1 - w->n_rotate;
			snprintf(w->domain, sizeof w->domain, "%s", w->resume[i].domain);
			snprintf(w->selector, sizeof w->selector, "%s", w->resume[i].selector);
		}
		return WR_NEXT;
	default:
		return WR_STAY;
	}
}


static int survey_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[256];
	(void)post;
	doc_para(pre, 0, DA_NORMAL, "Host name:     %s", w->sv.hostname[0] ? w->sv.hostname : "(unknown)");
	doc_para(pre, 0, DA_NORMAL, "/etc/mailname: %s", w->sv.mailname[0] ? w->sv.mailname : "(none)");
	doc_para(pre, 0, DA_NORMAL, "Mail software: %s", mta_names(&w->sv, buf, sizeof buf));
	doc_para(pre, 0, DA_NORMAL, "DKIM keys:     %d in " DK_PRIV_DIR, w->sv.n_keys);
	if (!w->sv.is_root && w->opt->root[0] == '\0')
		doc_para(pre, 0, DA_WARN, "Not running as root.");
	doc_blank(pre);
	for (int i = 0; i < w->n_overview; i++)
		doc_para(pre, 0, i == 0 ? DA_BOLD : DA_NORMAL, "%s", w->overview[i]);
	if (w->n_overview > 0)
		doc_blank(pre);
	if (w->n_rotate > 0)
		doc_para(pre, 0, DA_NORMAL, "Rotate a key (a new selector, published and served before the "
			 "mail server switches), add a domain, or continue an earlier setup:");
	else
		doc_para(pre, 0, DA_NORMAL, "%s Continue with one, or set up a new key:", w->n_resume == 1 ?
			 "A key from an earlier run is here." : "Keys from earlier runs are here.");
	doc_blank(pre);
	return wiz_survey_items(w);
}

/* ---- step 2: domain --------------------------------------------------- */

static void domain_check(struct wizard *w)
{
	char norm[DK_DOMAIN_MAX + 1], u[DK_DOMAIN_MAX + 1];
	w->why[0] = w->warn[0] = w->text_note[0] = '\0';
	if (strchr(w->text, '?') != NULL && !w->utf8)
		snprintf(w->why, sizeof w->why, "'?' stands for a character this terminal could not "
			 "pass on (its locale is not UTF-8): type the name's xn-- form, or run with "
			 "LANG=C.UTF-8.");
	else if (w->text[0] == '\0')
		snprintf(w->why, sizeof w->why, "Type the domain your mail is sent from, "
			 "for example example.com.");
	else if (validate_domain(w->text, norm, sizeof norm, w->why, sizeof w->why) == 0 &&
		 validate_domain_unicode(norm, u, sizeof u) == 1)
		snprintf(w->text_note, sizeof w->text_note, ": the international name %s is %s in "
			 "DNS and in file names", u, norm);
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
	/* The first screen when no earlier key is offered: nothing before it. */
	if (ev->type == EV_BACK && w->n_resume == 0)
		return WR_STAY;
	return text_step_handle(w, ev, domain_check, w->domain, sizeof w->domain, validate_domain);
}


/* The field's verdict under a text step: the reason, or OK (and for an
 * international name, the form DNS and the files use). */
static int text_post(const struct wizard *w, struct doc *post)
{
	if (w->why[0])
		doc_para(post, 0, DA_ERR, "%s", w->why);
	else
		doc_para(post, 0, DA_OK, "OK%s", w->text_note);
	if (w->warn[0])
		doc_para(post, 0, DA_WARN, "%s", w->warn);
	return 1;
}

static int domain_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[256];
	doc_para(pre, 0, DA_NORMAL, "This server: %s; mail software: %s.",
		 w->sv.hostname[0] ? w->sv.hostname : "(no host name)", mta_names(&w->sv, buf, sizeof buf));
	doc_blank(pre);
	doc_para(pre, 0, DA_NORMAL, "Which domain do you send mail from? This is the domain "
		 "after the @ in your From: addresses%s. International names (müller.de) are fine.",
		 w->sv.mailname[0] ? " (the default comes from /etc/mailname)" : "");
	doc_blank(pre);
	doc_para(pre, 0, DA_BOLD, "Domain:");
	return text_post(w, post);
}

/* ---- step 3: selector ------------------------------------------------- */

/* "<base>", "<base>-2", ...: the first selector without a key here. */
static void fresh_selector(const struct wizard *w, const char *base, char *out, size_t outlen)
{
	struct dk_existing ex;
	snprintf(out, outlen, "%s", base);
	for (int i = 2; i < 100; i++) {
		setup_existing_key(w->opt->root, w->domain, out, &ex);
		if (ex.state == KEY_ABSENT)
			return;
		snprintf(out, outlen, "%.55s-%d", base, i);
	}
}

static void selector_check(struct wizard *w)
{
	char norm[DK_LABEL_MAX + 1];
	struct dk_existing ex;
	w->why[0] = w->warn[0] = w->text_note[0] = '\0';
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
			 "(%s%s-%s-private.pem): the next step uses it again, or replaces it (the old "
			 "key kept as a backup), or takes a fresh selector.", desc, DK_PRIV_DIR "/",
			 w->domain, norm);
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
	/* "Set up a new key" means a new key: the default selector is one
	 * without a key yet (202612, else 202612-2, ...). */
	if (!w->selector[0] && !w->opt->selector[0])
		fresh_selector(w, def, w->text, sizeof w->text);
	else
		snprintf(w->text, sizeof w->text, "%s", w->selector[0] ? w->selector : w->opt->selector);
	selector_check(w);
}

static enum wiz_result selector_handle(struct wizard *w, const struct wiz_event *ev)
{
	return text_step_handle(w, ev, selector_check, w->selector, sizeof w->selector,
				validate_selector);
}


static int selector_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	doc_para(pre, 0, DA_NORMAL, "A selector names this key, so that a new one can be "
		 "published next to it when you rotate keys. The year and month is a good "
		 "choice. The record will be named <selector>._domainkey.%s.", w->domain);
	doc_blank(pre);
	doc_para(pre, 0, DA_BOLD, "Selector:");
	return text_post(w, post);
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

/* Does the menu's choice describe the key already at the selector? */
static bool key_choice_is_existing(const struct wizard *w)
{
	const struct wiz_key_choice *c = &wiz_key_choices[w->key_choice];
	return w->existing.state == KEY_PRESENT && w->existing.alg == c->alg &&
	       w->existing.bits == c->bits;
}

static void key_enter(struct wizard *w)
{
	struct dk_existing ex;
	struct dk_err err;
	if (w->key_choice < 0 || (size_t)w->key_choice >= wiz_n_key_choices)
		w->key_choice = 0;
	w->replace = false;
	setup_existing_key(w->opt->root, w->domain, w->selector, &w->existing);
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
		k->force = w->opt->force || (i == 0 && w->replace);
		k->dry_run = w->opt->dry_run;
		if (setup_make_key(k, err) < 0)
			return -1;
	}
	/* Who hosts the zone's DNS (its NS names), for the record screen's
	 * words; no answer only means the general advice. */
	struct dns_watch_cfg cfg;
	struct dk_err ignored;
	watch_cfg(w, &w->key, &cfg);
	cfg.timeout = 1.0;
	dk_err_clear(&ignored);
	w->n_ns_names = dns_zone_ns(&cfg, w->ns_names, 8, &ignored);
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
		else if (ev->arg == ACT_REPLACE && w->existing.state != KEY_ABSENT)
			w->replace = !w->replace;
		else if (ev->arg == ACT_FRESH && w->existing.state != KEY_ABSENT) {
			char sel[DK_LABEL_MAX + 1];
			fresh_selector(w, w->selector, sel, sizeof sel);
			key_leave(w);
			snprintf(w->selector, sizeof w->selector, "%s", sel);
			key_enter(w);
			set_msg(w, false, "A fresh selector: %s.", w->selector);
		}
		return WR_STAY;
	case EV_NEXT:
		if (w->existing.state != KEY_ABSENT && !w->replace && !key_choice_is_existing(w) &&
		    !w->opt->force) {
			set_msg(w, true, "Selector %s already has a key. Press r to replace it (the old "
				"key is kept as a backup) or f for a fresh selector.", w->selector);
			return WR_STAY;
		}
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
		wiz_rotate_keys_made(w);
		return WR_NEXT;
	default:
		return WR_STAY;
	}
}

static size_t key_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	size_t n = 0;
	if (max < 3 || w->job.running)
		return 0;
	out[n++] = (struct wiz_action){ 'e', "Ed25519 too", ACT_TOGGLE_ED };
	if (w->existing.state != KEY_ABSENT) {
		out[n++] = (struct wiz_action){ 'r', w->replace ? "keep old key" : "replace", ACT_REPLACE };
		out[n++] = (struct wiz_action){ 'f', "fresh selector", ACT_FRESH };
	}
	return n;
}

static int key_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[512];
	const struct wiz_key_choice *c = &wiz_key_choices[w->key_choice];
	doc_para(pre, 0, DA_NORMAL, "Which key for %s, selector %s? The first choice is "
		 "right for nearly everyone.", w->domain, w->selector);
	doc_blank(pre);
	if (c->note[0])
		doc_para(post, 0, c->bits == 1024 || c->bits == 4096 ? DA_WARN : DA_NORMAL, "%s", c->note);
	else
		doc_blank(post);
	if (w->existing.state == KEY_PRESENT) {
		char desc[32];
		snprintf(desc, sizeof desc, w->existing.alg == DK_ALG_RSA ? "RSA-%d" : "Ed25519",
			 w->existing.bits);
		if (w->replace)
			doc_para(post, 0, DA_WARN, "The %s key of selector %s will be replaced by a new "
				 "one; the old key is kept as a backup. r keeps it instead.", desc, w->selector);
		else if (key_choice_is_existing(w))
			doc_para(post, 0, DA_NORMAL, "Selector %s has this %s key already: Enter uses it "
				 "again. r replaces it (old key kept as backup), f takes a fresh selector.",
				 w->selector, desc);
		else
			doc_para(post, 0, DA_WARN, "Selector %s has an %s key already. r replaces it "
				 "(old key kept as backup), f takes a fresh selector.", w->selector, desc);
	} else if (w->existing.state == KEY_UNREADABLE) {
		doc_para(post, 0, DA_WARN, "Something unreadable is at this selector's key file (%s): "
			 "r replaces it (kept as a backup), f takes a fresh selector.", w->existing.detail);
	}
	if (w->published[0])
		doc_para(post, 0, DA_WARN, "%s", w->published);
	doc_blank(post);
	doc_para(post, 0, DA_NORMAL, "[%c] Also an Ed25519 key, selector %s (e switches)",
		 w->with_ed ? 'x' : ' ', w->ed_selector);
	if (w->job.running && w->job.kind == JOB_KEYGEN) {
		char what[96];
		doc_blank(post);
		snprintf(what, sizeof what, "Generating the key%s", c->bits >= 3072 ?
			 " (large keys take a few seconds; keys still work)" : "");
		spinner(w, buf, sizeof buf, what);
		doc_para(post, 0, DA_BOLD, "%s", buf);
	}
	return (int)wiz_n_key_choices;
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
	if (max < 4)
		return 0;
	out[0] = (struct wiz_action){ 'c', "copy", ACT_UI_COPY };
	out[1] = (struct wiz_action){ 'p', "print", ACT_UI_PRINT };
	out[2] = (struct wiz_action){ 's', "save", ACT_SAVE };
	if (w->have_edkey)
		out[3] = (struct wiz_action){ 'e', "copy Ed25519", ACT_UI_COPY_ED };
	return w->have_edkey ? 4 : 3;
}


/* The host of the zone's DNS, from its NS names (assets/providers.txt). */
const struct record_provider *wiz_provider(const struct wizard *w)
{
	if (w->n_ns_names == 0)
		return NULL;
	return record_provider_match(w->providers, w->n_providers, w->ns_names, w->n_ns_names);
}

/* The value in the form the zone's host takes (what c copies). malloc'd. */
char *wiz_record_form(const struct wizard *w, const struct dk_keyjob *k)
{
	const struct record_provider *p = wiz_provider(w);
	const struct record_provider *use = p != NULL ? p : &w->fallback;
	return use->chunks && strlen(k->value) > RECORD_STRING_MAX ? record_chunks(k->value)
								  : strdup(k->value);
}

/* One record: the Name field in the panel's words, then every value form. */
static void record_one(const struct wizard *w, struct doc *d, const struct dk_keyjob *k)
{
	const struct record_provider *p = wiz_provider(w);
	const struct record_provider *use = p != NULL ? p : &w->fallback;
	bool long_value = strlen(k->value) > RECORD_STRING_MAX;
	char *chunks = record_chunks(k->value), *zone = record_zone(k->fqdn, k->value);
	int pad = 16 - (int)strlen(use->field);
	doc_para(d, 0, DA_NORMAL, "%s:%*s%s", use->field, pad > 1 ? pad : 1, "",
		 use->fqdn_name ? k->fqdn : k->relative);
	if (!use->fqdn_name)
		doc_para(d, 2, DA_WARN, "Enter only %s: the panel adds the domain itself (typing "
			 "the whole name makes it %s.%s).", k->relative, k->fqdn, k->domain);
	doc_para(d, 0, DA_NORMAL, "Full name:       %s", k->fqdn);
	doc_para(d, 0, DA_NORMAL, "Type:            TXT");
	doc_para(d, 0, DA_NORMAL, "TTL:             %s (how long resolvers may keep the answer)",
		 use->ttl);
	if (use->chunks && long_value) {
		doc_para(d, 0, DA_NORMAL, "Value (quoted strings of at most 255 characters, quotes "
			 "included; c copies it):");
		doc_hard(d, 2, DA_BOLD, chunks != NULL ? chunks : "(out of memory)");
	} else {
		doc_para(d, 0, DA_NORMAL, "Value (one string, no quotes; c copies it):");
		doc_hard(d, 2, DA_BOLD, k->value);
	}
	if (p == NULL && long_value) {
		doc_para(d, 0, DA_NORMAL, "The same as quoted strings, for panels that refuse over 255 "
			 "characters (p shows every form on whole lines):");
		doc_hard(d, 2, DA_NORMAL, chunks != NULL ? chunks : "(out of memory)");
		doc_para(d, 0, DA_NORMAL, "Zone-file form:");
		doc_hard(d, 2, DA_NORMAL, zone != NULL ? zone : "(out of memory)");
	}
	free(chunks);
	free(zone);
}

static int record_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[PATH_MAX];
	const struct record_provider *p = wiz_provider(w);
	(void)post;
	if (validate_domain_unicode(w->key.domain, buf, sizeof buf) == 1)
		doc_para(pre, 0, DA_NORMAL, "Domain %s is %s in DNS, in the record and in file names.",
			 buf, w->key.domain);
	doc_para(pre, 0, DA_NORMAL, "%s the key %s (0600).",
		 w->key.outcome == KEYJOB_REUSED ? "Using" :
		 w->key.outcome == KEYJOB_REPLACED ? "Replaced (old key kept as backup):" :
		 w->key.outcome == KEYJOB_DRY_RUN ? "Dry run: not saved:" : "Saved", w->key.paths.priv);
	if (p != NULL)
		doc_para(pre, 0, DA_BOLD, "Your DNS is at %s (its name servers say so). Add this TXT "
			 "record in its panel:", p->name);
	else
		doc_para(pre, 0, DA_BOLD, "Add this TXT record where your domain's DNS is managed%s:",
			 w->n_ns_names > 0 ? " (a DNS host dkim-setup does not know)" : "");
	doc_blank(pre);
	record_one(w, pre, &w->key);
	if (p != NULL && p->note[0])
		doc_para(pre, 0, DA_NORMAL, "%s", p->note);
	else if (p == NULL && w->fallback.note[0])
		doc_para(pre, 0, DA_NORMAL, "%s", w->fallback.note);
	if (w->have_edkey) {
		doc_blank(pre);
		doc_para(pre, 0, DA_BOLD, "And the second (Ed25519) record (e copies its value):");
		record_one(w, pre, &w->edkey);
	}
	doc_blank(pre);
	wiz_record_path(w, buf, sizeof buf);
	doc_para(pre, 0, DA_NORMAL, "c copies the value to the clipboard by OSC 52 (not every "
		 "terminal honours it). p shows every form on whole lines, to select with the mouse. "
		 "s saves them to:");
	doc_copy(pre, 2, DA_NORMAL, buf);
	return 0;
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
			if (w->dns_ok)
				return WR_STAY;
			if (!w->have_tsig) {
				set_msg(w, true, "Publishing needs --tsig-key FILE.");
				return WR_STAY;
			}
			if (job_start(w, JOB_PUBLISH, publish_job) == 0)
				set_msg(w, false, "Publishing by RFC 2136 UPDATE...");
			return WR_STAY;
		case ACT_SKIP:
			if (w->dns_ok || w->rotating)
				return WR_STAY;
			w->dns_skipped = true;
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
	if (w->dns_ok)
		return n;
	if (w->have_tsig && !w->job.running)
		out[n++] = (struct wiz_action){ 'u', "publish", ACT_PUBLISH };
	if (!w->rotating)   /* a rotation switches the signer only once DNS serves the new key */
		out[n++] = (struct wiz_action){ 's', "skip", ACT_SKIP };
	return n;
}


/* The per-server table of one watched record; returns when it was last asked. */
static time_t dns_table(struct doc *d, const struct dns_view *v)
{
	char buf[512];
	time_t last = 0;
	if (v->n > 0) {
		snprintf(buf, sizeof buf, "%-26s %-26s %-11s %s", "Server", "Address", "Status", "Asked");
		doc_add(d, buf, strlen(buf), DA_BOLD);
	} else if (v->error[0]) {
		doc_para(d, 0, DA_ERR, "%s", v->error);
	} else {
		doc_para(d, 0, DA_NORMAL, "Looking for the zone's servers...");
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct dns_server_view *sv = &v->servers[i];
		char addr[96];
		if (sv->port != 0 && sv->port != 53)
			snprintf(addr, sizeof addr, "%s@%u", sv->addr, sv->port);
		else
			snprintf(addr, sizeof addr, "%s", sv->addr);
		snprintf(buf, sizeof buf, "%-26.26s %-26.26s %-11.11s %ux", sv->name, addr,
			 dns_status_name(sv->status), sv->queries);
		doc_add(d, buf, strlen(buf), sv->status == DNS_MATCH ? DA_OK : sv->status == DNS_PENDING ||
			sv->status == DNS_ABSENT ? DA_NORMAL : DA_ERR);
		if (sv->detail[0])
			doc_para(d, 4, DA_NORMAL, "%s", sv->detail);
		if (sv->last_asked > last)
			last = sv->last_asked;
	}
	return last;
}

/* A mistake found, said once more in the words of the zone's DNS host. */
static void dns_fix_in_panel(const struct wizard *w, struct doc *d, const struct dns_view *v)
{
	const struct record_provider *p = wiz_provider(w);
	const struct record_provider *use = p != NULL ? p : &w->fallback;
	const char *at = p != NULL ? p->name : "your DNS host";
	enum dns_diag seen = DIAG_NONE;
	for (size_t i = 0; i < v->n && seen == DIAG_NONE; i++)
		seen = v->servers[i].diag;
	switch (seen) {
	case DIAG_NAME_DOUBLED:
		doc_para(d, 0, DA_WARN, "At %s: delete the record, and add it again with only %s in "
			 "the %s field.", at, w->key.relative, use->field);
		break;
	case DIAG_SPLIT_RECORDS:
	case DIAG_CUT:
	case DIAG_QUOTES:
		doc_para(d, 0, DA_WARN, "At %s: replace the record's value with %s (Esc goes back to "
			 "the record, where c copies it whole).", at, use->chunks ?
			 "the quoted strings" : "the one-string value, without quotes");
		break;
	default:
		break;
	}
}

static int dns_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[512];
	(void)post;
	doc_para(pre, 0, DA_NORMAL, "Asking the name servers of %s for %s, every few seconds.",
		 w->view.zone[0] ? w->view.zone : w->domain, w->key.fqdn);
	doc_blank(pre);
	if (w->dns_error[0]) {
		doc_para(pre, 0, DA_ERR, "%s", w->dns_error);
		doc_para(pre, 0, DA_NORMAL, "Press r to try again, or s to skip and check later "
			 "with dkim-setup check.");
	}
	time_t last = w->dns_error[0] ? 0 : dns_table(pre, &w->view);
	if (w->have_edkey && !w->dns_error[0]) {
		doc_para(pre, 0, DA_BOLD, "The Ed25519 record, %s:", w->edkey.fqdn);
		time_t l2 = dns_table(pre, &w->view_ed);
		if (l2 > last)
			last = l2;
	}
	if (last != 0)
		doc_para(pre, 0, DA_NORMAL, "Last asked %ld s ago.", (long)(time(NULL) - last));
	dns_fix_in_panel(w, pre, &w->view);
	doc_blank(pre);
	if (w->dns_ok) {
		doc_para(pre, 0, DA_OK, "Every server serves the new key%s.", w->have_edkey ? "s" : "");
	} else {
		doc_para(pre, 0, DA_NORMAL, "Paste the record at your DNS provider, then press r. "
			 "Do not look the name up through an ordinary resolver before every server "
			 "says OK: it would remember \"missing\".");
		if (w->view.have_neg_ttl) {
			dns_neg_caching_text(w->view.neg_ttl, buf, sizeof buf);
			doc_para(pre, 0, DA_NORMAL, "%s", buf);
		}
	}
	if (w->have_tsig && !w->dns_ok)
		doc_para(pre, 0, DA_NORMAL, "You gave a TSIG key: press u to publish the record "
			 "yourself by RFC 2136 UPDATE.");
	if (w->publish_note[0])
		doc_para(pre, 0, DA_NORMAL, "%s", w->publish_note);
	if (w->job.running) {
		spinner(w, buf, sizeof buf, "Publishing");
		doc_para(pre, 0, DA_BOLD, "%s", buf);
	}
	return 0;
}

/* ---- step 7: the mail server ------------------------------------------ */

static void mta_enter(struct wizard *w)
{
	struct dk_err err;
	struct mta_request req;
	dk_err_clear(&err);
	mta_plan_clear(&w->plan);
	w->mta_error[0] = w->reload_what[0] = '\0';
	w->reloaded = false;
	memset(&w->mres, 0, sizeof w->mres);
	w->mta_phase = MTA_PREVIEW;
	w->mta_alt = NULL;
	if (mta_detect(w->opt->root, w->mta_choice[0] ? w->mta_choice : w->opt->mta, &w->mta, &err) < 0) {
		snprintf(w->mta_error, sizeof w->mta_error, "%s", err.msg);
		w->mta_phase = MTA_FAILED;
		return;
	}
	if (w->mta.signer == NULL) {
		w->mta_phase = MTA_SKIPPED;
		return;
	}
	/* Postfix with OpenDKIM and rspamd both possible: offer the other */
	if ((w->mta_alt = mta_alternative(w->opt->root, &w->mta)) != NULL)
		snprintf(w->mta_alt_label, sizeof w->mta_alt_label, "use %s",
			 strcmp(w->mta_alt, "postfix") == 0 ? "OpenDKIM" : w->mta_alt);
	mta_req(w, &req);
	if (mta_plan(&req, &w->plan, &err) < 0) {
		snprintf(w->mta_error, sizeof w->mta_error, "%s", err.msg);
		w->mta_phase = MTA_FAILED;
		return;
	}
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
		if (ev->arg == ACT_OTHER_SIGNER && w->mta_alt != NULL &&
		    (w->mta_phase == MTA_PREVIEW || w->mta_phase == MTA_FAILED || w->mta_phase == MTA_DONE)) {
			snprintf(w->mta_choice, sizeof w->mta_choice, "%s", w->mta_alt);
			mta_enter(w);
			return WR_STAY;
		}
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
			wiz_rotate_switched(w);
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
	if (w->mta_phase == MTA_PREVIEW || w->mta_phase == MTA_FAILED || w->mta_phase == MTA_DONE) {
		size_t n = 0;
		if (w->mta_phase == MTA_PREVIEW)
			out[n++] = (struct wiz_action){ 's', "skip", ACT_SKIP };
		if (w->mta_alt != NULL && n < max)
			out[n++] = (struct wiz_action){ 'o', w->mta_alt_label, ACT_OTHER_SIGNER };
		return n;
	}
	if (w->mta_phase == MTA_APPLIED && w->no_reload == NULL) {
		out[0] = (struct wiz_action){ 'n', "no reload", ACT_NO_RELOAD };
		return 1;
	}
	return 0;
}


static void mta_preview_view(const struct wizard *w, struct doc *pre)
{
	if (w->opt->dry_run)
		doc_para(pre, 0, DA_BOLD, "Dry run: this is the change a real run would make; "
			 "nothing is written. Enter goes on.");
	else
		doc_para(pre, 0, DA_BOLD, "Enter applies the changes below and checks them; "
			 "s skips this step.");
	doc_blank(pre);
	if (w->plan.explain)
		doc_para(pre, 0, DA_NORMAL, "%s", w->plan.explain);
	doc_para(pre, 0, DA_BOLD, "The changes (every changed file is backed up first; \\ "
		 "continues a line):");
	for (const char *l = w->plan.diff; l != NULL && *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char *one = strndup(l, len);
		/* "# new file ..." notes are prose; file lines are cut with a mark,
		 * so no character of them is lost or mistaken for a line end */
		if (one != NULL && one[0] == '#')
			doc_para(pre, 2, DA_NORMAL, "%s", one);
		else if (one != NULL)
			doc_copy(pre, 0, l[0] == '+' ? DA_ADD : l[0] == '-' ? DA_DEL : DA_NORMAL,
				 one[0] ? one : " ");
		free(one);
		l = nl ? nl + 1 : NULL;
	}
}

static void mta_applied_view(const struct wizard *w, struct doc *pre)
{
	/* The checker did not run (sandbox): say so instead of "checked". */
	bool checked = w->mres.validated && strncmp(w->mres.validator, "not run", 7) != 0;
	if (checked)
		doc_para(pre, 0, DA_OK, "Applied and checked%s%s.", w->mres.validator[0] ? ": " : "",
			 w->mres.validator);
	else
		doc_para(pre, 0, DA_OK, "Applied. The mail server's own checker was not run%s%s.",
			 w->mres.validator[0] ? ": " : "", w->mres.validator);
	if (w->mres.key_access[0])
		doc_para(pre, 2, DA_NORMAL, "Key access: %s", w->mres.key_access);
	for (size_t i = 0; i < w->plan.n; i++) {
		if (w->plan.changes[i].backup[0] == '\0')
			continue;
		doc_para(pre, 2, DA_NORMAL, "Backup:");
		doc_copy(pre, 4, DA_NORMAL, w->plan.changes[i].backup);
	}
	doc_blank(pre);
	if (w->no_reload != NULL) {
		doc_para(pre, 0, DA_NORMAL, "Nothing is reloaded: %s. On the server, the change "
			 "takes effect with:", w->no_reload);
		doc_cmd(pre, 2, DA_BOLD, w->plan.reload_cmd);
		doc_blank(pre);
		doc_para(pre, 0, DA_BOLD, "Enter goes on.");
	} else {
		doc_para(pre, 0, DA_BOLD, "Enter reloads the mail server so that it starts signing; "
			 "n goes on without reloading.");
	}
}

static int mta_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[512];
	(void)post;
	doc_para(pre, 0, DA_NORMAL, "Mail server: %s", w->mta.summary[0] ? w->mta.summary : "?");
	if (w->mta.warning[0])
		doc_para(pre, 2, DA_WARN, "%s", w->mta.warning);
	doc_blank(pre);
	switch (w->mta_phase) {
	case MTA_PREVIEW:
		mta_preview_view(w, pre);
		break;
	case MTA_APPLYING:
		spinner(w, buf, sizeof buf, "Applying and checking the configuration");
		doc_para(pre, 0, DA_BOLD, "%s", buf);
		break;
	case MTA_APPLIED:
		mta_applied_view(w, pre);
		break;
	case MTA_FAILED:
		doc_para(pre, 0, DA_ERR, "Not configured: %s", w->mta_error);
		if (w->mres.rolled_back)
			doc_para(pre, 0, DA_NORMAL, "Every file was put back as it was.");
		for (size_t i = 0; i < w->plan.n; i++)
			if (w->plan.changes[i].not_restored)
				doc_para(pre, 0, DA_ERR, "NOT put back: %s (%s)", w->plan.changes[i].path,
					 w->plan.changes[i].why);
		for (size_t i = 0; i < w->plan.n_dirs; i++)
			if (w->plan.dirs[i].not_restored)
				doc_para(pre, 0, DA_ERR, "NOT put back: directory %s (%s)", w->plan.dirs[i].path,
					 w->plan.dirs[i].why);
		doc_para(pre, 0, DA_NORMAL, "Enter goes on; the key and record are fine, and the "
			 "summary says what is left to do.");
		break;
	case MTA_SKIPPED:
		doc_para(pre, 0, DA_NORMAL, "%s", w->mta.signer == NULL ?
			 "No mail server to configure (Exim or Postfix). Enter goes on." :
			 "Skipped. Enter goes on.");
		break;
	case MTA_DONE:
		doc_para(pre, 0, DA_OK, "The mail server is configured for this key already. "
			 "Enter goes on.");
		break;
	case MTA_SHOWN:
		doc_para(pre, 0, DA_NORMAL, "Dry run: nothing written. Enter goes on.");
		break;
	}
	return 0;
}

/* ---- step 8: proof and summary ---------------------------------------- */

/* One proof covers both keys: the signer adds both signatures, and each
 * must verify. Through the signer only when dkim-setup configured one;
 * otherwise the key against the record, named as no more than that. */
static int proof_job(struct wizard *w, struct dk_err *err)
{
	bool through = w->mta_phase == MTA_DONE || w->mta_phase == MTA_APPLIED;
	struct mta_request req = {
		.root = w->opt->root, .domain = w->key.domain, .selector = w->key.selector,
		.priv_path = w->key.paths.priv,
		.ed_selector = w->have_edkey ? w->edkey.selector : NULL,
		.ed_priv_path = w->have_edkey ? w->edkey.paths.priv : NULL,
		.mta = through && w->mta.name != NULL ? w->mta.name : "none",
	};
	return mta_prove(&req, w->opt->ns, w->opt->n_ns, &w->proof, err);
}

static size_t summary_actions(const struct wizard *w, struct wiz_action *out, size_t max)
{
	if (max < 1 || !w->proof_done)
		return 0;
	size_t n = 0;
	out[n++] = (struct wiz_action){ 'p', "print", ACT_UI_PRINT };
	if (max > n && w->proof_error[0] == '\0' && w->proof.status != MTA_PROOF_VERIFIED &&
	    w->proof.status != MTA_PROOF_KEY_MATCHES)
		out[n++] = (struct wiz_action){ 'r', "prove again", ACT_RETRY_PROOF };
	return n;
}

static void summary_enter(struct wizard *w)
{
	w->proof_done = false;
	w->proof_error[0] = '\0';
	mta_proof_clear(&w->proof);
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
		/* a failed proof has its cause in w->proof; only a proof that
		 * could not be told at all is an error */
		if (w->job.rc < 0 && w->proof.status != MTA_PROOF_FAILED && w->proof.status != MTA_PROOF_ERROR)
			snprintf(w->proof_error, sizeof w->proof_error, "%s", w->job.err.msg);
		return WR_STAY;
	case EV_ACTION:
		if (ev->arg == ACT_RETRY_PROOF && w->proof_done)
			summary_enter(w);
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
			w->status = w->proof.status == MTA_PROOF_VERIFIED || w->proof.status == MTA_PROOF_KEY_MATCHES
					    ? DK_OK : w->proof.status == MTA_PROOF_ERROR ? DK_SYSERR : DK_MISMATCH;
		return WR_FINISH;
	case EV_BACK:
		return w->proof_done ? WR_BACK : WR_STAY;
	default:
		return WR_STAY;
	}
}


/* SPF and DMARC, said once: the summary shows it and --training refers to it. */
void wiz_spf_dmarc(struct doc *d, const char *domain)
{
	char v[DK_DOMAIN_MAX + 64];
	doc_para(d, 0, DA_BOLD, "Next steps: SPF and DMARC records for %s", domain);
	doc_para(d, 2, DA_NORMAL, "SPF, a TXT record at %s (adjust to every server that sends "
		 "for the domain):", domain);
	doc_copy(d, 4, DA_NORMAL, "v=spf1 mx ~all");
	doc_para(d, 2, DA_WARN, "A domain has one SPF record: if one exists, add \"mx\" to it "
		 "instead of adding a second (two make SPF fail for all mail).");
	doc_para(d, 2, DA_NORMAL, "DMARC, a TXT record at _dmarc.%s:", domain);
	snprintf(v, sizeof v, "v=DMARC1; p=none; rua=mailto:postmaster@%s", domain);
	doc_copy(d, 4, DA_NORMAL, v);
	doc_para(d, 2, DA_NORMAL, "Read the reports for a few weeks, then tighten to "
		 "p=quarantine and p=reject.");
}

static void proof_lines(const struct wizard *w, struct doc *pre)
{
	const struct mta_proof *p = &w->proof;
	switch (p->status) {
	case MTA_PROOF_VERIFIED:
		doc_para(pre, 2, DA_OK, "Proof: %s.", p->detail);
		break;
	case MTA_PROOF_KEY_MATCHES:
		doc_para(pre, 2, DA_WARN, "Proof: not proved through a signer: %s.", p->detail);
		break;
	default:
		doc_para(pre, 2, DA_ERR, "Proof FAILED%s%s: %s.", p->through[0] ? " through " : "", p->through,
			 p->detail);
		if (p->fix[0]) {
			doc_para(pre, 2, DA_NORMAL, "To fix it, run:");
			doc_cmd(pre, 4, DA_BOLD, p->fix);
		}
		if (p->cause == MTA_CAUSE_NOT_RUNNING)
			doc_para(pre, 2, DA_NORMAL, "Start it, then press r to prove again.");
		else
			doc_para(pre, 2, DA_NORMAL, "Press r to prove again after fixing it.");
	}
	for (size_t i = 0; i < p->n_sigs; i++)
		doc_para(pre, 4, p->sigs[i].verified ? DA_OK : DA_ERR, "signature s=%s (%s): %s", p->sigs[i].selector,
			 p->sigs[i].algorithm, p->sigs[i].verified ? "verified" : p->sigs[i].detail);
}

static int summary_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	char buf[2 * PATH_MAX];
	const struct dk_keyjob *k = &w->key;
	(void)post;
	char u[DK_DOMAIN_MAX * 4 + 1];
	if (validate_domain_unicode(k->domain, u, sizeof u) == 1)
		doc_para(pre, 0, DA_BOLD, "DKIM for %s (%s), selector %s", u, k->domain, k->selector);
	else
		doc_para(pre, 0, DA_BOLD, "DKIM for %s, selector %s", k->domain, k->selector);
	doc_para(pre, 2, DA_NORMAL, "Key (0600%s):", w->opt->dry_run ? ", dry run, not saved" : "");
	doc_copy(pre, 4, DA_NORMAL, k->paths.priv);
	if (w->have_edkey) {
		doc_para(pre, 2, DA_NORMAL, "Second key (Ed25519):");
		doc_copy(pre, 4, DA_NORMAL, w->edkey.paths.priv);
	}
	if (w->dns_ok) {
		doc_para(pre, 2, DA_OK, "DNS: every authoritative server serves %s%s%s.", k->fqdn,
			 w->have_edkey ? " and " : "", w->have_edkey ? w->edkey.fqdn : "");
	} else {
		doc_para(pre, 2, DA_WARN, "DNS: not confirmed yet. When the record is published, run:");
		wiz_command(w, "check", k, buf, sizeof buf);
		doc_cmd(pre, 4, DA_BOLD, buf);
	}
	switch (w->mta_phase) {
	case MTA_SHOWN:
		doc_para(pre, 2, DA_NORMAL, "Mail server: dry run, the change shown was not written.");
		break;
	case MTA_DONE:
		doc_para(pre, 2, DA_NORMAL, "Mail server: configured%s%s", w->reloaded &&
			 w->reload_what[0] ? "; " : ".", w->reloaded ? w->reload_what : "");
		break;
	case MTA_APPLIED:
		doc_para(pre, 2, DA_NORMAL, "Mail server: configured, not reloaded yet.");
		break;
	case MTA_FAILED:
		doc_para(pre, 2, DA_WARN, "Mail server: not configured (%s).", w->mta_error);
		break;
	default:
		doc_para(pre, 2, DA_NORMAL, "Mail server: not configured by dkim-setup.");
		break;
	}
	if (!w->proof_done) {
		spinner(w, buf, sizeof buf, "Sending a test message through the signer and verifying it");
		doc_para(pre, 2, DA_BOLD, "%s", buf);
	} else if (w->proof_error[0]) {
		doc_para(pre, 2, DA_WARN, "Proof: %s", w->proof_error);
	} else {
		proof_lines(w, pre);
	}
	/* the action before the advice, so that it is in view without scrolling */
	if (w->proof_done)
		doc_para(pre, 0, DA_BOLD, "Press Enter to finish (p prints the commands and records "
			 "below on whole lines).");
	doc_blank(pre);
	wiz_rotate_summary(w, pre, false);
	wiz_spf_dmarc(pre, k->domain);
	wiz_rotate_summary(w, pre, true);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

const struct step wiz_steps[WS_COUNT] = {
	[WS_SURVEY] = { "Start", "What this server has",
		"dkim-setup looked at this server: the mail software installed, its mail name, "
		"and DKIM keys made before. If a key from an earlier run is listed, you can "
		"continue with it: nothing is generated again.",
		"survey", false, survey_enter, survey_handle, NULL, NULL, survey_view },
	[WS_DOMAIN] = { "Domain", "The domain you send mail from",
		"The signing domain (d=) is the domain in the From: address of your mail, "
		"for example example.com. Receivers look up the key under this domain. The "
		"default comes from /etc/mailname.",
		"domain", true, domain_enter, domain_handle, NULL, NULL, domain_view },
	[WS_SELECTOR] = { "Selector", "A name for this key",
		"The selector (s=) names the key, so that a new key can be published next to "
		"the old one when you rotate it. The year and month is a good choice. The "
		"record will be <selector>._domainkey.<domain>.",
		"selector", true, selector_enter, selector_handle, NULL, NULL, selector_view },
	[WS_KEY] = { "Key", "The key type",
		"RSA 2048 bits is what every receiver checks and what most DNS panels accept. "
		"4096 bits makes a record too long for some panels; 1024 bits is weak. Ed25519 "
		"is small and strong, but many receivers still ignore it, so it is only "
		"offered as a second key next to RSA (press e).",
		"key", false, key_enter, key_handle, key_leave, key_actions, key_view },
	[WS_RECORD] = { "Record", "Publish this TXT record in your DNS",
		"Add this TXT record at your DNS provider. Web panels usually want the name "
		"without the domain (they add it). If your terminal cannot copy, press p to "
		"print the record as plain text and select it with the mouse, or s to save "
		"it to a file.",
		"record", false, NULL, record_handle, NULL, record_actions, record_view },
	[WS_DNS] = { "DNS", "Waiting for the DNS servers",
		"dkim-setup asks the domain's authoritative name servers directly, every few "
		"seconds. Each must serve exactly the new key. Do not look the name up through "
		"an ordinary resolver before they all do: it would remember \"missing\" "
		"(NXDOMAIN, negative caching: the zone's SOA MINIMUM, capped by resolvers at 1 to "
		"3 hours). Press s to skip and run dkim-setup check later.",
		"dns", false, dns_enter, dns_handle, dns_leave, dns_actions, dns_view },
	[WS_MTA] = { "Mail", "Make the mail server sign",
		"The mail server must sign outgoing mail with the key. dkim-setup shows the "
		"exact change, keeps a backup of every file, checks the result with the mail "
		"server's own checker (rolling back if it fails), and reloads only if you say so.",
		"mta", false, mta_enter, mta_handle, NULL, mta_actions, mta_view },
	[WS_SUMMARY] = { "Done", "Proof and summary",
		"A test message goes through the running mail server's signer, and its signature "
		"is verified against the record as DNS serves it; a failure is named with its "
		"fix. Then SPF and DMARC records are suggested: DKIM alone does not "
		"tell receivers what to do with unsigned mail. p shows the commands and records "
		"on whole lines.",
		"proof summary rotation", false, summary_enter, summary_handle, NULL, summary_actions, summary_view },
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
	if (w->job.running && w->step != WS_DNS)
		return NULL;
	switch (w->step) {
	case WS_KEY:
		return w->existing.state == KEY_ABSENT || w->replace ? "create"
		       : key_choice_is_existing(w) ? "use it" : NULL;
	case WS_DNS:
		return w->dns_ok || w->opt->dry_run ? "next" : NULL;
	case WS_MTA:
		if (w->mta_phase == MTA_APPLYING)
			return NULL;
		return w->mta_phase == MTA_PREVIEW && !w->opt->dry_run ? "apply"
		       : w->mta_phase == MTA_APPLIED && w->no_reload == NULL ? "reload" : "next";
	case WS_SUMMARY:
		return w->proof_done ? "finish" : NULL;
	default:
		return "next";
	}
}

bool wiz_can_back(const struct wizard *w)
{
	if (w->job.running)
		return false;
	switch (w->step) {
	case WS_SURVEY:
		return false;
	case WS_DOMAIN:
		return w->n_resume > 0;
	case WS_MTA:
		return w->mta_phase != MTA_APPLYING;
	case WS_SUMMARY:
		return w->proof_done;
	default:
		return true;
	}
}

size_t wiz_keys(const struct wizard *w, struct wiz_keyhint *out, size_t max)
{
	bool text = wiz_steps[w->step].text_entry;
	struct wiz_action acts[8];
	size_t n = 0, na = wiz_actions(w, acts, 8);
	const char *enter = wiz_enter_label(w);
	if (max < na + 5)
		return 0;
	if (enter != NULL)
		out[n++] = (struct wiz_keyhint){ "Enter", enter };
	if (wiz_can_back(w)) {
		out[n] = (struct wiz_keyhint){ "", "back" };
		snprintf(out[n++].key, sizeof out[0].key, "%s", text ? "Esc" : "Esc/b");
	}
	for (size_t i = 0; i < na; i++) {
		out[n] = (struct wiz_keyhint){ "", acts[i].label };
		snprintf(out[n].key, sizeof out[n].key, text ? "^%c" : "%c",
			 text ? acts[i].key - 'a' + 'A' : acts[i].key);
		n++;
	}
	if (wiz_training_text(w, w->step) != NULL) {
		out[n] = (struct wiz_keyhint){ "", "explain" };
		snprintf(out[n++].key, sizeof out[0].key, "%s", text ? "^T" : "t");
	}
	out[n] = (struct wiz_keyhint){ "", "help" };
	snprintf(out[n++].key, sizeof out[0].key, "%s", text ? "F1/^G" : "F1/?");
	out[n] = (struct wiz_keyhint){ "", w->step == WS_SUMMARY && w->proof_done ? "finish" : "quit" };
	snprintf(out[n++].key, sizeof out[0].key, "%s", text ? "F10/^Q" : "F10/q");
	return n;
}

int wiz_view(const struct wizard *w, struct doc *pre, struct doc *post)
{
	return wiz_steps[w->step].view(w, pre, post);
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
#define PROVIDERS_MAX (64 * 1024)   /* assets/providers.txt: room for far more hosts */

/* dir/name.txt (at most max - 1 bytes), or NULL. As root only a file root
 * alone can change (fs_read_trusted): DKIM_SETUP_ASSETS or a user's build
 * tree cannot feed root's screen, and a FIFO or symlink there is refused,
 * not waited on. */
static char *read_text_max(const char *dir, const char *name, size_t max)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s.txt", dir, name) >= (int)sizeof path)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	if (fs_read_trusted(path, max - 1, &buf, &n, NULL) < 0 || n == 0) {
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

static char *read_text(const char *dir, const char *name)
{
	return read_text_max(dir, name, TRAINING_MAX);
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

void wiz_assets_load(struct wizard *w, const char *dir)
{
	char sub[PATH_MAX];
	if (!w->have_providers) {
		char *text = read_text_max(dir, "providers", PROVIDERS_MAX);
		if (text != NULL) {
			w->n_providers = record_providers_parse(text, &w->providers, &w->fallback);
			w->have_providers = true;
			free(text);
		}
	}
	if (w->opt->training) {
		snprintf(sub, sizeof sub, "%s/training", dir);
		wiz_training_load(w, sub);
	}
}

void wiz_init(struct wizard *w, const struct options *opt)
{
	struct dk_err err;
	memset(w, 0, sizeof *w);
	w->opt = opt;
	w->status = DK_MISMATCH;
	record_providers_parse("", &w->providers, &w->fallback);
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
	wiz_rotate_survey(w);
	/* Step 1 is a screen of its own only when there is a choice to make. */
	w->step = (w->n_resume > 0 || w->n_rotate > 0) && !(opt->domain[0] && opt->selector[0]) ? WS_SURVEY
												 : WS_DOMAIN;
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
	mta_proof_clear(&w->proof);
	setup_keyjob_clear(&w->key);
	setup_keyjob_clear(&w->edkey);
	for (int i = 0; i < WS_COUNT; i++) {
		free(w->training[i]);
		w->training[i] = NULL;
	}
	free(w->welcome);
	w->welcome = NULL;
	free(w->providers);
	w->providers = NULL;
	w->n_providers = 0;
}
