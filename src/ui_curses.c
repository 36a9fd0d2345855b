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
#include <wchar.h>

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
	const char *pop_shown;                /* the text pop_top belongs to */
	int pop_top, pop_hidden;              /* its first line shown; lines it cannot show */
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

/* ---- the step contents (the text is the wizard's: wiz_view) ------------- */

/* The look of a doc line (enum doc_attr). */
static attr_t look(const struct ui *u, unsigned long a)
{
	switch (a) {
	case DA_BOLD: return A_BOLD;
	case DA_OK: return att(u, PAIR_OK);
	case DA_WARN: return att(u, PAIR_WARN);
	case DA_ERR: return att(u, PAIR_ERR);
	case DA_ADD: return att(u, PAIR_ADD);
	case DA_DEL: return att(u, PAIR_DEL);
	default: return A_NORMAL;
	}
}

/* The message of the last action, wrapped to the window (it may take more
 * than the footer's two rows: then it takes rows of the main pane too). */
static void msg_doc(const struct ui *u, struct doc *m)
{
	m->width = COLS - 2;
	if (u->w.msg[0])
		doc_para(m, 0, u->w.msg_error ? DA_ERR : DA_BOLD, "%s", u->w.msg);
}

static int key_rows(const struct ui *u);

static int msg_extra_rows(const struct ui *u)
{
	struct doc m = { 0 };
	int mrows = 3 - key_rows(u);
	msg_doc(u, &m);
	int extra = m.n > mrows ? m.n - mrows : 0;
	doc_free(&m);
	return extra < u->main_rows / 2 ? extra : u->main_rows / 2;
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
	int n = w->step == WS_SURVEY ? wiz_survey_items(w) : (int)wiz_n_key_choices;
	u->item_names = calloc((size_t)n, sizeof *u->item_names);
	u->items = calloc((size_t)n + 1, sizeof *u->items);
	if (u->item_names == NULL || u->items == NULL)
		return;
	for (int i = 0; i < n; i++) {
		if (w->step == WS_KEY)
			snprintf(u->item_names[i], sizeof u->item_names[i], "%s", wiz_key_choices[i].label);
		else
			wiz_survey_item(w, i, u->item_names[i], sizeof u->item_names[i]);
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
	u->ftr = newwin(3, COLS, LINES - 3, 0);
	keypad(u->main, TRUE);
	nodelay(u->main, TRUE);
	u->p_hdr = new_panel(u->hdr);
	u->p_main = new_panel(u->main);
	u->p_ftr = new_panel(u->ftr);

	/* the widget sits below the text before it */
	struct doc pre = { .width = COLS - 4 }, post = { .width = COLS - 4 };
	int h = wiz_view(&u->w, &pre, &post);
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

/* The footer's key rows: every key that works here (wiz_keys), on one row
 * when they fit, else on two (the message then has one row less). */
static int key_rows(const struct ui *u)
{
	struct wiz_keyhint k[16];
	size_t n = wiz_keys(&u->w, k, 16);
	int width = 1;
	for (size_t i = 0; i < n; i++)
		width += (int)(strlen(k[i].key) + strlen(k[i].label)) + 3;
	return width > COLS ? 2 : 1;
}

/* One "key what" pair at (row, x); returns the next x. */
static int footer_item(struct ui *u, int row, int x, const char *key, const char *what)
{
	wattrset(u->ftr, att(u, PAIR_KEY));
	mvwaddnstr(u->ftr, row, x, key, COLS - x);
	wattrset(u->ftr, A_NORMAL);
	x += (int)strlen(key);
	if (x < COLS)
		mvwaddnstr(u->ftr, row, x, " ", COLS - x);
	if (x + 1 < COLS)
		mvwaddnstr(u->ftr, row, x + 1, what, COLS - x - 1);
	return x + (int)strlen(what) + 3;
}

/* The message (its last lines; earlier ones are in the main pane), then
 * exactly the keys that work here (wiz_keys): help and quit at the right. */
static void draw_footer(struct ui *u)
{
	struct doc m = { 0 };
	int kr = key_rows(u), mrows = 3 - kr;
	werase(u->ftr);
	msg_doc(u, &m);
	int first = m.n > mrows ? m.n - mrows : 0;
	for (int i = first; i < m.n; i++) {
		wattrset(u->ftr, look(u, m.v[i].a));
		mvwaddnstr(u->ftr, mrows - (m.n - i), 1, m.v[i].s, COLS - 2);
	}
	wattrset(u->ftr, A_NORMAL);
	doc_free(&m);
	struct wiz_keyhint k[16];
	size_t n = wiz_keys(&u->w, k, 16);
	if (n < 2)
		return;
	int row = 3 - kr, x = 1;
	int right = COLS - (int)(strlen(k[n - 2].key) + strlen(k[n - 1].key) + strlen(k[n - 2].label) +
				 strlen(k[n - 1].label) + 6);
	for (size_t i = 0; i + 2 < n; i++) {
		int need = (int)(strlen(k[i].key) + strlen(k[i].label)) + 1;
		if (x + need > (row == 2 ? right : COLS - 1) && row < 2) {
			row++;
			x = 1;
		}
		x = footer_item(u, row, x, k[i].key, k[i].label);
	}
	footer_item(u, 2, footer_item(u, 2, right, k[n - 2].key, k[n - 2].label), k[n - 1].key,
		    k[n - 1].label);
}

static void draw_lines(struct ui *u, const struct doc *d, int y0, int rows, int from)
{
	for (int i = 0; i < rows && from + i < d->n; i++) {
		wattrset(u->main, look(u, d->v[from + i].a));
		mvwaddnstr(u->main, y0 + i, 2, d->v[from + i].s, COLS - 4);
	}
	wattrset(u->main, A_NORMAL);
}

static void draw_main(struct ui *u)
{
	struct doc pre = { .width = COLS - 4 }, post = { .width = COLS - 4 };
	werase(u->main);
	int extra = msg_extra_rows(u);
	int avail = u->main_rows - extra;
	int h = wiz_view(&u->w, &pre, &post);
	if (h > 0) {
		/* widget steps are short: no scrolling */
		draw_lines(u, &pre, 0, avail, 0);
		if (u->wid != NULL)
			h = getmaxy(u->wid);
		draw_lines(u, &post, pre.n + h + 1, avail - pre.n - h - 1, 0);
	} else {
		bool more = pre.n > avail;
		int shown = more ? avail - 1 : avail;   /* the last row says where we are */
		int max = pre.n - shown;
		if (u->scroll > max)
			u->scroll = max;
		if (u->scroll < 0)
			u->scroll = 0;
		draw_lines(u, &pre, 0, shown, u->scroll);
		if (more) {
			wattrset(u->main, A_REVERSE);
			mvwprintw(u->main, avail - 1, 2, " lines %d-%d of %d: arrows, PgUp/PgDn or j/k scroll ",
				  u->scroll + 1, u->scroll + shown < pre.n ? u->scroll + shown : pre.n, pre.n);
			wattrset(u->main, A_NORMAL);
		}
	}
	if (extra > 0) {
		/* the message's first lines, right above the footer */
		struct doc m = { 0 };
		msg_doc(u, &m);
		for (int i = 0; i < extra; i++) {
			wmove(u->main, avail + i, 0);
			wclrtoeol(u->main);
			wattrset(u->main, look(u, m.v[i].a));
			mvwaddnstr(u->main, avail + i, 1, m.v[i].s, COLS - 2);
		}
		wattrset(u->main, A_NORMAL);
		doc_free(&m);
	}
	doc_free(&pre);
	doc_free(&post);
}

/* A box for text; `top` (NULL: 0) is its first line shown, kept within the
 * text, and u->pop_hidden says how many lines do not fit (the explanation
 * box scrolls by them). */
static void draw_popup(struct ui *u, const char *title, const char *text, const char *keys, int maxw,
		       int *top)
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
	/* at the top of the main pane: what the step shows below (progress)
	 * stays in view */
	u->pop = newwin(h, width, h <= LINES - 6 ? 3 : (LINES - h) / 2, (COLS - width) / 2);
	u->p_pop = new_panel(u->pop);
	wbkgd(u->pop, ' ' | (u->color ? COLOR_PAIR(PAIR_HDR) : A_REVERSE));
	box(u->pop, 0, 0);
	mvwprintw(u->pop, 0, 2, " %s ", title);
	int rows = h - 4 > 0 ? h - 4 : 0, first = top != NULL ? *top : 0;
	u->pop_hidden = d.n > rows ? d.n - rows : 0;
	if (first > u->pop_hidden)
		first = u->pop_hidden;
	if (first < 0)
		first = 0;
	if (top != NULL)
		*top = first;
	for (int i = 0; i + first < d.n && i < rows; i++)
		mvwaddnstr(u->pop, 1 + i, 2, d.v[i + first].s, width - 4);
	wattrset(u->pop, A_BOLD);
	if (u->pop_hidden > 0 && top != NULL) {
		char k[256];
		snprintf(k, sizeof k, "%s more (PgDn/PgUp)   %s", first < u->pop_hidden ? "v" : "^", keys);
		mvwaddnstr(u->pop, h - 2, 2, k, width - 4);
	} else {
		mvwaddnstr(u->pop, h - 2, 2, keys, width - 4);
	}
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
		draw_popup(u, "Quit", q != NULL ? q : "Quit dkim-setup?", "y = quit    n or Esc = stay", 70, NULL);
	} else if (u->modal == MODAL_HELP) {
		char text[4096];
		struct wiz_keyhint k[16];
		size_t n = wiz_keys(&u->w, k, 16);
		snprintf(text, sizeof text, "%s\n\nKeys here:", wiz_steps[u->w.step].help);
		for (size_t i = 0; i < n; i++)
			snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s %s",
				 i ? ",  " : " ", k[i].key, k[i].label);
		draw_popup(u, wiz_steps[u->w.step].name, text, "Any key closes this.", 70, NULL);
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
		if (u->pop_shown != u->explain) {
			u->pop_shown = u->explain;
			u->pop_top = 0;
		}
		draw_popup(u, title, body, wiz_steps[u->w.step].text_entry ?
			   "Enter: go on   x: close   ^T: show again   (the step's keys work too)" :
			   "Enter: go on   x: close   t: show again   (the step's keys work too)", 84, &u->pop_top);
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

/* The record's value in the form the zone's host takes (wiz_record_form). */
static void osc52_copy(struct ui *u, const struct dk_keyjob *k)
{
	char *v = k->value != NULL ? wiz_record_form(&u->w, k) : NULL;
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
	snprintf(u->w.msg, sizeof u->w.msg, "Sent the %s value (%zu characters) to the clipboard by "
		 "OSC 52 (not every terminal honours it; if nothing arrives, press p).",
		 k->alg == DK_ALG_ED25519 ? "Ed25519 record's" : "record's", len);
	free(v);
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

/* Text outside curses, each item on one unbroken line for the mouse; one
 * page per record so that nothing scrolls away before it is selected. */
static void print_pages(struct ui *u, char **pages, int n)
{
	def_prog_mode();
	endwin();
	for (int i = 0; i < n; i++) {
		printf("\033[H\033[2J%s\n", pages[i] != NULL ? pages[i] : "(out of memory)\n");
		printf("Select it with the mouse. Press Enter %s.\n", i + 1 < n ?
		       "for the next page" : "to go back to dkim-setup");
		fflush(stdout);
		wait_enter();
		if (got_signal)
			break;
	}
	reset_prog_mode();
	clearok(curscr, TRUE);
	u->rebuild = true;
}

/* Terminal rows a text takes at the window's width. */
static int text_rows(const char *t)
{
	int rows = 0;
	for (const char *l = t; l != NULL && *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
		rows += len == 0 ? 1 : (int)((len + (size_t)COLS - 1) / (size_t)COLS);
		l = nl != NULL ? nl + 1 : NULL;
	}
	return rows;
}

/* A record's forms, as many on a page as fit the window. */
static int record_pages(const struct dk_keyjob *k, char **pages, int max)
{
	char *sec[3];
	int n = 0;
	if (wiz_record_sections(k, sec) < 0)
		return 0;
	for (int i = 0; i < 3 && n < max; i++) {
		char *joined = NULL;
		if (n > 0 && i > 0 && text_rows(pages[n - 1]) + 1 + text_rows(sec[i]) <= LINES - 2 &&
		    asprintf(&joined, "%s\n%s", pages[n - 1], sec[i]) >= 0) {
			free(pages[n - 1]);
			free(sec[i]);
			pages[n - 1] = joined;
		} else {
			pages[n++] = sec[i];
		}
		sec[i] = NULL;
	}
	for (int i = 0; i < 3; i++)
		free(sec[i]);
	return n;
}

static void print_plain(struct ui *u)
{
	struct wizard *w = &u->w;
	char *pages[6] = { NULL };
	int n = 0;
	if (w->step == WS_SUMMARY) {
		/* the commands and records of the summary, none of them cut */
		char cmd[2 * PATH_MAX];
		struct doc d = { .width = 4000 };
		wiz_command(w, "check", &w->key, cmd, sizeof cmd);
		doc_para(&d, 0, DA_NORMAL, "Check DNS:");
		doc_copy(&d, 2, DA_NORMAL, cmd);
		wiz_command(w, "record", &w->key, cmd, sizeof cmd);
		doc_para(&d, 0, DA_NORMAL, "Show the record again:");
		doc_copy(&d, 2, DA_NORMAL, cmd);
		doc_blank(&d);
		wiz_spf_dmarc(&d, w->key.domain);
		size_t len = 1;
		for (int i = 0; i < d.n; i++)
			len += strlen(d.v[i].s) + 1;
		pages[0] = calloc(1, len);
		for (int i = 0; i < d.n && pages[0] != NULL; i++)
			strcat(strcat(pages[0], d.v[i].s), "\n");
		doc_free(&d);
		n = 1;
	} else {
		n = record_pages(&w->key, pages, 3);
		if (w->have_edkey)
			n += record_pages(&w->edkey, pages + n, 3);
	}
	print_pages(u, pages, n);
	for (int i = 0; i < n; i++)
		free(pages[i]);
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

/* Under --training an explanation box closes with the key that moves on.
 * Enter reads the text and does what Enter does on the step when that only
 * goes on (next, create, use it); where it would apply, reload or finish,
 * it only closes the box, so that the screen it covered is read first. A
 * key of the step's own (u: publish) closes the box and does its work. The
 * welcome comes before the step's own box, so Enter only closes it. */
static bool explain_passes_key(const struct ui *u, int ch, bool text)
{
	const struct wizard *w = &u->w;
	if (u->explain != wiz_training_text(w, w->step))
		return false;
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		static const char *const goes_on[] = { "next", "create", "use it" };
		const char *label = wiz_enter_label(w);
		for (size_t i = 0; label != NULL && i < sizeof goes_on / sizeof goes_on[0]; i++)
			if (strcmp(label, goes_on[i]) == 0)
				return true;
		return false;
	}
	struct wiz_action acts[8];
	size_t n = wiz_actions(w, acts, 8);
	for (size_t i = 0; i < n; i++)
		if (text ? ch == CTRL(acts[i].key) : ch == acts[i].key)
			return true;
	return false;
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

/* `ch` is a key code or an ASCII character; `wide` a non-ASCII character
 * typed (ch is then 0). */
static void handle_key(struct ui *u, int ch, wint_t wide, bool *done, bool *quit)
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
	if (u->modal == MODAL_HELP) {
		u->modal = MODAL_NONE;
		return;
	}
	if (u->modal == MODAL_EXPLAIN) {
		/* a text longer than the box scrolls; other keys close it */
		int page = LINES > 12 ? LINES - 10 : 1;
		int d = ch == KEY_DOWN ? 1 : ch == KEY_UP ? -1 : ch == KEY_NPAGE ? page : ch == KEY_PPAGE ? -page : 0;
		if (d != 0 && u->pop_hidden > 0) {
			u->pop_top += d;   /* draw_popup keeps it within the text */
			return;
		}
		u->pop_shown = NULL;   /* shown again: from its top */
		u->modal = MODAL_NONE;
		if (!explain_passes_key(u, ch, text))
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
			osc52_copy(u, &w->key);
		else if (acts[i].act == ACT_UI_COPY_ED)
			osc52_copy(u, &w->edkey);
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
		} else if (ch == 0 && wide >= 0x80) {
			/* an international name: kept as typed, the wizard checks it;
			 * a terminal that cannot pass it on leaves a visible '?' */
			if (w->utf8)
				form_driver_w(u->form, OK, (wchar_t)wide);
			else
				form_driver(u->form, '?');
			form_sync(u, done);
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

/* The asset directories, preferred first (the wizard takes the first copy
 * of each text). */
static void assets_dirs(struct wizard *w)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	const char *env = getenv("DKIM_SETUP_ASSETS");
	if (env != NULL && env[0] == '/')
		wiz_assets_load(w, env);
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
			snprintf(dir, sizeof dir, "%.*s/assets", (int)(up_slash - exe), exe);
			wiz_assets_load(w, dir);
		}
	}
	/* Not the current directory: as root, texts come from places root owns. */
	wiz_assets_load(w, DK_DATADIR);
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
	u->w.utf8 = MB_CUR_MAX > 1;
	assets_dirs(&u->w);

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
			wint_t wch;
			int rc_key = wget_wch(u->main, &wch);
			if (rc_key == ERR)
				break;
			int ch = rc_key == KEY_CODE_YES || wch < 0x80 ? (int)wch : 0;
			enum modal before = u->modal;
			handle_key(u, ch, rc_key == OK && wch >= 0x80 ? wch : 0, &done, &quit);
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
