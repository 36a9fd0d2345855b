/*
 * wizard.h: the steps of the interactive setup, as pure logic.
 *
 * The wizard is a table of steps (`wiz_steps[]`), each with enter / handle /
 * leave. A front end (src/ui_curses.c) turns keys into `struct wiz_event`s,
 * feeds them to wiz_dispatch(), and redraws from the state in `struct
 * wizard`. Nothing here includes curses or prints; slow work (key
 * generation, publishing, applying the MTA change, the proof) runs on one
 * worker thread whose completion is signalled on wiz_job_fd(), and DNS
 * watching on the watcher's own thread (dns_watch_fd()). The unit tests
 * drive this layer directly.
 */
#ifndef DKIM_WIZARD_H
#define DKIM_WIZARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "mta.h"
#include "options.h"
#include "proof.h"
#include "record.h"
#include "setup.h"
#include "ui_doc.h"

/* Runs the whole wizard (curses); returns the exit status. ui_curses.c. */
int wizard_run(const struct options *opt);

enum wiz_step_id {
	WS_SURVEY,     /* 1 look around (only shown when a decision is needed) */
	WS_DOMAIN,     /* 2 */
	WS_SELECTOR,   /* 3 */
	WS_KEY,        /* 4 choose, then generate on the worker */
	WS_RECORD,     /* 5 */
	WS_DNS,        /* 6 wait for the authoritative servers */
	WS_MTA,        /* 7 */
	WS_SUMMARY,    /* 8 proof and summary */
	WS_COUNT,
};

enum wiz_ev_type {
	EV_NEXT,       /* Enter, Tab */
	EV_BACK,       /* Esc, F9 */
	EV_TEXT,       /* the text field changed; ev->text holds it */
	EV_CHOOSE,     /* the menu's current item changed; ev->arg = index */
	EV_ACTION,     /* a step key from wiz_actions(); ev->arg = enum wiz_act */
	EV_JOB_DONE,   /* the worker finished (after wiz_job_collect) */
	EV_DNS,        /* the watcher's view changed */
};

enum wiz_act {
	ACT_SAVE = 1,      /* record: save both forms to a file */
	ACT_CHECK_NOW,     /* dns: ask every server again */
	ACT_PUBLISH,       /* dns: RFC 2136 UPDATE with the TSIG key */
	ACT_SKIP,          /* dns, mta: go on without */
	ACT_TOGGLE_ED,     /* key: also an Ed25519 selector */
	ACT_NO_RELOAD,     /* mta: go on without reloading (Enter reloads) */
	ACT_OTHER_SIGNER,  /* mta: the other signer of this MTA (OpenDKIM <-> rspamd) */
	ACT_REPLACE,       /* key: replace the selector's existing key (backup kept) */
	ACT_FRESH,         /* key: a fresh selector instead */
	ACT_RETRY_PROOF,   /* summary: prove again (after starting the signer) */
	/* handled by the front end itself (terminal work), listed for the footer */
	ACT_UI_COPY,       /* OSC 52 */
	ACT_UI_PRINT,      /* plain text outside curses */
	ACT_UI_COPY_ED,    /* OSC 52: the Ed25519 record's value */
};

struct wiz_event {
	enum wiz_ev_type type;
	int arg;
	const char *text;
};

/* What a handler asks the loop to do next. */
enum wiz_result {
	WR_STAY,       /* state changed (or not): redraw */
	WR_NEXT,
	WR_BACK,
	WR_FINISH,     /* the wizard is over; status in w->status */
};

/* A key the current step offers, for the footer and the key map. */
struct wiz_action {
	char key;              /* the letter */
	const char *label;     /* "copy" */
	enum wiz_act act;
};

enum wiz_job_kind { JOB_NONE, JOB_KEYGEN, JOB_PUBLISH, JOB_MTA_APPLY, JOB_PROOF };

struct wizard;
typedef int (*wiz_job_fn)(struct wizard *w, struct dk_err *err);

struct wiz_job {
	enum wiz_job_kind kind;
	bool running;          /* started and not yet collected */
	time_t started;
	pthread_t thread;
	int pipe[2];           /* the worker writes one byte when done */
	wiz_job_fn fn;
	int rc;
	struct dk_err err;
};

enum wiz_mta_phase { MTA_PREVIEW, MTA_APPLYING, MTA_APPLIED, MTA_FAILED, MTA_SKIPPED, MTA_DONE,
		    MTA_SHOWN /* dry run: the change was shown, not written */ };

struct wizard {
	const struct options *opt;
	enum wiz_step_id step;
	int status;                         /* exit status when finished */

	struct dk_survey sv;
	/* keys found from an earlier run, offered on the survey step */
	int n_resume;
	struct { char domain[DK_DOMAIN_MAX + 1]; char selector[DK_LABEL_MAX + 1]; } resume[16];
	int survey_choice;                  /* 0: new; 1..n_rotate: rotate[i-1]; then resume[] */
	/* the domains that sign now (src/wizard_rotate.c): an overview on the
	 * survey step, and "rotate" offered (the default for the host's domain) */
#define WIZ_ROTATE_MAX 8
	int n_rotate;
	struct wiz_rotatable {
		char domain[DK_DOMAIN_MAX + 1];
		char rsa[DK_LABEL_MAX + 1], ed[DK_LABEL_MAX + 1];   /* the selectors signing now */
		int bits;
		long age_days;
	} rotate[WIZ_ROTATE_MAX];
	int n_overview;
	char overview[WIZ_ROTATE_MAX * 2][96];   /* one line per selector, no DNS asked */
	bool rotating;                      /* this run rotates rot_old_* to the new selector(s) */
	char rot_old_rsa[DK_LABEL_MAX + 1], rot_old_ed[DK_LABEL_MAX + 1];
	char rot_note[300];                 /* "" or what was recorded about the old selectors */

	/* the text entry of the domain / selector step, and why it is refused */
	char text[DK_DOMAIN_MAX + 1];
	char why[256];                      /* "" when the text is valid */
	char text_note[300];                /* after "OK": ", in DNS xn--..." */
	bool utf8;                          /* the terminal passes UTF-8 (set by the front end) */
	char warn[512];                     /* a warning that does not block */

	char domain[DK_DOMAIN_MAX + 1];
	char selector[DK_LABEL_MAX + 1];
	char ed_selector[DK_LABEL_MAX + 1];
	int key_choice;                     /* index into wiz_key_choices */
	bool with_ed;                       /* also an Ed25519 key */
	struct dk_existing existing;        /* the key already at the selector */
	bool replace;                       /* replace it (backup kept) */
	char probe_fqdn[DK_DOMAIN_MAX + 2]; /* key step: is a record there already? */
	char published[512];                /* "" or the warning that one is */

	struct dk_keyjob key, edkey;
	bool have_key, have_edkey;

	char msg[512];                      /* result of the last action, one line */
	bool msg_error;

	struct wiz_job job;

	/* DNS */
	struct dns_watch *watch;
	struct dns_watch *watch_ed;         /* the Ed25519 record, when there is one */
	struct dns_view view_ed;
#define WIZ_MAX_STOPPERS 32
	pthread_t stoppers[WIZ_MAX_STOPPERS];   /* watchers being stopped */
	int n_stoppers;
	struct dns_view view;
	char dns_error[512];
	bool dns_ok, dns_skipped;
	bool have_tsig;
	struct dns_tsig tsig;
	struct dns_publish_info published_at;
	char publish_note[512];             /* "" or who took our UPDATE */
	char saved_path[PATH_MAX];

	/* MTA */
	struct mta_info mta;
	char mta_choice[16];         /* the signer chosen in the wizard; "" as --mta says */
	const char *mta_alt;         /* the other signer it offers, or NULL */
	char mta_alt_label[32];
	struct mta_plan plan;
	struct mta_result mres;
	char mta_error[512];
	enum wiz_mta_phase mta_phase;
	char reload_what[256];
	bool reloaded;
	const char *no_reload;              /* NULL, or why Enter will not reload */

	/* proof: through the signer configured (mta_prove), or only the key
	 * against the record when no signer was configured */
	struct mta_proof proof;
	bool proof_done;
	char proof_error[512];

	/* --training explanations, loaded at run time from assets/training:
	 * "Title\nbody..." per step, and the welcome shown before step one */
	bool welcome_has_survey;
	char *training[WS_COUNT];
	char *welcome;

	/* DNS hosts (assets/providers.txt) and the zone's NS names */
	struct record_provider *providers, fallback;   /* providers: n_providers, owned */
	size_t n_providers;
	bool have_providers;
	char ns_names[8][256];
	size_t n_ns_names;
};

struct step {
	const char *name;        /* in the header: "Domain" */
	const char *title;       /* above the main pane */
	const char *help;        /* F1 */
	const char *asset;       /* training text file(s), without ".txt", blank-separated */
	bool text_entry;         /* letters are text: step keys need Ctrl */
	void (*enter)(struct wizard *w);
	enum wiz_result (*handle)(struct wizard *w, const struct wiz_event *ev);
	void (*leave)(struct wizard *w);
	size_t (*actions)(const struct wizard *w, struct wiz_action *out, size_t max);
	/* The screen text: above the step's widget (`pre`) and below it
	 * (`post`), attributes from enum doc_attr. Returns the widget's height
	 * (0: none, the text scrolls). */
	int (*view)(const struct wizard *w, struct doc *pre, struct doc *post);
};

extern const struct step wiz_steps[WS_COUNT];

/* The key menu of step 4. */
struct wiz_key_choice {
	const char *label;
	const char *note;        /* the warning shown with it, "" if none */
	enum dk_alg alg;
	int bits;
};
extern const struct wiz_key_choice wiz_key_choices[];
extern const size_t wiz_n_key_choices;

/* Set up (survey, defaults) and enter the first step. */
void wiz_init(struct wizard *w, const struct options *opt);
/* Leave the current step, stop everything, wait for a running job (its file
 * writes are never cut short), free everything. */
void wiz_free(struct wizard *w);

/* Feed one event to the current step and move between steps as it says.
 * Returns the handler's result (WR_FINISH: the wizard is over). While the
 * worker runs, events that would move or change what it reads (next, back,
 * text, choose, actions other than check-now) are refused with a message. */
enum wiz_result wiz_dispatch(struct wizard *w, const struct wiz_event *ev);

/* The keys of the current step. */
size_t wiz_actions(const struct wizard *w, struct wiz_action *out, size_t max);

/* What Enter does now, for the footer: "next", "apply", "finish", ...;
 * NULL when Enter does nothing here now. */
const char *wiz_enter_label(const struct wizard *w);
/* Whether back (Esc) works now. */
bool wiz_can_back(const struct wizard *w);

/* Every key that works on the current screen, in footer order: Enter, back,
 * the step's keys, explain (--training), help, quit. The footer and the
 * help box both show this list. Returns the count. */
struct wiz_keyhint {
	char key[16];            /* "Enter", "Esc/b", "^R", "r", "F1/?" */
	const char *label;
};
size_t wiz_keys(const struct wizard *w, struct wiz_keyhint *out, size_t max);

/* The screen text of the current step (see struct step's view). */
int wiz_view(const struct wizard *w, struct doc *pre, struct doc *post);

/* The zone's DNS host, when its NS names are known and listed, or NULL. */
const struct record_provider *wiz_provider(const struct wizard *w);
/* A record's value in the form the zone's host takes (one string, or quoted
 * strings of <= 255): what the copy key sends. malloc'd. */
char *wiz_record_form(const struct wizard *w, const struct dk_keyjob *k);
/* "dkim-setup VERB -d D -s S" with every option of this run that the
 * command needs (--root, and for check the DNS servers). */
void wiz_command(const struct wizard *w, const char *verb, const struct dk_keyjob *k, char *out,
		 size_t outlen);
/* SPF and DMARC advice, one text for every screen that gives it. */
void wiz_spf_dmarc(struct doc *d, const char *domain);

/* NULL when quitting now loses nothing; else the question to ask. */
const char *wiz_quit_question(const struct wizard *w);

/* The worker: fd to poll (-1 when idle); after it is readable call
 * wiz_job_collect() then dispatch EV_JOB_DONE. */
int wiz_job_fd(const struct wizard *w);
void wiz_job_collect(struct wizard *w);
/* Block until a running job is done and collect it (used when leaving). */
void wiz_job_wait(struct wizard *w);

/* The DNS watcher's fd (-1 when not watching); when readable call
 * wiz_dns_update(), which returns 1 when the view changed. */
int wiz_dns_fd(const struct wizard *w);
int wiz_dns_fd_ed(const struct wizard *w);   /* the Ed25519 record's watcher */
int wiz_dns_update(struct wizard *w);

/* The explanation for a step under --training ("Title\nbody"), or NULL. */
const char *wiz_training_text(const struct wizard *w, enum wiz_step_id step);
/* The welcome text under --training, or NULL. */
const char *wiz_training_welcome(const struct wizard *w);
/* Load the texts from dir/<asset>.txt (and dir/welcome.txt) for every step
 * still without one; missing files are fine. Call with the preferred
 * directory first. */
void wiz_training_load(struct wizard *w, const char *dir);
/* Load dir/providers.txt (once: the first directory that has it) and, under
 * --training, the texts of dir/training. */
void wiz_assets_load(struct wizard *w, const char *dir);

/* The record text the record step saves: every form. malloc'd. */
char *wiz_record_text(const struct dk_keyjob *k);
/* The same in three parts (name and one-string value; quoted strings; zone
 * form), for printing a page at a time. 0, or -1 (out of memory). */
int wiz_record_sections(const struct dk_keyjob *k, char *out[3]);

/* Where ACT_SAVE writes the record (as the target sees it). */
void wiz_record_path(const struct wizard *w, char *out, size_t outlen);

/* Rotation in the wizard (src/wizard_rotate.c). The survey menu: how many
 * items, and the label of item i ("Set up a new key", "Rotate ...",
 * "Continue with ..."). */
int wiz_survey_items(const struct wizard *w);
void wiz_survey_item(const struct wizard *w, int i, char *out, size_t outlen);
/* Fill n_rotate, rotate[], overview[] and the default survey_choice. */
void wiz_rotate_survey(struct wizard *w);
/* Survey item i chosen: for a rotate item, set domain, the new selector,
 * the key kind and w->rotating. Returns true when it was one. */
bool wiz_rotate_choose(struct wizard *w, int i);
/* The new keys of a rotation exist: record the rotation under way, so
 * that `dkim-setup rotate -d DOMAIN` continues it if the wizard stops. */
void wiz_rotate_keys_made(struct wizard *w);
/* The signer now uses the new selector(s): record when the old ones
 * stopped signing (for retire's grace period). */
void wiz_rotate_switched(struct wizard *w);
/* The summary's lines about the old selectors and retire (after false:
 * before the SPF and DMARC advice), or about the timer (after true). */
void wiz_rotate_summary(const struct wizard *w, struct doc *pre, bool after);

/* Split "<domain>-<selector>-private.pem" at the last '-' that makes both
 * halves valid. 0 or -1. */
int wiz_parse_keyfile(const char *name, char *domain, size_t dlen, char *selector, size_t slen);

#endif
