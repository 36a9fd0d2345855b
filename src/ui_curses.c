/* ui_curses.c: the curses front end of the wizard (form, menu and panel
 * libraries). The only file with curses: it turns keys into wizard events,
 * waits on the keyboard, the worker and the DNS watcher together, and
 * redraws the whole screen from struct wizard after every change. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <form.h>
#include <menu.h>
#include <ncurses.h>
#include <panel.h>
#include <openssl/evp.h>

#include "ui_doc.h"
#include "wizard.h"

#define MIN_COLS 80
#define MIN_LINES 24
#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27

enum { PAIR_HDR = 1, PAIR_ERR, PAIR_OK, PAIR_WARN, PAIR_ADD, PAIR_DEL, PAIR_KEY, PAIR_FIELD };
enum modal { MODAL_NONE, MODAL_QUIT, MODAL_HELP, MODAL_EXPLAIN };

struct ui {
	struct wizard w;
	bool color, too_small, rebuild;
	bool welcomed, explained[WS_COUNT];   /* --training popups shown once */
	const char *explain;                  /* the text of MODAL_EXPLAIN */
	enum modal modal;
	int scroll;
	enum wiz_step_id built_step;

	WINDOW *hdr, *main, *ftr, *pop, *wid;
	PANEL *p_hdr, *p_main, *p_ftr, *p_pop, *p_wid;
	int main_y, main_rows;   /* the main pane, screen rows */

	FORM *form;
	FIELD *fields[2];
	MENU *menu;
	ITEM **items;
	int n_items;
	char (*item_names)[128];
};

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	/* SIGTERM and SIGHUP win over SIGINT: they are not asked about. */
	if (got_signal == 0 || sig != SIGINT)
		got_signal = sig;
	if (sig_pipe[1] >= 0) {
		ssize_t n = write(sig_pipe[1], "s", 1);
		(void)n;
	}
	errno = saved;
}

/* ---- attributes --------------------------------------------------------- */

static attr_t att(const struct ui *u, int pair)
{
	if (u->color)
		return COLOR_PAIR(pair) | (pair == PAIR_ERR || pair == PAIR_WARN ? A_BOLD : 0);
	switch (pair) {
	case PAIR_HDR: return A_REVERSE;
	case PAIR_ERR: case PAIR_WARN: case PAIR_KEY: return A_BOLD;
	case PAIR_FIELD: return A_UNDERLINE;
	default: return A_NORMAL;
	}
}

/* ---- the step contents ------------------------------------------------- */

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

static void record_doc(struct ui *u, struct doc *d, const struct dk_keyjob *k)
{
	char *zone = record_zone(k->fqdn, k->value);
	attr_t bold = A_BOLD;
	doc_para(d, 0, A_NORMAL, "Name:            %s", k->fqdn);
	doc_para(d, 0, A_NORMAL, "Name for panels: %s", k->relative);
	doc_para(d, 2, att(u, PAIR_WARN), "Most web DNS panels add the domain themselves: there, "
		 "enter only %s, or the name becomes %s.%s.", k->relative, k->fqdn, k->domain);
	doc_para(d, 0, A_NORMAL, "Type:            TXT");
	doc_para(d, 0, A_NORMAL, "Value (one string, for web panels):");
	doc_hard(d, 2, bold, k->value);
	doc_blank(d);
	doc_para(d, 0, A_NORMAL, "Zone-file form (strings of at most 255 bytes):");
	doc_hard(d, 2, A_NORMAL, zone != NULL ? zone : "(out of memory)");
	free(zone);
}

/* "Proof: ..." in plain words, green when the signature verified. */
static void proof_line(const struct ui *u, struct doc *pre, const char *label, const struct proof_result *p)
{
	doc_para(pre, 2, att(u, p->verified ? PAIR_OK : PAIR_ERR), "%s: %s", label,
		 p->detail[0] ? p->detail : p->verified ? "a test message signed with the key verifies against DNS"
							: "the test signature did not verify");
}

/* The per-server table of one watched record; returns when it was last asked. */
static time_t dns_table(struct ui *u, struct doc *pre, const struct dns_view *v)
{
	char buf[512];
	time_t last = 0;
	if (v->n > 0) {
		snprintf(buf, sizeof buf, "%-26s %-26s %-11s %s", "Server", "Address", "Status", "Asked");
		doc_add(pre, buf, strlen(buf), A_BOLD);
	} else if (v->error[0]) {
		doc_para(pre, 0, att(u, PAIR_ERR), "%s", v->error);
	} else {
		doc_para(pre, 0, A_NORMAL, "Looking for the zone's servers...");
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct dns_server_view *s = &v->servers[i];
		char addr[96];
		if (s->port != 0 && s->port != 53)
			snprintf(addr, sizeof addr, "%s@%u", s->addr, s->port);
		else
			snprintf(addr, sizeof addr, "%s", s->addr);
		snprintf(buf, sizeof buf, "%-26.26s %-26.26s %-11.11s %ux", s->name, addr,
			 dns_status_name(s->status), s->queries);
		int pair = s->status == DNS_MATCH ? PAIR_OK : s->status == DNS_PENDING ||
			   s->status == DNS_ABSENT ? 0 : PAIR_ERR;
		doc_add(pre, buf, strlen(buf), pair ? att(u, pair) : A_NORMAL);
		if (s->detail[0])
			doc_para(pre, 4, A_NORMAL, "%s", s->detail);
		if (s->last_asked > last)
			last = s->last_asked;
	}
	return last;
}

/* Fills the doc drawn above the widget (`pre`) and below it (`post`);
 * returns the widget's height (0: none). */
static int step_doc(struct ui *u, struct doc *pre, struct doc *post)
{
	struct wizard *w = &u->w;
	char buf[512];
	switch (w->step) {
	case WS_SURVEY:
		doc_para(pre, 0, A_NORMAL, "Host name:     %s", w->sv.hostname[0] ? w->sv.hostname : "(unknown)");
		doc_para(pre, 0, A_NORMAL, "/etc/mailname: %s", w->sv.mailname[0] ? w->sv.mailname : "(none)");
		doc_para(pre, 0, A_NORMAL, "Mail software: %s", mta_names(&w->sv, buf, sizeof buf));
		doc_para(pre, 0, A_NORMAL, "DKIM keys:     %d in " DK_PRIV_DIR, w->sv.n_keys);
		if (!w->sv.is_root && w->opt->root[0] == '\0')
			doc_para(pre, 0, att(u, PAIR_WARN), "Not running as root.");
		doc_blank(pre);
		doc_para(pre, 0, A_NORMAL, "A key from an earlier run is here. Continue with it, or "
			 "set up a new one:");
		doc_blank(pre);
		return w->n_resume + 1;
	case WS_DOMAIN:
		doc_para(pre, 0, A_NORMAL, "This server: %s; mail software: %s.",
			 w->sv.hostname[0] ? w->sv.hostname : "(no host name)",
			 mta_names(&w->sv, buf, sizeof buf));
		doc_blank(pre);
		doc_para(pre, 0, A_NORMAL, "Which domain do you send mail from? This is the domain "
			 "after the @ in your From: addresses%s.",
			 w->sv.mailname[0] ? " (the default comes from /etc/mailname)" : "");
		doc_blank(pre);
		doc_para(pre, 0, A_BOLD, "Domain:");
		break;
	case WS_SELECTOR:
		doc_para(pre, 0, A_NORMAL, "A selector names this key, so that a new one can be "
			 "published next to it when you rotate keys. The year and month is a good "
			 "choice. The record will be named <selector>._domainkey.%s.", w->domain);
		doc_blank(pre);
		doc_para(pre, 0, A_BOLD, "Selector:");
		break;
	case WS_KEY:
		doc_para(pre, 0, A_NORMAL, "Which key for %s, selector %s? The first choice is "
			 "right for nearly everyone.", w->domain, w->selector);
		doc_blank(pre);
		break;
	case WS_RECORD:
		doc_para(pre, 0, A_NORMAL, "%s the key %s (0600). Publish this TXT record at your "
			 "DNS provider:",
			 w->key.outcome == KEYJOB_REUSED ? "Using" :
			 w->key.outcome == KEYJOB_DRY_RUN ? "Dry run: not saved:" : "Saved",
			 w->key.paths.priv);
		doc_blank(pre);
		record_doc(u, pre, &w->key);
		if (w->have_edkey) {
			doc_blank(pre);
			doc_para(pre, 0, A_BOLD, "And the second (Ed25519) record:");
			record_doc(u, pre, &w->edkey);
		}
		doc_blank(pre);
		doc_para(pre, 0, A_NORMAL, "c copies the value to the clipboard by OSC 52 (not every "
			 "terminal honours it). p prints the record as plain text to select with the "
			 "mouse. s saves it to %s.", (wiz_record_path(w, buf, sizeof buf), buf));
		return 0;
	case WS_DNS: {
		doc_para(pre, 0, A_NORMAL, "Asking the authoritative servers of %s for %s, every few "
			 "seconds.", w->view.zone[0] ? w->view.zone : w->domain, w->key.fqdn);
		doc_blank(pre);
		if (w->dns_error[0]) {
			doc_para(pre, 0, att(u, PAIR_ERR), "%s", w->dns_error);
			doc_para(pre, 0, A_NORMAL, "Press r to try again, or s to skip and check later "
				 "with dkim-setup check.");
		}
		time_t last = w->dns_error[0] ? 0 : dns_table(u, pre, &w->view);
		if (w->have_edkey && !w->dns_error[0]) {
			doc_para(pre, 0, A_BOLD, "The Ed25519 record, %s:", w->edkey.fqdn);
			time_t l2 = dns_table(u, pre, &w->view_ed);
			if (l2 > last)
				last = l2;
		}
		if (last != 0)
			doc_para(pre, 0, A_NORMAL, "Last asked %ld s ago.", (long)(time(NULL) - last));
		doc_blank(pre);
		if (w->dns_ok)
			doc_para(pre, 0, att(u, PAIR_OK), "Every server serves the new key%s.",
				 w->have_edkey ? "s" : "");
		else
			doc_para(pre, 0, A_NORMAL, "Paste the record at your DNS provider, then press r. "
				 "Do not look the name up through an ordinary resolver before every server "
				 "says OK: it would remember \"missing\" for %s.",
				 w->view.have_neg_ttl ? (snprintf(buf, sizeof buf, "%u seconds (the zone's "
					"negative-caching time)", w->view.neg_ttl), buf)
						      : "the zone's negative-caching time (SOA minimum)");
		if (w->have_tsig && !w->dns_ok)
			doc_para(pre, 0, A_NORMAL, "You gave a TSIG key: press u to publish the record "
				 "yourself by RFC 2136 UPDATE.");
		if (w->publish_note[0])
			doc_para(pre, 0, A_NORMAL, "%s", w->publish_note);
		if (w->job.running) {
			spinner(w, buf, sizeof buf, "Publishing");
			doc_para(pre, 0, A_BOLD, "%s", buf);
		}
		return 0;
	}
	case WS_MTA:
		doc_para(pre, 0, A_NORMAL, "Mail server: %s", w->mta.summary[0] ? w->mta.summary : "?");
		if (w->mta.warning[0])
			doc_para(pre, 2, att(u, PAIR_WARN), "%s", w->mta.warning);
		doc_blank(pre);
		switch (w->mta_phase) {
		case MTA_PREVIEW:
			if (w->opt->dry_run)
				doc_para(pre, 0, A_BOLD, "Dry run: this is the change a real run would make; "
					 "nothing is written. Enter goes on.");
			else
				doc_para(pre, 0, A_BOLD, "Enter applies the changes below and checks them; "
					 "s skips this step.");
			doc_blank(pre);
			if (w->plan.explain)
				doc_para(pre, 0, A_NORMAL, "%s", w->plan.explain);
			doc_para(pre, 0, A_BOLD, "The changes (every changed file is backed up first):");
			for (const char *l = w->plan.diff; l != NULL && *l != '\0';) {
				const char *nl = strchr(l, '\n');
				size_t len = nl ? (size_t)(nl - l) : strlen(l);
				char *one = strndup(l, len);
				int pair = l[0] == '+' ? PAIR_ADD : l[0] == '-' ? PAIR_DEL : 0;
				/* "# new file ..." notes are prose; file lines are cut
				 * exactly, so no character of them is lost */
				if (one != NULL && one[0] == '#')
					doc_para(pre, 2, A_NORMAL, "%s", one);
				else if (one != NULL)
					doc_hard(pre, 0, pair ? att(u, pair) : A_NORMAL, one[0] ? one : " ");
				free(one);
				l = nl ? nl + 1 : NULL;
			}
			break;
		case MTA_APPLYING:
			spinner(w, buf, sizeof buf, "Applying and checking the configuration");
			doc_para(pre, 0, A_BOLD, "%s", buf);
			break;
		case MTA_APPLIED:
			doc_para(pre, 0, att(u, PAIR_OK), "Applied%s.", w->mres.validated ?
				 " and checked" : "");
			if (w->mres.validator[0])
				doc_para(pre, 2, A_NORMAL, "Checker: %s", w->mres.validator);
			if (w->mres.key_access[0])
				doc_para(pre, 2, A_NORMAL, "Key access: %s", w->mres.key_access);
			for (size_t i = 0; i < w->mres.n_backups && i < 8; i++)
				doc_para(pre, 2, A_NORMAL, "Backup: %s", w->mres.backups[i]);
			doc_blank(pre);
			if (w->no_reload != NULL) {
				doc_para(pre, 0, A_NORMAL, "Nothing is reloaded: %s. On the server, the "
					 "change takes effect with:", w->no_reload);
				doc_para(pre, 2, A_BOLD, "%s", w->plan.reload_cmd);
				doc_blank(pre);
				doc_para(pre, 0, A_BOLD, "Enter goes on.");
			} else {
				doc_para(pre, 0, A_BOLD, "Enter reloads the mail server so that it starts "
					 "signing; n goes on without reloading.");
			}
			break;
		case MTA_FAILED:
			doc_para(pre, 0, att(u, PAIR_ERR), "Not configured: %s", w->mta_error);
			if (w->mres.rolled_back)
				doc_para(pre, 0, A_NORMAL, "Every file was put back as it was.");
			doc_para(pre, 0, A_NORMAL, "Enter goes on; the key and record are fine, and the "
				 "summary says what is left to do.");
			break;
		case MTA_SKIPPED:
			doc_para(pre, 0, A_NORMAL, "%s", w->mta.kind == MTA_NONE ?
				 "No mail server to configure (Exim or Postfix). Enter goes on." :
				 "Skipped. Enter goes on.");
			break;
		case MTA_DONE:
			doc_para(pre, 0, att(u, PAIR_OK), "The mail server is configured for this key "
				 "already. Enter goes on.");
			break;
		case MTA_SHOWN:
			doc_para(pre, 0, A_NORMAL, "Dry run: nothing written. Enter goes on.");
			break;
		}
		return 0;
	case WS_SUMMARY: {
		const struct dk_keyjob *k = &w->key;
		doc_para(pre, 0, A_BOLD, "DKIM for %s, selector %s", k->domain, k->selector);
		doc_para(pre, 2, A_NORMAL, "Key: %s%s (0600), public half %s.", w->opt->dry_run ?
			 "(dry run, not saved) " : "", k->paths.priv, k->paths.pub);
		if (w->have_edkey)
			doc_para(pre, 2, A_NORMAL, "Second key: %s (Ed25519).", w->edkey.paths.priv);
		if (w->dns_ok)
			doc_para(pre, 2, att(u, PAIR_OK), "DNS: every authoritative server serves %s%s%s.",
				 k->fqdn, w->have_edkey ? " and " : "", w->have_edkey ? w->edkey.fqdn : "");
		else {
			char ns[2 * DK_MAX_NAMESERVERS * (DK_ADDR_MAX + 24)];
			options_dns_args(w->opt, ns, sizeof ns);
			doc_para(pre, 2, att(u, PAIR_WARN), "DNS: not confirmed yet. When the record is "
				 "published, run:");
			doc_para(pre, 4, A_BOLD, "dkim-setup check -d %s -s %s%s", k->domain, k->selector, ns);
		}
		switch (w->mta_phase) {
		case MTA_SHOWN:
			doc_para(pre, 2, A_NORMAL, "Mail server: dry run, the change shown was not written.");
			break;
		case MTA_DONE:
			doc_para(pre, 2, A_NORMAL, "Mail server: configured%s%s", w->reloaded &&
				 w->reload_what[0] ? "; " : ".", w->reloaded ? w->reload_what : "");
			break;
		case MTA_APPLIED:
			doc_para(pre, 2, A_NORMAL, "Mail server: configured, not reloaded yet.");
			break;
		case MTA_FAILED:
			doc_para(pre, 2, att(u, PAIR_WARN), "Mail server: not configured (%s).", w->mta_error);
			break;
		default:
			doc_para(pre, 2, A_NORMAL, "Mail server: not configured by dkim-setup.");
			break;
		}
		if (!w->proof_done) {
			spinner(w, buf, sizeof buf, "Signing a test message and verifying it");
			doc_para(pre, 2, A_BOLD, "%s", buf);
		} else if (w->proof_error[0]) {
			doc_para(pre, 2, att(u, PAIR_WARN), "Proof: %s", w->proof_error);
		} else {
			proof_line(u, pre, w->have_edkey ? "Proof (RSA)" : "Proof", &w->proof);
			if (w->have_edkey)
				proof_line(u, pre, "Proof (Ed25519)", &w->proof_ed);
		}
		doc_blank(pre);
		doc_para(pre, 0, A_BOLD, "Next steps: SPF and DMARC records for %s", k->domain);
		doc_para(pre, 2, A_NORMAL, "%s. TXT \"v=spf1 mx ~all\"", k->domain);
		doc_para(pre, 2, A_NORMAL, "_dmarc.%s. TXT \"v=DMARC1; p=none; rua=mailto:postmaster@%s\"",
			 k->domain, k->domain);
		doc_para(pre, 2, A_NORMAL, "(adjust SPF to every server that sends for the domain; "
			 "tighten DMARC to p=quarantine once reports look right)");
		doc_blank(pre);
		doc_para(pre, 0, A_BOLD, "%s", w->proof_done ? "Press Enter to finish." : "");
		return 0;
	}
	case WS_COUNT:
		break;
	}
	/* text steps: the field, then the reason in place */
	if (w->step == WS_DOMAIN || w->step == WS_SELECTOR) {
		if (w->why[0])
			doc_para(post, 0, att(u, PAIR_ERR), "%s", w->why);
		else
			doc_para(post, 0, att(u, PAIR_OK), "OK");
		if (w->warn[0])
			doc_para(post, 0, att(u, PAIR_WARN), "%s", w->warn);
		return 1;
	}
	/* the key step */
	const struct wiz_key_choice *c = &wiz_key_choices[w->key_choice];
	if (c->note[0])
		doc_para(post, 0, att(u, c->bits == 1024 || c->bits == 4096 ? PAIR_WARN : 0), "%s", c->note);
	else
		doc_blank(post);
	if (w->published[0])
		doc_para(post, 0, att(u, PAIR_WARN), "%s", w->published);
	doc_blank(post);
	doc_para(post, 0, A_NORMAL, "[%c] Also an Ed25519 key, selector %s (e switches)",
		 w->with_ed ? 'x' : ' ', w->ed_selector);
	if (w->job.running && w->job.kind == JOB_KEYGEN) {
		char what[96];
		doc_blank(post);
		snprintf(what, sizeof what, "Generating the key%s", c->bits >= 3072 ?
			 " (large keys take a few seconds; keys still work)" : "");
		spinner(w, buf, sizeof buf, what);
		doc_para(post, 0, A_BOLD, "%s", buf);
	}
	return (int)wiz_n_key_choices;
}

/* ---- widgets ---------------------------------------------------------------- */

static void widgets_free(struct ui *u)
{
	if (u->form != NULL) {
		unpost_form(u->form);
		free_form(u->form);
		free_field(u->fields[0]);
		u->form = NULL;
		u->fields[0] = NULL;
	}
	if (u->menu != NULL) {
		unpost_menu(u->menu);
		free_menu(u->menu);
		for (int i = 0; i < u->n_items; i++)
			free_item(u->items[i]);
		free(u->items);
		free(u->item_names);
		u->menu = NULL;
		u->items = NULL;
		u->item_names = NULL;
	}
	u->n_items = 0;
	if (u->p_wid != NULL)
		del_panel(u->p_wid);
	if (u->wid != NULL)
		delwin(u->wid);
	u->p_wid = NULL;
	u->wid = NULL;
}

static void windows_free(struct ui *u)
{
	widgets_free(u);
	PANEL **ps[] = { &u->p_hdr, &u->p_main, &u->p_ftr, &u->p_pop };
	WINDOW **ws[] = { &u->hdr, &u->main, &u->ftr, &u->pop };
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		if (*ps[i] != NULL)
			del_panel(*ps[i]);
		if (*ws[i] != NULL)
			delwin(*ws[i]);
		*ps[i] = NULL;
		*ws[i] = NULL;
	}
}

/* The menu items of the current step (names must outlive the menu). */
static void make_items(struct ui *u)
{
	struct wizard *w = &u->w;
	int n = w->step == WS_SURVEY ? w->n_resume + 1 : (int)wiz_n_key_choices;
	u->item_names = calloc((size_t)n, sizeof *u->item_names);
	u->items = calloc((size_t)n + 1, sizeof *u->items);
	if (u->item_names == NULL || u->items == NULL)
		return;
	for (int i = 0; i < n; i++) {
		if (w->step == WS_KEY)
			snprintf(u->item_names[i], sizeof u->item_names[i], "%s", wiz_key_choices[i].label);
		else if (i == 0)
			snprintf(u->item_names[i], sizeof u->item_names[i], "Set up a new key");
		else
			snprintf(u->item_names[i], sizeof u->item_names[i], "Continue with %s, selector %s",
				 w->resume[i - 1].domain, w->resume[i - 1].selector);
		u->items[i] = new_item(u->item_names[i], "");
	}
	u->n_items = n;
}

/* Create the widget of the current step at screen row y, at most `rows`
 * rows high (a longer menu scrolls). */
static void widgets_make(struct ui *u, int y, int rows)
{
	struct wizard *w = &u->w;
	int x = 2, width = COLS - 4;
	if (w->step == WS_DOMAIN || w->step == WS_SELECTOR) {
		int fw = width > 66 ? 66 : width;
		u->wid = newwin(1, fw, y, x);
		u->fields[0] = new_field(1, fw, 0, 0, 0, 0);
		u->fields[1] = NULL;
		field_opts_off(u->fields[0], O_AUTOSKIP | O_STATIC | O_BLANK);
		set_max_field(u->fields[0], w->step == WS_DOMAIN ? DK_DOMAIN_MAX : DK_LABEL_MAX);
		set_field_back(u->fields[0], att(u, PAIR_FIELD));
		set_field_buffer(u->fields[0], 0, w->text);
		u->form = new_form(u->fields);
		set_form_win(u->form, u->wid);
		set_form_sub(u->form, u->wid);
		post_form(u->form);
		form_driver(u->form, REQ_END_LINE);
	} else if (w->step == WS_KEY || w->step == WS_SURVEY) {
		make_items(u);
		if (u->n_items == 0)
			return;
		int h = u->n_items < rows ? u->n_items : rows > 0 ? rows : 1;
		u->wid = newwin(h, width, y, x);
		keypad(u->wid, TRUE);
		u->menu = new_menu(u->items);
		set_menu_win(u->menu, u->wid);
		set_menu_sub(u->menu, u->wid);
		set_menu_mark(u->menu, "> ");
		set_menu_format(u->menu, h, 1);
		set_menu_fore(u->menu, A_REVERSE);
		int cur = w->step == WS_KEY ? w->key_choice : w->survey_choice;
		if (cur >= 0 && cur < u->n_items)
			set_current_item(u->menu, u->items[cur]);
		post_menu(u->menu);
	}
	if (u->wid != NULL)
		u->p_wid = new_panel(u->wid);
}

/* (Re)create every window for the current size and step. */
static void build(struct ui *u)
{
	windows_free(u);
	u->rebuild = false;
	u->built_step = u->w.step;
	u->scroll = 0;
	u->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
	if (u->too_small) {
		u->main = newwin(LINES, COLS, 0, 0);
		u->p_main = new_panel(u->main);
		keypad(u->main, TRUE);
		nodelay(u->main, TRUE);
		return;
	}
	u->hdr = newwin(2, COLS, 0, 0);
	u->main_y = 3;
	u->main_rows = LINES - 3 - 3;
	u->main = newwin(u->main_rows, COLS, u->main_y, 0);
	u->ftr = newwin(2, COLS, LINES - 2, 0);
	keypad(u->main, TRUE);
	nodelay(u->main, TRUE);
	u->p_hdr = new_panel(u->hdr);
	u->p_main = new_panel(u->main);
	u->p_ftr = new_panel(u->ftr);

	/* the widget sits below the text before it */
	struct doc pre = { .width = COLS - 4 }, post = { .width = COLS - 4 };
	int h = step_doc(u, &pre, &post);
	if (h > 0)
		widgets_make(u, u->main_y + pre.n, u->main_rows - pre.n - 1);
	doc_free(&pre);
	doc_free(&post);
}

/* ---- drawing ---------------------------------------------------------------- */

static void draw_header(struct ui *u)
{
	struct wizard *w = &u->w;
	werase(u->hdr);
	wbkgdset(u->hdr, ' ' | att(u, PAIR_HDR));
	wattrset(u->hdr, att(u, PAIR_HDR));
	mvwhline(u->hdr, 0, 0, ' ', COLS);
	mvwprintw(u->hdr, 0, 1, "dkim-setup: %s", wiz_steps[w->step].title);
	char pos[32];
	snprintf(pos, sizeof pos, "Step %d of %d", w->step + 1, WS_COUNT);
	mvwaddstr(u->hdr, 0, COLS - (int)strlen(pos) - 1, pos);
	wattrset(u->hdr, A_NORMAL);
	wbkgdset(u->hdr, ' ');
	wmove(u->hdr, 1, 1);
	for (int i = 0; i < WS_COUNT; i++) {
		char item[32];
		snprintf(item, sizeof item, "%d %s", i + 1, wiz_steps[i].name);
		if (i > 0)
			waddstr(u->hdr, i <= (int)w->step ? " > " : "   ");
		if (i == (int)w->step) {
			wattrset(u->hdr, A_REVERSE | A_BOLD);
			wprintw(u->hdr, "[%s]", item);
			wattrset(u->hdr, A_NORMAL);
		} else {
			wattrset(u->hdr, i < (int)w->step ? A_NORMAL : A_DIM);
			waddstr(u->hdr, item);
			wattrset(u->hdr, A_NORMAL);
		}
	}
}

/* One "key what" pair at x, if it ends before `limit`; returns the next x. */
static int footer_item(struct ui *u, int x, int limit, const char *key, const char *what)
{
	if (x + (int)strlen(key) + (int)strlen(what) + 3 > limit)
		return x;
	wattrset(u->ftr, att(u, PAIR_KEY));
	mvwaddstr(u->ftr, 1, x, key);
	wattrset(u->ftr, A_NORMAL);
	x += (int)strlen(key);
	mvwprintw(u->ftr, 1, x, " %s  ", what);
	return x + (int)strlen(what) + 3;
}

static void draw_footer(struct ui *u)
{
	struct wizard *w = &u->w;
	bool text = wiz_steps[w->step].text_entry;
	werase(u->ftr);
	if (w->msg[0]) {
		wattrset(u->ftr, w->msg_error ? att(u, PAIR_ERR) : A_BOLD);
		mvwaddnstr(u->ftr, 0, 1, w->msg, COLS - 2);
		wattrset(u->ftr, A_NORMAL);
	}
	/* help and quit always show, at the right; the step's keys fill the left */
	const char *hk = text ? "F1/^G" : "F1/?", *qk = text ? "F10/^Q" : "F10/q";
	int right = COLS - (int)(strlen(hk) + strlen(qk) + strlen(" help   quit  "));
	footer_item(u, footer_item(u, right, COLS, hk, "help"), COLS, qk, "quit");
	int x = 1;
	x = footer_item(u, x, right, "Enter", wiz_enter_label(w));
	if (w->step > WS_SURVEY && w->step != WS_SUMMARY)
		x = footer_item(u, x, right, text ? "Esc" : "Esc/b", "back");
	struct wiz_action acts[8];
	size_t n = wiz_actions(w, acts, 8);
	for (size_t i = 0; i < n; i++) {
		char k[8];
		snprintf(k, sizeof k, text ? "^%c" : "%c", text ? acts[i].key - 'a' + 'A' : acts[i].key);
		x = footer_item(u, x, right, k, acts[i].label);
	}
	if (wiz_training_text(w, w->step) != NULL)
		footer_item(u, x, right, text ? "^T" : "t", "explain");
}

static void draw_lines(struct ui *u, const struct doc *d, int y0, int rows, int from)
{
	for (int i = 0; i < rows && from + i < d->n; i++) {
		wattrset(u->main, d->v[from + i].a);
		mvwaddnstr(u->main, y0 + i, 2, d->v[from + i].s, COLS - 4);
	}
	wattrset(u->main, A_NORMAL);
}

static void draw_main(struct ui *u)
{
	struct doc pre = { .width = COLS - 4 }, post = { .width = COLS - 4 };
	werase(u->main);
	int h = step_doc(u, &pre, &post);
	if (h > 0) {
		/* widget steps are short: no scrolling */
		draw_lines(u, &pre, 0, u->main_rows, 0);
		if (u->wid != NULL)
			h = getmaxy(u->wid);
		draw_lines(u, &post, pre.n + h + 1, u->main_rows - pre.n - h - 1, 0);
	} else {
		int rows = u->main_rows;
		int max = pre.n - rows;
		if (u->scroll > max)
			u->scroll = max;
		if (u->scroll < 0)
			u->scroll = 0;
		bool more = pre.n > rows;
		draw_lines(u, &pre, 0, more ? rows - 1 : rows, u->scroll);
		if (more) {
			wattrset(u->main, A_REVERSE);
			mvwprintw(u->main, rows - 1, 2, " lines %d-%d of %d: arrows, PgUp/PgDn or j/k scroll ",
				  u->scroll + 1, u->scroll + rows - 1 < pre.n ? u->scroll + rows - 1 : pre.n, pre.n);
			wattrset(u->main, A_NORMAL);
		}
	}
	doc_free(&pre);
	doc_free(&post);
}

static void draw_popup(struct ui *u, const char *title, const char *text, const char *keys, int maxw)
{
	int width = COLS - 4 > maxw ? maxw : COLS - 4;
	if (width < 20)
		width = COLS;
	struct doc d = { .width = width - 4 };
	doc_para(&d, 0, A_NORMAL, "%s", text);
	int h = d.n + 4;
	if (h > LINES)
		h = LINES;
	if (u->p_pop != NULL)
		del_panel(u->p_pop);
	if (u->pop != NULL)
		delwin(u->pop);
	u->pop = newwin(h, width, (LINES - h) / 2, (COLS - width) / 2);
	u->p_pop = new_panel(u->pop);
	wbkgd(u->pop, ' ' | (u->color ? COLOR_PAIR(PAIR_HDR) : A_REVERSE));
	box(u->pop, 0, 0);
	mvwprintw(u->pop, 0, 2, " %s ", title);
	for (int i = 0; i < d.n && i < h - 4; i++)
		mvwaddnstr(u->pop, 1 + i, 2, d.v[i].s, width - 4);
	wattrset(u->pop, A_BOLD);
	mvwaddnstr(u->pop, h - 2, 2, keys, width - 4);
	doc_free(&d);
}

static void draw_small(struct ui *u)
{
	char msg[256];
	werase(u->main);
	snprintf(msg, sizeof msg, "This window is %dx%d. dkim-setup needs at least %dx%d: please "
		 "make the window larger. (q quits)", COLS, LINES, MIN_COLS, MIN_LINES);
	if (u->modal == MODAL_QUIT)
		snprintf(msg, sizeof msg, "Quit dkim-setup? y = yes, n = no");
	struct doc d = { .width = COLS > 2 ? COLS - 1 : 1 };
	doc_para(&d, 0, A_NORMAL, "%s", msg);
	wattrset(u->main, A_BOLD);
	for (int i = 0; i < d.n && i < LINES; i++)
		mvwaddnstr(u->main, i, 0, d.v[i].s, COLS);
	wattrset(u->main, A_NORMAL);
	doc_free(&d);
}

static void draw(struct ui *u)
{
	if (u->rebuild || u->built_step != u->w.step)
		build(u);
	if (!u->too_small && u->modal == MODAL_NONE) {
		const char *tt = wiz_training_text(&u->w, u->w.step);
		if (!u->welcomed && wiz_training_welcome(&u->w) != NULL) {
			u->welcomed = true;
			u->explain = wiz_training_welcome(&u->w);
			u->modal = MODAL_EXPLAIN;
		} else if (!u->explained[u->w.step] && tt != NULL) {
			u->explained[u->w.step] = true;
			u->explain = tt;
			u->modal = MODAL_EXPLAIN;
		}
	}
	if (u->too_small) {
		draw_small(u);
		curs_set(0);
		update_panels();
		doupdate();
		return;
	}
	draw_header(u);
	draw_main(u);
	draw_footer(u);
	if (u->p_pop != NULL) {
		del_panel(u->p_pop);
		delwin(u->pop);
		u->p_pop = NULL;
		u->pop = NULL;
	}
	if (u->modal == MODAL_QUIT) {
		const char *q = wiz_quit_question(&u->w);
		draw_popup(u, "Quit", q != NULL ? q : "Quit dkim-setup?", "y = quit    n or Esc = stay", 70);
	} else if (u->modal == MODAL_HELP) {
		draw_popup(u, wiz_steps[u->w.step].name, wiz_steps[u->w.step].help,
			   "Enter/Tab: next   Esc/F9: back   F10: quit   (any key closes this)", 70);
	} else if (u->modal == MODAL_EXPLAIN && u->explain != NULL) {
		/* first line: the title; the rest wrapped to the window */
		char title[128];
		const char *nl = strchr(u->explain, '\n');
		snprintf(title, sizeof title, "%.*s", nl != NULL ? (int)(nl - u->explain) : 60, u->explain);
		/* the files are wrapped prose: join lines, keep blank-line paragraphs */
		char body[8192];
		snprintf(body, sizeof body, "%s", nl != NULL ? nl + 1 : "");
		for (size_t n = strlen(body); n > 0 && body[n - 1] == '\n'; n--)
			body[n - 1] = '\0';
		for (char *c = body; *c != '\0'; c++)
			if (*c == '\n' && c[1] != '\n' && c[1] != '\0' && (c == body || c[-1] != '\n'))
				*c = ' ';
		draw_popup(u, title, body, wiz_steps[u->w.step].text_entry ?
			   "Any key closes this; ^T shows it again." :
			   "Any key closes this; t shows it again.", 84);
	}
	update_panels();
	if (u->form != NULL && u->modal == MODAL_NONE) {
		curs_set(1);
		pos_form_cursor(u->form);
		wnoutrefresh(u->wid);
	} else {
		curs_set(0);
	}
	doupdate();
}

/* ---- copy and print -------------------------------------------------------- */

static void osc52_copy(struct ui *u)
{
	const char *v = u->w.key.value;
	if (v == NULL)
		return;
	size_t len = strlen(v);
	unsigned char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (b64 == NULL)
		return;
	EVP_EncodeBlock(b64, (const unsigned char *)v, (int)len);
	const char *term = getenv("TERM");
	/* GNU screen passes OSC 52 on only inside its DCS wrapper. */
	bool screen = term != NULL && strncmp(term, "screen", 6) == 0 && getenv("TMUX") == NULL &&
		      getenv("STY") != NULL;
	FILE *tty = stdout;
	fprintf(tty, "%s\033]52;c;%s\a%s", screen ? "\033P" : "", b64, screen ? "\033\\" : "");
	fflush(tty);
	free(b64);
	snprintf(u->w.msg, sizeof u->w.msg, "Sent the value to the clipboard by OSC 52 (not every "
		 "terminal honours it; if nothing arrives, press p).");
	u->w.msg_error = false;
}

/* Wait for Enter outside curses; a signal ends the wait too. */
static void wait_enter(void)
{
	for (int i = 0; i < 100000 && !got_signal; i++) {
		struct pollfd pf[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pf[1].revents)
			return;
		char c;
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n <= 0 || c == '\n' || c == '\r')
			return;
	}
}

static void print_plain(struct ui *u)
{
	struct wizard *w = &u->w;
	char *text = wiz_record_text(&w->key);
	char *ed = w->have_edkey ? wiz_record_text(&w->edkey) : NULL;
	def_prog_mode();
	endwin();
	/* Each value on one unbroken line, for the mouse. */
	printf("\n%s%s%s\n", text != NULL ? text : "(out of memory)\n", ed != NULL ? "\n" : "",
	       ed != NULL ? ed : "");
	printf("Select the record above with the mouse. Press Enter to go back to dkim-setup.\n");
	fflush(stdout);
	free(text);
	free(ed);
	wait_enter();
	reset_prog_mode();
	clearok(curscr, TRUE);
	u->rebuild = true;
}

/* ---- keys -------------------------------------------------------------- */

static void dispatch(struct ui *u, enum wiz_ev_type type, int arg, const char *text, bool *done)
{
	struct wiz_event ev = { type, arg, text };
	enum wiz_step_id before = u->w.step;
	if (wiz_dispatch(&u->w, &ev) == WR_FINISH)
		*done = true;
	if (u->w.step != before)
		u->rebuild = true;
}

static void form_sync(struct ui *u, bool *done)
{
	form_driver(u->form, REQ_VALIDATION);
	char buf[DK_DOMAIN_MAX + 1];
	snprintf(buf, sizeof buf, "%s", field_buffer(u->fields[0], 0));
	dispatch(u, EV_TEXT, 0, buf, done);
}

static bool is_quit_key(int ch, bool text)
{
	return ch == KEY_F(10) || ch == CTRL('q') || ch == CTRL('x') || (!text && (ch == 'q' || ch == 'Q'));
}

static void ask_quit(struct ui *u, bool always, bool *done, bool *quit)
{
	if (!always && wiz_quit_question(&u->w) == NULL) {
		*done = *quit = true;
		return;
	}
	u->modal = MODAL_QUIT;
}

static void handle_key(struct ui *u, int ch, bool *done, bool *quit)
{
	struct wizard *w = &u->w;
	bool text = u->form != NULL;

	if (ch == KEY_RESIZE) {
		u->rebuild = true;
		return;
	}
	if (u->modal == MODAL_QUIT) {
		if (ch == 'y' || ch == 'Y')
			*done = *quit = true;
		else if (ch == 'n' || ch == 'N' || ch == KEY_ESC || ch == KEY_F(9) || ch == CTRL('c'))
			u->modal = MODAL_NONE;
		return;
	}
	if (u->modal == MODAL_HELP || u->modal == MODAL_EXPLAIN) {
		u->modal = MODAL_NONE;
		return;
	}
	if (ch == CTRL('c')) {
		ask_quit(u, true, done, quit);
		return;
	}
	if (is_quit_key(ch, text)) {
		if (w->step == WS_SUMMARY && w->proof_done)
			dispatch(u, EV_NEXT, 0, NULL, done);   /* q at the end is "finish" */
		else
			ask_quit(u, false, done, quit);
		return;
	}
	if (u->too_small)
		return;
	if (ch == KEY_F(1) || ch == CTRL('g') || (!text && (ch == '?' || ch == 'h'))) {
		u->modal = MODAL_HELP;
		return;
	}
	if (ch == CTRL('t') || (!text && ch == 't')) {
		if (wiz_training_text(w, w->step) != NULL) {
			u->explain = wiz_training_text(w, w->step);
			u->modal = MODAL_EXPLAIN;
		}
		return;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == '\t') {
		if (text)
			form_sync(u, done);
		dispatch(u, EV_NEXT, 0, NULL, done);
		return;
	}
	if (ch == KEY_ESC || ch == KEY_F(9) || ch == CTRL('b') || (!text && (ch == 'b' || ch == 'B'))) {
		if (text)
			form_sync(u, done);
		dispatch(u, EV_BACK, 0, NULL, done);
		return;
	}
	if (u->menu != NULL && !w->job.running) {
		int req = ch == KEY_UP || ch == 'k' ? REQ_UP_ITEM : ch == KEY_DOWN || ch == 'j' ? REQ_DOWN_ITEM
			: ch == KEY_HOME ? REQ_FIRST_ITEM : ch == KEY_END ? REQ_LAST_ITEM : 0;
		if (req != 0) {
			menu_driver(u->menu, req);
			dispatch(u, EV_CHOOSE, item_index(current_item(u->menu)), NULL, done);
			return;
		}
	} else if (!text) {
		int page = u->main_rows > 3 ? u->main_rows - 2 : 1;
		int d = ch == KEY_UP || ch == 'k' ? -1 : ch == KEY_DOWN || ch == 'j' ? 1
			: ch == KEY_PPAGE ? -page : ch == KEY_NPAGE || ch == ' ' ? page : 0;
		if (d != 0) {
			u->scroll += d;
			return;
		}
	}
	/* the step's own keys: letters, or Ctrl+letter on text steps */
	struct wiz_action acts[8];
	size_t n = wiz_actions(w, acts, 8);
	for (size_t i = 0; i < n; i++) {
		if (text ? ch != CTRL(acts[i].key) : ch != acts[i].key)
			continue;
		if (acts[i].act == ACT_UI_COPY)
			osc52_copy(u);
		else if (acts[i].act == ACT_UI_PRINT)
			print_plain(u);
		else
			dispatch(u, EV_ACTION, (int)acts[i].act, NULL, done);
		return;
	}
	if (!text)
		return;
	int req = 0;
	switch (ch) {
	case KEY_LEFT: req = REQ_PREV_CHAR; break;
	case KEY_RIGHT: req = REQ_NEXT_CHAR; break;
	case KEY_HOME: case CTRL('a'): req = REQ_BEG_LINE; break;
	case KEY_END: case CTRL('e'): req = REQ_END_LINE; break;
	case KEY_BACKSPACE: case 127: case 8: req = REQ_DEL_PREV; break;
	case KEY_DC: case CTRL('d'): req = REQ_DEL_CHAR; break;
	case CTRL('u'): req = REQ_CLR_FIELD; break;
	case CTRL('k'): req = REQ_CLR_EOL; break;
	default:
		if (ch >= 0x20 && ch < 0x7f) {
			req = ch;
		} else if (ch >= 0x80 && ch < 0x100) {
			snprintf(w->msg, sizeof w->msg, "Only ASCII here: write an international "
				 "domain in its xn-- form.");
			w->msg_error = true;
			return;
		}
		break;
	}
	if (req == 0)
		return;
	form_driver(u->form, req);
	form_sync(u, done);
}

/* ---- the loop ------------------------------------------------------------ */

static void init_colors(struct ui *u)
{
	const char *nc = getenv("NO_COLOR");
	u->color = (nc == NULL || nc[0] == '\0') && has_colors();
	if (!u->color)
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_HDR, COLOR_WHITE, COLOR_BLUE);
	init_pair(PAIR_ERR, COLOR_RED, -1);
	init_pair(PAIR_OK, COLOR_GREEN, -1);
	init_pair(PAIR_WARN, COLOR_YELLOW, -1);
	init_pair(PAIR_ADD, COLOR_GREEN, -1);
	init_pair(PAIR_DEL, COLOR_RED, -1);
	init_pair(PAIR_KEY, COLOR_CYAN, -1);
	init_pair(PAIR_FIELD, COLOR_BLACK, COLOR_CYAN);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void training_dirs(struct wizard *w)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	const char *env = getenv("DKIM_SETUP_ASSETS");
	if (env != NULL && env[0] == '/')
		wiz_training_load(w, env);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* run from the source tree: build/dkim-setup or build/asan/dkim-setup */
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(exe, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			/* the parent of that directory, without "..": texts are
			 * read through a walk that refuses it */
			const char *up_slash = strrchr(exe, '/');
			if (up_slash == NULL)
				break;
			snprintf(dir, sizeof dir, "%.*s/assets/training", (int)(up_slash - exe), exe);
			wiz_training_load(w, dir);
		}
	}
	/* Not the current directory: as root, texts come from places root owns. */
	wiz_training_load(w, DK_DATADIR "/training");
}

int wizard_run(const struct options *opt)
{
	struct ui *u = calloc(1, sizeof *u);
	if (u == NULL) {
		fprintf(stderr, "dkim-setup: out of memory\n");
		return DK_SYSERR;
	}
	setlocale(LC_ALL, "");
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "dkim-setup: pipe: %s\n", strerror(errno));
		free(u);
		return DK_SYSERR;
	}
	install_signals();
	wiz_init(&u->w, opt);
	if (opt->training)
		training_dirs(&u->w);

	if (initscr() == NULL) {
		wiz_free(&u->w);
		free(u);
		return DK_SYSERR;
	}
	raw();   /* Ctrl-C is a key: it asks before quitting */
	noecho();
	nonl();
	set_escdelay(250);   /* slow SSH links split escape sequences */
	init_colors(u);
	u->rebuild = true;

	bool done = false, quit = false;
	while (!done) {
		draw(u);
		struct pollfd pf[5] = {
			{ STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 },
			{ wiz_job_fd(&u->w), POLLIN, 0 }, { wiz_dns_fd(&u->w), POLLIN, 0 },
			{ wiz_dns_fd_ed(&u->w), POLLIN, 0 },
		};
		/* a running job redraws its spinner; otherwise wake now and then for
		 * SIGWINCH that landed on another thread */
		int rc = poll(pf, 5, u->w.job.running ? 250 : 1000);
		if (rc < 0 && errno != EINTR)
			break;
		if (got_signal != 0 || (rc > 0 && pf[1].revents)) {
			char drain[16];
			while (read(sig_pipe[0], drain, sizeof drain) > 0)
				;
			int sig = got_signal;
			got_signal = 0;
			if (sig == SIGINT) {
				u->modal = MODAL_QUIT;
			} else if (sig != 0) {
				/* SIGTERM, SIGHUP, SIGQUIT: give the terminal back at once,
				 * then let a key being written finish (never half a file) */
				windows_free(u);
				endwin();
				wiz_free(&u->w);
				free(u);
				signal(sig, SIG_DFL);
				raise(sig);
				return DK_SYSERR;
			}
		}
		if (rc > 0 && pf[2].fd >= 0 && pf[2].revents) {
			wiz_job_collect(&u->w);
			dispatch(u, EV_JOB_DONE, 0, NULL, &done);
		}
		if (rc > 0 && ((pf[3].fd >= 0 && pf[3].revents) || (pf[4].fd >= 0 && pf[4].revents))) {
			wiz_dns_update(&u->w);
			dispatch(u, EV_DNS, 0, NULL, &done);
		}
		for (int i = 0; i < 64 && !done; i++) {
			int ch = wgetch(u->main);
			if (ch == ERR)
				break;
			enum modal before = u->modal;
			handle_key(u, ch, &done, &quit);
			/* the next keys belong to the new widgets or the next popup */
			if (u->rebuild || u->built_step != u->w.step || u->modal != before)
				break;
		}
	}

	int status = quit && u->w.step != WS_SUMMARY ? DK_MISMATCH : u->w.status;
	bool had_key = u->w.have_key && !opt->dry_run;
	char fqdn[DK_DOMAIN_MAX + 2], priv[PATH_MAX], domain[DK_DOMAIN_MAX + 1], sel[DK_LABEL_MAX + 1];
	snprintf(fqdn, sizeof fqdn, "%s", u->w.key.fqdn);
	snprintf(priv, sizeof priv, "%s", u->w.key.paths.priv);
	snprintf(domain, sizeof domain, "%s", u->w.key.domain);
	snprintf(sel, sizeof sel, "%s", u->w.key.selector);
	windows_free(u);
	endwin();
	wiz_free(&u->w);
	free(u);
	if (had_key) {
		/* The commands as they must be typed for this run: with its sandbox
		 * root and the servers it was told to ask. */
		char rootopt[PATH_MAX + 16] = "", nsopt[2 * DK_MAX_NAMESERVERS * (DK_ADDR_MAX + 24)];
		if (opt->root[0] != '\0')
			snprintf(rootopt, sizeof rootopt, " --root %s", opt->root);
		options_dns_args(opt, nsopt, sizeof nsopt);
		printf("dkim-setup: key %s%s, record %s TXT; `dkim-setup record -d %s -s %s%s` prints it "
		       "again, `dkim-setup check -d %s -s %s%s%s` checks DNS.\n", opt->root, priv, fqdn,
		       domain, sel, rootopt, domain, sel, rootopt, nsopt);
	}
	return status;
}
