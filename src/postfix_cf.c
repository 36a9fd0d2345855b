/* postfix_cf.c: reading and editing Postfix's main.cf, shared by the
 * signers that sign for Postfix through a milter (OpenDKIM, rspamd). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "fsutil.h"
#include "postfix_cf.h"
#include "signer_util.h"

static int postconf_main(const char *root, char lines[3][4096]);

/* ---- main.cf: "name = value" logical lines ---- */

/* Postfix's readlline(): a logical line goes on through lines that start
 * with whitespace, and through comment lines (first non-blank '#') and
 * blank lines, which are dropped; so a "# comment" inside a continued value
 * does not end it. */
static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl != NULL ? nl + 1 : p + strlen(p);
}

static bool comment_or_blank(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '#' || *p == '\n' || *p == '\0';
}

/* The end of the logical line that starts at p: just past the newline of
 * its last line that is not a comment or blank. */
static const char *logical_end(const char *p)
{
	const char *end = next_line(p);
	for (const char *q = end; *q == ' ' || *q == '\t' || *q == '#' || *q == '\n' || *q == '\r';
	     q = next_line(q))
		if (!comment_or_blank(q))
			end = next_line(q);
	return end;
}

/* The last definition of `name`: [*start, *end) in text, and its value. */
bool pf_cf_find(const char *text, const char *name, const char **start, const char **end,
		    struct sbuf *value)
{
	bool found = false;
	size_t n = strlen(name);
	for (const char *p = text; p != NULL && *p; p = next_line(p)) {
		if (strncmp(p, name, n) != 0)
			continue;
		const char *q = p + n;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		found = true;
		*start = p;
		*end = logical_end(p);
		if (value != NULL) {
			free(sb_take(value));
			for (const char *v = q + 1; v < *end; v++) {
				if (v[-1] == '\n' && comment_or_blank(v)) {
					v = next_line(v) - 1;
					continue;
				}
				sb_addn(value, isspace((unsigned char)*v) ? " " : v, 1);
			}
		}
	}
	return found;
}

char *pf_cf_set(const char *text, const char *name, const char *value)
{
	struct sbuf b = { 0 };
	const char *s, *e;
	if (pf_cf_find(text, name, &s, &e, NULL)) {
		sb_addn(&b, text, (size_t)(s - text));
		sb_printf(&b, "%s = %s\n", name, value);
		sb_add(&b, e);
	} else {
		sb_add(&b, text);
		if (*text && text[strlen(text) - 1] != '\n')
			sb_add(&b, "\n");
		sb_printf(&b, "%s = %s\n", name, value);
	}
	return sb_take(&b);
}

/* ---- milter lists: tokens, and what each one reaches ---- */

/* Words of text[from, to) split at any of seps; "{ ... }" groups whole;
 * comment lines skipped. -1 when unbalanced or more than max. */
static int tokens(const char *text, size_t from, size_t to, const char *seps, struct pf_tok *t,
		  size_t max)
{
	size_t n = 0, i = from;
	while (i < to) {
		if (i > from && text[i - 1] == '\n' && comment_or_blank(text + i)) {
			const char *nl = memchr(text + i, '\n', to - i);
			i = nl != NULL ? (size_t)(nl - text) + 1 : to;
			continue;
		}
		char c = text[i];
		if (strchr(seps, c) != NULL) {
			i++;
			continue;
		}
		if (n == max)
			return -1;
		size_t s = i;
		if (c == '{') {
			int depth = 0;
			do {
				depth += text[i] == '{';
				depth -= text[i] == '}';
				i++;
			} while (i < to && depth > 0);
			if (depth > 0)
				return -1;   /* unbalanced braces */
		} else {
			while (i < to && !strchr(seps, text[i]))
				i++;
		}
		t[n].off = s;
		t[n++].len = i - s;
	}
	return (int)n;
}

int pf_list_tokens(const char *text, size_t from, size_t to, struct pf_tok *t, size_t max)
{
	return tokens(text, from, to, ", \t\r\n", t, max);
}

static bool is_loopback(const char *h)
{
	return h[0] == '\0' || strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "::1") == 0 || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 ||
	       strcmp(h, "*") == 0 || strcmp(h, "localhost.localdomain") == 0;
}

/* "inet:lo:PORT" or "inet:HOST:PORT" */
static void inet_target(const char *host, const char *port, char *out, size_t outlen)
{
	char h[256];
	snprintf(h, sizeof h, "%s", host);
	size_t hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		memmove(h, h + 1, hl - 2);
		h[hl - 2] = '\0';
	}
	for (char *c = h; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(out, outlen, "inet:%s:%s", is_loopback(h) ? "lo" : h, port);
}

/* "unix:" + path with "//" and "/./" folded */
static void unix_target(const char *a, const char *b, char *out, size_t outlen)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s%s%s", a, a[0] && b[0] != '/' ? "/" : "", b);
	char *w = p;
	for (const char *r = p; *r; r++) {
		if (*r == '/' && w > p && w[-1] == '/')
			continue;
		if (*r == '.' && w > p && w[-1] == '/' && (r[1] == '/' || r[1] == '\0')) {
			r += r[1] == '/';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	snprintf(out, outlen, "unix:%s", p);
}

void pf_milter_target(const char *tok, size_t len, const char *qdir, bool chroot, char *out,
		      size_t outlen)
{
	char a[PATH_MAX];
	size_t k = 0, i = 0;
	if (len > 0 && tok[0] == '{')
		i++;
	while (i < len && (tok[i] == ' ' || tok[i] == '\t' || tok[i] == '\n' || tok[i] == '\r'))
		i++;
	while (i < len && !strchr(", \t\r\n}", tok[i]) && k + 1 < sizeof a)
		a[k++] = tok[i++];
	a[k] = '\0';
	if (strncmp(a, "inet:", 5) == 0) {
		char *port = strrchr(a + 5, ':');
		if (port == NULL)
			inet_target("", a + 5, out, outlen);
		else {
			*port = '\0';
			inet_target(a + 5, port + 1, out, outlen);
		}
	} else if (strncmp(a, "unix:", 5) == 0 || strncmp(a, "local:", 6) == 0) {
		const char *path = strchr(a, ':') + 1;
		/* Postfix's daemons run in the queue directory, and chrooted
		 * ones see it as "/" */
		unix_target(path[0] == '/' && !chroot ? "" : qdir, path, out, outlen);
	} else {
		snprintf(out, outlen, "?:%s", a);
	}
}

void pf_socket_target(const char *sock, char *out, size_t outlen)
{
	char s[PATH_MAX];
	snprintf(s, sizeof s, "%s", sock);
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		char *port = strchr(s, ':') + 1, *at = strchr(port, '@');
		if (at != NULL)
			*at = '\0';
		inet_target(at != NULL ? at + 1 : "", port, out, outlen);
	} else if (strncmp(s, "local:", 6) == 0 || strncmp(s, "unix:", 5) == 0) {
		unix_target("", strchr(s, ':') + 1, out, outlen);
	} else if (s[0] == '/') {
		unix_target("", s, out, outlen);
	} else {
		snprintf(out, outlen, "?:%s", s);
	}
}

/* $name, ${name} or $(name) at p: the name into out, the length of the
 * reference returned; 0 when p is no plain reference (${name?x} and the
 * like are not expanded here). */
static size_t param_ref(const char *p, size_t len, char *out, size_t outlen)
{
	if (len < 2 || p[0] != '$')
		return 0;
	size_t i = 1;
	char close = p[1] == '{' ? '}' : p[1] == '(' ? ')' : '\0';
	if (close)
		i++;
	size_t s = i;
	while (i < len && (isalnum((unsigned char)p[i]) || p[i] == '_'))
		i++;
	size_t e = i;
	if (e == s || e - s >= outlen)
		return 0;
	if (close) {
		if (i >= len || p[i] != close)
			return 0;
		i++;
	}
	memcpy(out, p + s, e - s);
	out[e - s] = '\0';
	return i;
}

/* value with every $name of main.cf expanded, as postconf -x does for the
 * plain forms; -1 for a form it does not expand or a loop. */
static int expand(const char *maincf, const char *value, int depth, struct sbuf *out)
{
	if (depth > 8)
		return -1;
	for (const char *p = value; *p;) {
		char name[128];
		size_t r = *p == '$' ? param_ref(p, strlen(p), name, sizeof name) : 0;
		if (*p == '$' && p[1] == '$') {
			sb_add(out, "$");
			p += 2;
			continue;
		}
		if (*p == '$' && r == 0)
			return -1;
		if (r == 0) {
			sb_addn(out, p++, 1);
			continue;
		}
		struct sbuf v = { 0 };
		const char *s, *e;
		int rc = 0;
		if (pf_cf_find(maincf, name, &s, &e, &v)) {
			char *vv = sb_take(&v);
			rc = vv != NULL ? expand(maincf, vv, depth + 1, out) : -1;
			free(vv);
		} else {
			free(sb_take(&v));
		}
		if (rc < 0)
			return -1;
		p += r;
	}
	return 0;
}

int pf_list_targets(const char *maincf, const char *tok, size_t len, const char *qdir, bool chroot,
		    char targets[][PF_TARGET_MAX], size_t max)
{
	char *t = strndup(tok, len);
	struct sbuf x = { 0 };
	if (t == NULL || expand(maincf, t, 0, &x) < 0) {
		free(t);
		free(sb_take(&x));
		return -1;
	}
	free(t);
	char *v = sb_take(&x);
	if (v == NULL)
		return -1;
	struct pf_tok tt[PF_TOKENS_MAX];
	int n = pf_list_tokens(v, 0, strlen(v), tt, PF_TOKENS_MAX);
	if (n < 0 || (size_t)n > max) {
		free(v);
		return -1;
	}
	for (int i = 0; i < n; i++)
		pf_milter_target(v + tt[i].off, tt[i].len, qdir, chroot, targets[i], PF_TARGET_MAX);
	free(v);
	return n;
}

void pf_queue_dir(const char *root, const char *maincf, char *out, size_t outlen)
{
	char pc[3][4096];
	struct sbuf v = { 0 };
	const char *s, *e;
	snprintf(out, outlen, "/var/spool/postfix");
	if (postconf_main(root, pc) == 0 && pc[2][0] == '/') {
		snprintf(out, outlen, "%s", pc[2]);
	} else if (maincf != NULL && pf_cf_find(maincf, "queue_directory", &s, &e, &v)) {
		char *q = sb_take(&v);
		char *t = q != NULL ? q + strspn(q, " ") : NULL;
		if (t != NULL && t[0] == '/') {
			t[strcspn(t, " ")] = '\0';
			snprintf(out, outlen, "%s", t);
		}
		free(q);
		return;
	}
	free(sb_take(&v));
}

int pf_found(const char *root)
{
	int f = fs_exists(root, PF_MAIN_CF) == 1;
	return fs_exists(root, "/usr/sbin/postfix") == 1 ? 2 | f : f;
}

bool pf_smtpd_chrooted(const char *root)
{
	/* smtpd's chroot column in master.cf: "y" (Debian's default), "n", or
	 * "-" (Postfix 3.x: no chroot). */
	char *master = NULL;
	struct dk_err e;
	bool chroot = false;
	if (mta_read(root, "/etc/postfix/master.cf", &master, &e) < 0)
		return false;
	for (const char *p = master; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char svc[64], type[16], priv[4], unpriv[4], ch[4];
		if (sscanf(p, "%63s %15s %3s %3s %3s", svc, type, priv, unpriv, ch) == 5 &&
		    strcmp(svc, "smtp") == 0 && strcmp(type, "inet") == 0)
			chroot = strcmp(ch, "y") == 0;
	}
	free(master);
	return chroot;
}

char *pf_milter_value(const char *maincf, const char *name)
{
	struct sbuf v = { 0 };
	const char *s, *e;
	if (!pf_cf_find(maincf, name, &s, &e, &v)) {
		free(sb_take(&v));
		return NULL;
	}
	char *r = sb_take(&v);
	return r != NULL ? r : strdup("");
}

/* ---- putting our milters into every list, exactly once ---- */

struct want {
	const char *tok;                  /* as written into a list */
	char target[PF_TARGET_MAX];       /* what it reaches */
	const char *const *stale;         /* targets of older addresses of the same filter */
};

struct edit_ctx {
	const char *maincf;               /* for $name (main.cf as edited so far) */
	const char *qdir;
	const struct want *w;
	size_t n;
	struct sbuf *notes;               /* plain words for the plan's explanation */
};

static const char *shown(const char *p, size_t len, char *out, size_t outlen)
{
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%.*s", (int)len, p);
	return dk_printable(tmp, out, outlen);
}

static bool in_list(const char *const *l, const char *s)
{
	for (size_t i = 0; l != NULL && l[i] != NULL; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

static size_t line_of(const char *text, size_t off)
{
	size_t n = 1;
	for (size_t i = 0; i < off && text[i]; i++)
		n += text[i] == '\n';
	return n;
}

/* The list text[from, to) with each of our filters exactly once: the first
 * entry that reaches it (or an older address of the same filter) becomes
 * ours in its place, later ones are dropped, a missing one is appended;
 * every other entry keeps its text and place. A $parameter that reaches
 * our filter as it is now stays as written. NULL + err when an entry that
 * must change is a $parameter naming several milters, or the list cannot
 * be read. *changed says whether the text differs. */
static char *edit_list(const struct edit_ctx *c, const char *text, size_t from, size_t to, bool chroot,
		       const char *where, const char *file, bool *changed, struct dk_err *err)
{
	struct pf_tok t[PF_TOKENS_MAX];
	int n = pf_list_tokens(text, from, to, t, PF_TOKENS_MAX);
	*changed = false;
	if (n < 0) {
		dk_fail(err, DK_USAGE, "%s (%s line %zu) is longer or more unusual than dkim-setup edits "
			"safely: add %s to it yourself", where, file, line_of(text, from), c->w[0].tok);
		return NULL;
	}
	const char *repl[PF_TOKENS_MAX] = { 0 };
	bool drop[PF_TOKENS_MAX] = { 0 };
	bool append[8] = { 0 };
	for (size_t k = 0; k < c->n; k++) {
		bool seen = false;
		for (int i = 0; i < n; i++) {
			char tg[16][PF_TARGET_MAX];
			int m = pf_list_targets(c->maincf, text + t[i].off, t[i].len, c->qdir, chroot, tg, 16);
			char pr[200];
			if (m < 0) {
				dk_fail(err, DK_USAGE, "%s (%s line %zu): dkim-setup cannot tell what %s reaches: "
					"add %s yourself", where, file, line_of(text, t[i].off),
					shown(text + t[i].off, t[i].len, pr, sizeof pr), c->w[0].tok);
				return NULL;
			}
			bool live = false, stale = false;
			for (int j = 0; j < m; j++) {
				bool is_live = strcmp(tg[j], c->w[k].target) == 0;
				live |= is_live;
				stale |= !is_live && in_list(c->w[k].stale, tg[j]);
			}
			if (!live && !stale)
				continue;
			bool ref = text[t[i].off] == '$';
			if (ref && live && !stale && !seen) {
				seen = true;   /* $param reaching our filter as it is: kept */
				sb_printf(c->notes, "%s already reaches the filter through %.*s: kept. ", where,
					  (int)t[i].len, text + t[i].off);
				continue;
			}
			if (m > 1) {
				dk_fail(err, DK_USAGE, "%s (%s line %zu): %s names several milters, among them %s "
					"(%s): change it by hand so that OpenDKIM is listed once, as %s", where, file,
					line_of(text, t[i].off), shown(text + t[i].off, t[i].len, pr, sizeof pr),
					stale && !live ? "an old address of the signing filter" : "the signing filter",
					c->w[k].target, c->w[k].tok);
				return NULL;
			}
			if (!seen) {
				repl[i] = c->w[k].tok;
				seen = true;
			} else {
				drop[i] = true;
				sb_printf(c->notes, "%s listed the signing filter twice: the second (%.*s) is "
					  "removed. ", where, (int)t[i].len, text + t[i].off);
			}
		}
		append[k] = !seen;
	}
	struct sbuf b = { 0 };
	bool any = false;
	if (n > 0)
		sb_addn(&b, text + from, t[0].off - from);
	for (int i = 0; i < n; i++) {
		if (drop[i])
			continue;
		if (any)
			sb_addn(&b, text + t[i - 1].off + t[i - 1].len, t[i].off - (t[i - 1].off + t[i - 1].len));
		if (repl[i] != NULL)
			sb_add(&b, repl[i]);
		else
			sb_addn(&b, text + t[i].off, t[i].len);
		any = true;
	}
	for (size_t k = 0; k < c->n; k++) {
		if (!append[k])
			continue;
		sb_printf(&b, "%s%s", any ? ", " : n == 0 ? " " : "", c->w[k].tok);
		any = true;
	}
	if (n > 0)
		sb_addn(&b, text + t[n - 1].off + t[n - 1].len, to - (t[n - 1].off + t[n - 1].len));
	char *r = sb_take(&b);
	if (r == NULL) {
		dk_fail(err, DK_SYSERR, "out of memory");
		return NULL;
	}
	*changed = strlen(r) != to - from || memcmp(r, text + from, to - from) != 0;
	return r;
}

/* ---- master.cf: services that set their own milter lists ---- */

#define PF_POSTCONF_MAX 65536      /* what we read of postconf -P */

struct pf_override {
	char svc[64], type[16], param[24];
	bool chroot, brace;
	bool used;                        /* Postfix uses it: smtpd_milters of an smtpd service,
					     non_smtpd_milters of any */
	size_t word_off, word_len;        /* the word after -o */
	size_t vfrom, vto;                /* its value */
};

#define PF_OVERRIDES_MAX 64

/* The -o smtpd_milters and -o non_smtpd_milters of master.cf (`used`
 * when Postfix uses them: the first on smtpd services), and the chroot column of the services main.cf's lists are
 * used by (smtp/inet and cleanup). Services that turn milters off are said
 * in notes. Returns how many, or -1 when there are more than max or an
 * entry has more words than we read. */
static int master_overrides(const char *text, struct pf_override *o, size_t max, bool *smtpd_chroot,
			    bool *cleanup_chroot, struct sbuf *notes)
{
	size_t n = 0;
	bool smtp_seen = false;
	*smtpd_chroot = *cleanup_chroot = false;
	for (const char *p = text; p != NULL && *p; p = next_line(p)) {
		if (comment_or_blank(p) || *p == ' ' || *p == '\t')
			continue;
		const char *e = logical_end(p);
		struct pf_tok w[96];
		int nw = tokens(text, (size_t)(p - text), (size_t)(e - text), " \t\r\n", w, 96);
		if (nw < 0)
			return -1;   /* a service entry longer than we read */
		if (nw < 8)
			continue;
		char svc[64], type[16], cmd[32];
		snprintf(svc, sizeof svc, "%.*s", (int)w[0].len, text + w[0].off);
		snprintf(type, sizeof type, "%.*s", (int)w[1].len, text + w[1].off);
		snprintf(cmd, sizeof cmd, "%.*s", (int)w[7].len, text + w[7].off);
		bool chroot = w[4].len == 1 && text[w[4].off] == 'y';
		bool smtpd = strcmp(cmd, "smtpd") == 0;
		if (smtpd && (!smtp_seen || (strcmp(svc, "smtp") == 0 && strcmp(type, "inet") == 0))) {
			*smtpd_chroot = chroot;
			smtp_seen = strcmp(svc, "smtp") == 0;
		}
		if (strcmp(svc, "cleanup") == 0)
			*cleanup_chroot = chroot;
		for (int i = 8; i + 1 < nw; i++) {
			if (w[i].len != 2 || strncmp(text + w[i].off, "-o", 2) != 0)
				continue;
			size_t a = w[i + 1].off, al = w[i + 1].len, ns, ne, vf, vt;
			bool brace = text[a] == '{';
			i++;
			if (brace) {
				ns = a + 1;
				while (ns < a + al && isspace((unsigned char)text[ns]))
					ns++;
				ne = ns;
				while (ne < a + al && (isalnum((unsigned char)text[ne]) || text[ne] == '_'))
					ne++;
				vf = ne;
				while (vf < a + al && isspace((unsigned char)text[vf]))
					vf++;
				if (vf >= a + al || text[vf] != '=')
					continue;
				vf++;
				while (vf < a + al && isspace((unsigned char)text[vf]))
					vf++;
				vt = a + al - 1;
				while (vt > vf && isspace((unsigned char)text[vt - 1]))
					vt--;
			} else {
				const char *eq = memchr(text + a, '=', al);
				if (eq == NULL)
					continue;
				ns = a;
				ne = (size_t)(eq - text);
				vf = ne + 1;
				vt = a + al;
			}
			char param[40];
			snprintf(param, sizeof param, "%.*s", (int)(ne - ns), text + ns);
			if (strcmp(param, "receive_override_options") == 0 &&
			    memmem(text + vf, vt - vf, "no_milters", 10) != NULL)
				sb_printf(notes, "master.cf service %s/%s turns milters off (receive_override_options "
					  "no_milters, line %zu): mail entering there is not signed by OpenDKIM. ",
					  svc, type, line_of(text, a));
			if (strcmp(param, "smtpd_milters") != 0 && strcmp(param, "non_smtpd_milters") != 0)
				continue;
			if (n == max)
				return -1;
			struct pf_override *x = &o[n++];
			memset(x, 0, sizeof *x);
			snprintf(x->svc, sizeof x->svc, "%s", svc);
			snprintf(x->type, sizeof x->type, "%s", type);
			snprintf(x->param, sizeof x->param, "%s", param);
			x->chroot = chroot;
			x->used = smtpd || strcmp(param, "non_smtpd_milters") == 0;
			x->brace = brace;
			x->word_off = a;
			x->word_len = al;
			x->vfrom = vf;
			x->vto = vt;
		}
	}
	return (int)n;
}

/* ---- postconf: what Postfix itself reads ---- */

bool pf_postconf_warning(const char *line)
{
	const char *w = strstr(line, "postconf: warning: ");
	const char *nl = strchr(line, '\n');
	return w != NULL && (nl == NULL || w < nl) && strcspn(line, " ") == (size_t)(w - line) + 9;
}

int pf_postconf(const char *root, const char *const args[], char *out, size_t outlen)
{
	if (access("/usr/sbin/postconf", X_OK) != 0)
		return -1;
	char dir[PATH_MAX], cf[PATH_MAX];
	if (fs_join(root, "/etc/postfix", dir, sizeof dir) < 0)
		return -1;
	/* Postfix runs with both files or not at all: without them (a sandbox
	 * holding only main.cf, a Postfix not configured yet) postconf has
	 * nothing to say and our own reading stands. */
	if (fs_join(root, PF_MAIN_CF, cf, sizeof cf) < 0 || access(cf, F_OK) != 0 ||
	    fs_join(root, PF_MASTER_CF, cf, sizeof cf) < 0 || access(cf, F_OK) != 0)
		return -1;
	const char *argv[16] = { "/usr/sbin/postconf", "-c", dir };
	size_t n = 3;
	for (size_t i = 0; args[i] != NULL && n + 1 < 16; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	out[0] = '\0';
	if (mta_run(argv, out, outlen) != 0)
		return -2;
	/* its warnings (an unused parameter, ...) come through the same pipe */
	char *w = out;
	for (const char *p = out; *p; p = next_line(p))
		if (!pf_postconf_warning(p)) {
			size_t l = (size_t)(next_line(p) - p);
			memmove(w, p, l);
			w += l;
		}
	*w = '\0';
	return 0;
}

/* The targets of a list, joined by spaces: mine (text[from, to) with
 * $name from maincf) or, when text is NULL, of a postconf -x value. */
static int list_key(const char *maincf, const char *text, size_t from, size_t to, const char *qdir,
		    bool chroot, struct sbuf *key)
{
	struct pf_tok t[PF_TOKENS_MAX];
	int n = pf_list_tokens(text, from, to, t, PF_TOKENS_MAX);
	for (int i = 0; i < n; i++) {
		char tg[16][PF_TARGET_MAX];
		int m = pf_list_targets(maincf, text + t[i].off, t[i].len, qdir, chroot, tg, 16);
		if (m < 0)
			return -1;
		for (int j = 0; j < m; j++)
			sb_printf(key, "%s%s", key->len ? " " : "", tg[j]);
	}
	return n < 0 ? -1 : 0;
}

/* "svc/type/param = value" of postconf -P, or NULL */
static const char *postconf_p_value(const char *out, const char *svc, const char *type, const char *param,
				    size_t *len)
{
	char head[160];
	snprintf(head, sizeof head, "%s/%s/%s =", svc, type, param);
	for (const char *p = out; p != NULL && *p; p = next_line(p))
		if (strncmp(p, head, strlen(head)) == 0 && (p[strlen(head)] == ' ' || p[strlen(head)] == '\n' ||
							    p[strlen(head)] == '\0')) {
			p += strlen(head);
			p += *p == ' ';
			const char *nl = strchr(p, '\n');
			*len = nl ? (size_t)(nl - p) : strlen(p);
			return p;
		}
	return NULL;
}

/* The lines of postconf -x -h NAME NAME queue_directory. */
static int postconf_main(const char *root, char lines[3][4096])
{
	const size_t outlen = 16384;
	char *out = malloc(outlen);
	const char *const args[] = { "-x", "-h", "smtpd_milters", "non_smtpd_milters", "queue_directory", NULL };
	memset(lines, 0, 3 * 4096);
	int rc = out != NULL ? pf_postconf(root, args, out, outlen) : -2;
	if (rc < 0) {
		if (out != NULL)
			snprintf(lines[0], 4096, "%s", out);
		free(out);
		return rc;
	}
	const char *p = out;
	for (int i = 0; i < 3; i++) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(lines[i], 4096, "%.*s", (int)l, p);
		p = nl ? nl + 1 : p + l;
	}
	free(out);
	return 0;
}

/* Do Postfix (postconf -x, -P -x) and dkim-setup read the same milters on
 * every path? -1 + err (DK_USAGE) naming the first difference. */
static int same_as_postconf(const char *root, const char *maincf, const char *master, const struct pf_override *o,
			    size_t no, const char *qdir, bool smtpd_chroot, bool cleanup_chroot,
			    const char pc[3][4096], char *pout, size_t poutlen, struct dk_err *err)
{
	const char *const args[] = { "-P", "-x", NULL };
	if (pf_postconf(root, args, pout, poutlen) < 0)
		return dk_fail(err, DK_SYSERR, "postconf -P could not read master.cf: %s", pout);
	const char *names[] = { "smtpd_milters", "non_smtpd_milters" };
	for (int i = 0; i < 2; i++) {
		struct sbuf mine = { 0 }, theirs = { 0 };
		const char *s, *e;
		bool chroot = i == 0 ? smtpd_chroot : cleanup_chroot;
		int rc = 0;
		if (pf_cf_find(maincf, names[i], &s, &e, NULL)) {
			const char *v = strchr(s, '=') + 1;
			rc = list_key(maincf, maincf, (size_t)(v - maincf), (size_t)(e - maincf), qdir, chroot, &mine);
		}
		rc |= list_key("", pc[i], 0, strlen(pc[i]), qdir, chroot, &theirs);
		char *a = sb_take(&mine), *b = sb_take(&theirs);
		bool same = rc == 0 && a != NULL && b != NULL && strcmp(a, b) == 0;
		free(a);
		free(b);
		if (!same) {
			char pr[300];
			return dk_fail(err, DK_USAGE, "Postfix reads %s as \"%s\" (postconf -x), and dkim-setup "
				       "cannot read " PF_MAIN_CF " the same way: it edits nothing it does not read as "
				       "Postfix does; add OpenDKIM to that list yourself", names[i],
				       dk_printable(pc[i], pr, sizeof pr));
		}
	}
	for (const char *p = pout; *p; p = next_line(p)) {
		const char *eq = strstr(p, " =");
		const char *nl = strchr(p, '\n');
		if (eq == NULL || (nl != NULL && eq > nl))
			continue;
		bool mine = false;
		for (size_t k = 0; k < no && !mine; k++) {
			char head[160];
			int hl = snprintf(head, sizeof head, "%s/%s/%s", o[k].svc, o[k].type, o[k].param);
			mine = hl == eq - p && strncmp(p, head, (size_t)hl) == 0;
		}
		bool milters = (eq - p > 14 && strncmp(eq - 14, "/smtpd_milters", 14) == 0) ||
			       (eq - p > 18 && strncmp(eq - 18, "/non_smtpd_milters", 18) == 0);
		if (milters && !mine) {
			char pr[200], l[200];
			snprintf(l, sizeof l, "%.*s", (int)(eq - p), p);
			return dk_fail(err, DK_USAGE, "postconf -P shows %s, which dkim-setup does not find in "
				       PF_MASTER_CF ": it edits nothing it does not read as Postfix does; add OpenDKIM "
				       "there yourself", dk_printable(l, pr, sizeof pr));
		}
	}
	for (size_t k = 0; k < no; k++) {
		size_t len = 0;
		const char *v = postconf_p_value(pout, o[k].svc, o[k].type, o[k].param, &len);
		struct sbuf mine = { 0 }, theirs = { 0 };
		int rc = list_key(maincf, master, o[k].vfrom, o[k].vto, qdir, o[k].chroot, &mine);
		if (v != NULL)
			rc |= list_key("", v, 0, len, qdir, o[k].chroot, &theirs);
		char *a = sb_take(&mine), *b = sb_take(&theirs);
		bool same = v != NULL && rc == 0 && a != NULL && b != NULL && strcmp(a, b) == 0;
		free(a);
		free(b);
		if (!same)
			return dk_fail(err, DK_USAGE, "master.cf line %zu (service %s/%s, -o %s): postconf -P reads "
				       "it differently from dkim-setup; add OpenDKIM there yourself",
				       line_of(master, o[k].word_off), o[k].svc, o[k].type, o[k].param);
	}
	return 0;
}

/* ---- the plan ---- */

/* text with edits (sorted by offset, not overlapping) applied */
struct edit {
	size_t off, len;
	char *with;
};

static char *apply_edits(const char *text, struct edit *e, size_t n)
{
	struct sbuf b = { 0 };
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		sb_addn(&b, text + pos, e[i].off - pos);
		sb_add(&b, e[i].with);
		pos = e[i].off + e[i].len;
	}
	sb_add(&b, text + pos);
	return sb_take(&b);
}

/* main.cf's `name` with our filters (a new definition when it has none). */
static char *plan_main_list(const struct edit_ctx *c, const char *maincf, const char *name, bool chroot,
			    struct dk_err *err)
{
	const char *s, *e;
	if (!pf_cf_find(maincf, name, &s, &e, NULL)) {
		struct sbuf v = { 0 };
		for (size_t k = 0; k < c->n; k++)
			sb_printf(&v, "%s%s", k ? ", " : "", c->w[k].tok);
		char *val = sb_take(&v), *r = val ? pf_cf_set(maincf, name, val) : NULL;
		free(val);
		if (r == NULL)
			dk_fail(err, DK_SYSERR, "out of memory");
		return r;
	}
	size_t from = (size_t)(strchr(s, '=') + 1 - maincf), to = (size_t)(e - maincf);
	while (to > from && (maincf[to - 1] == '\n' || maincf[to - 1] == '\r'))
		to--;
	char where[64];
	snprintf(where, sizeof where, "%s", name);
	bool changed;
	char *v = edit_list(c, maincf, from, to, chroot, where, PF_MAIN_CF, &changed, err);
	if (v == NULL)
		return NULL;
	struct edit ed = { from, to - from, v };
	char *r = apply_edits(maincf, &ed, 1);
	free(v);
	if (r == NULL)
		dk_fail(err, DK_SYSERR, "out of memory");
	return r;
}

int pf_plan_milters_ex(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		       const struct pf_milter *m, size_t n, struct sbuf *notes, struct dk_err *err)
{
	char *master = NULL, *cf1 = NULL, *cf2 = NULL, *newmaster = NULL;
	struct edit ed[PF_OVERRIDES_MAX] = { 0 };
	size_t ned = 0;
	int rc = -1;
	struct want w[8];
	size_t nw = 0;
	struct pf_override o[PF_OVERRIDES_MAX];
	char pc[3][4096];
	bool smtpd_chroot = false, cleanup_chroot = false;
	if (mta_read(req->root, PF_MASTER_CF, &master, err) < 0)
		goto out;
	int no = master != NULL ? master_overrides(master, o, PF_OVERRIDES_MAX, &smtpd_chroot, &cleanup_chroot, notes) : 0;
	if (no < 0) {
		dk_fail(err, DK_USAGE, PF_MASTER_CF " sets milters for more services than dkim-setup edits safely");
		goto out;
	}
	/* the queue directory and the lists as Postfix reads them, when its
	 * postconf can be run here */
	char qdir[PATH_MAX] = "/var/spool/postfix";
	int pcrc = postconf_main(req->root, pc);
	if (pcrc == -2) {
		dk_fail(err, DK_SYSERR, "postconf could not read Postfix's configuration: %s", pc[0]);
		goto out;
	}
	if (pcrc == 0) {
		if (pc[2][0] == '/')
			snprintf(qdir, sizeof qdir, "%s", pc[2]);
		char *pout = malloc(PF_POSTCONF_MAX);
		int same = pout == NULL ? dk_fail(err, DK_SYSERR, "out of memory")
			   : same_as_postconf(req->root, maincf, master ? master : "", o, (size_t)no, qdir,
					      smtpd_chroot, cleanup_chroot, (const char(*)[4096])pc, pout,
					      PF_POSTCONF_MAX, err);
		free(pout);
		if (same < 0)
			goto out;
	}
	for (size_t i = 0; i < n && nw < 8; i++) {
		char tg[PF_TARGET_MAX];
		pf_milter_target(m[i].addr, strlen(m[i].addr), qdir, false, tg, sizeof tg);
		bool dup = false;
		for (size_t k = 0; k < nw; k++)
			dup |= strcmp(w[k].target, tg) == 0;
		if (dup)
			continue;
		w[nw].tok = m[i].tok;
		w[nw].stale = m[i].stale;
		snprintf(w[nw++].target, PF_TARGET_MAX, "%s", tg);
	}
	struct edit_ctx c = { .maincf = maincf, .qdir = qdir, .w = w, .n = nw, .notes = notes };
	if ((cf1 = plan_main_list(&c, maincf, "smtpd_milters", smtpd_chroot, err)) == NULL)
		goto out;
	c.maincf = cf1;
	if ((cf2 = plan_main_list(&c, cf1, "non_smtpd_milters", cleanup_chroot, err)) == NULL)
		goto out;
	c.maincf = cf2;
	for (int k = 0; k < no; k++) {
		if (!o[k].used)
			continue;
		char where[200];
		snprintf(where, sizeof where, "-o %s of service %s/%s in " PF_MASTER_CF, o[k].param, o[k].svc,
			 o[k].type);
		if (o[k].vfrom == o[k].vto) {
			sb_printf(notes, "master.cf service %s/%s sets %s empty (line %zu): mail entering there "
				  "goes through no milter and is not signed by OpenDKIM; left as it is. ",
				  o[k].svc, o[k].type, o[k].param, line_of(master, o[k].word_off));
			continue;
		}
		bool changed;
		char *v = edit_list(&c, master, o[k].vfrom, o[k].vto, o[k].chroot, where, PF_MASTER_CF, &changed, err);
		if (v == NULL)
			goto out;
		if (!changed) {
			free(v);
			continue;
		}
		if (o[k].brace) {
			ed[ned++] = (struct edit){ o[k].vfrom, o[k].vto - o[k].vfrom, v };
		} else {
			/* "-o name=a,b" cannot hold spaces: Postfix 3's "-o { name = value }" */
			struct sbuf b = { 0 };
			sb_printf(&b, "{ %s = %s }", o[k].param, v + strspn(v, " "));
			free(v);
			if ((v = sb_take(&b)) == NULL) {
				dk_fail(err, DK_SYSERR, "out of memory");
				goto out;
			}
			ed[ned++] = (struct edit){ o[k].word_off, o[k].word_len, v };
		}
		sb_printf(notes, "master.cf service %s/%s has its own %s (line %zu): OpenDKIM is put there "
			  "too. ", o[k].svc, o[k].type, o[k].param, line_of(master, o[k].word_off));
	}
	if (ned > 0 && (newmaster = apply_edits(master, ed, ned)) == NULL) {
		dk_fail(err, DK_SYSERR, "out of memory");
		goto out;
	}
	if (mta_add_change(plan, PF_MAIN_CF, maincf, cf2, 0644, "", "", false, err) < 0) {
		maincf = cf2 = NULL;
		goto out;
	}
	maincf = cf2 = NULL;
	if (newmaster != NULL) {
		rc = mta_add_change(plan, PF_MASTER_CF, master, newmaster, 0644, "", "", false, err);
		master = newmaster = NULL;
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < ned; i++)
		free(ed[i].with);
	free(master);
	free(newmaster);
	free(maincf);
	free(cf1);
	free(cf2);
	return rc;
}

int pf_plan_milters(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		    const char *const names[], const char *const toks[], size_t n, struct dk_err *err)
{
	struct pf_milter m[8];
	for (size_t i = 0; i < n && i < 8; i++)
		m[i] = (struct pf_milter){ .addr = names[i], .tok = toks[i], .stale = NULL };
	struct sbuf notes = { 0 };
	int rc = pf_plan_milters_ex(req, plan, maincf, m, n < 8 ? n : 8, &notes, err);
	free(sb_take(&notes));
	return rc;
}

int pf_check_once(const char *root, const char *const addrs[], size_t n, char *what, size_t whatlen,
		  struct dk_err *err)
{
	char pc[3][4096], *master = NULL, *maincf = NULL;
	int rc = postconf_main(root, pc);
	if (rc == -1) {
		snprintf(what, whatlen, "postconf not available");
		return 0;
	}
	const char *const args[] = { "-P", "-x", NULL };
	char *pout = malloc(PF_POSTCONF_MAX);
	if (pout == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	if (rc < 0 || pf_postconf(root, args, pout, PF_POSTCONF_MAX) < 0) {
		dk_fail(err, DK_SYSERR, "postconf could not read the configuration: %s", rc < 0 ? pc[0] : pout);
		free(pout);
		return -1;
	}
	if (mta_read(root, PF_MASTER_CF, &master, err) < 0 || mta_read(root, PF_MAIN_CF, &maincf, err) < 0) {
		free(master);
		free(pout);
		return -1;
	}
	struct pf_override o[PF_OVERRIDES_MAX];
	bool sc = false, cc = false;
	struct sbuf notes = { 0 };
	int no = master != NULL ? master_overrides(master, o, PF_OVERRIDES_MAX, &sc, &cc, &notes) : 0;
	free(sb_take(&notes));
	const char *qdir = pc[2][0] == '/' ? pc[2] : "/var/spool/postfix";
	rc = 0;
	size_t paths = 0;
	for (int k = -2; k < no && rc == 0; k++) {
		const char *v;
		size_t len;
		bool chroot;
		char where[160];
		if (k < 0) {
			v = pc[k + 2];
			len = strlen(v);
			chroot = k == -2 ? sc : cc;
			snprintf(where, sizeof where, "%s", k == -2 ? "smtpd_milters" : "non_smtpd_milters");
		} else {
			if (!o[k].used)
				continue;
			v = postconf_p_value(pout, o[k].svc, o[k].type, o[k].param, &len);
			chroot = o[k].chroot;
			snprintf(where, sizeof where, "%s of %s/%s", o[k].param, o[k].svc, o[k].type);
			if (v == NULL || len == 0)
				continue;   /* milters turned off there */
		}
		struct sbuf key = { 0 };
		int lrc = list_key("", v, 0, len, qdir, chroot, &key);
		char *kk = sb_take(&key);
		for (size_t i = 0; i < n && rc == 0; i++) {
			char tg[PF_TARGET_MAX];
			pf_milter_target(addrs[i], strlen(addrs[i]), qdir, false, tg, sizeof tg);
			size_t count = 0, tl = strlen(tg);
			for (const char *p = kk; lrc == 0 && p != NULL && (p = strstr(p, tg)) != NULL; p += tl)
				count += (p == kk || p[-1] == ' ') && (p[tl] == ' ' || p[tl] == '\0');
			if (count != 1)
				rc = dk_fail(err, DK_SYSERR, "postconf shows %s %s in %s (%zu times): every mail "
					     "path must pass it exactly once", addrs[i], count ? "more than once" : "missing",
					     where, count);
		}
		free(kk);
		paths++;
	}
	free(master);
	free(maincf);
	free(pout);
	if (rc == 0)
		snprintf(what, whatlen, "postconf -x/-P: the signing milter is on each of %zu mail paths exactly once",
			 paths);
	return rc;
}

bool pf_list_has(const char *value, size_t len, const char *want, const char *qdir, bool chroot)
{
	struct pf_tok t[PF_TOKENS_MAX];
	int n = pf_list_tokens(value, 0, len, t, PF_TOKENS_MAX);
	for (int i = 0; i < n; i++) {
		char tg[PF_TARGET_MAX];
		pf_milter_target(value + t[i].off, t[i].len, qdir, chroot, tg, sizeof tg);
		if (strcmp(tg, want) == 0)
			return true;
	}
	return false;
}

int pf_override_lacking(const char *root, const char *want, char *where, size_t wlen, char *value,
			size_t vlen)
{
	char *master = NULL, *maincf = NULL, *pout = NULL;
	struct dk_err e;
	where[0] = value[0] = '\0';
	if (mta_read(root, PF_MASTER_CF, &master, &e) < 0)
		return -1;
	if (master == NULL)
		return 0;
	struct pf_override o[PF_OVERRIDES_MAX];
	bool sc = false, cc = false;
	struct sbuf notes = { 0 };
	int no = master_overrides(master, o, PF_OVERRIDES_MAX, &sc, &cc, &notes);
	free(sb_take(&notes));
	free(master);
	if (no <= 0)
		return no;
	const char *const args[] = { "-P", "-x", NULL };
	if ((pout = malloc(PF_POSTCONF_MAX)) == NULL || pf_postconf(root, args, pout, PF_POSTCONF_MAX) < 0) {
		free(pout);
		return -1;
	}
	char qdir[PATH_MAX];
	if (mta_read(root, PF_MAIN_CF, &maincf, &e) < 0)
		maincf = NULL;
	pf_queue_dir(root, maincf != NULL ? maincf : "", qdir, sizeof qdir);
	int rc = 0;
	for (int k = 0; rc == 0 && k < no; k++) {
		size_t len;
		const char *v = o[k].used ? postconf_p_value(pout, o[k].svc, o[k].type, o[k].param, &len) : NULL;
		if (v != NULL && len > 0 && !pf_list_has(v, len, want, qdir, o[k].chroot)) {
			snprintf(where, wlen, "%s/%s/%s", o[k].svc, o[k].type, o[k].param);
			snprintf(value, vlen, "%.*s", (int)len, v);
			rc = 1;
		}
	}
	free(maincf);
	free(pout);
	return rc;
}

bool pf_milter_listed(const char *root, const char *const what[], char *where, size_t wlen)
{
	char *maincf = NULL;
	struct dk_err e;
	bool on = false;
	if (mta_read(root, PF_MAIN_CF, &maincf, &e) < 0 || maincf == NULL)
		return false;
	const char *names[] = { "smtpd_milters", "non_smtpd_milters" };
	for (size_t i = 0; i < 2 && !on; i++) {
		char *v = pf_milter_value(maincf, names[i]);
		for (size_t k = 0; v != NULL && what[k] != NULL && !on; k++)
			if (strstr(v, what[k]) != NULL) {
				snprintf(where, wlen, "%s in " PF_MAIN_CF " lists %s", names[i], what[k]);
				on = true;
			}
		free(v);
	}
	free(maincf);
	return on;
}
