/* postfix_cf.c: reading and editing Postfix's main.cf, shared by the
 * signers that sign for Postfix through a milter (OpenDKIM, rspamd). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "postfix_cf.h"
#include "signer_util.h"

/* ---- main.cf: "name = value" with indented continuation lines ---- */

/* The last definition of `name`: [*start, *end) in text, and its value. */
bool pf_cf_find(const char *text, const char *name, const char **start, const char **end,
		    struct sbuf *value)
{
	bool found = false;
	size_t n = strlen(name);
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, n) != 0)
			continue;
		const char *q = p + n;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		found = true;
		*start = p;
		const char *e = strchr(p, '\n');
		while (e != NULL && (e[1] == ' ' || e[1] == '\t'))
			e = strchr(e + 1, '\n');
		*end = e ? e + 1 : p + strlen(p);
		if (value != NULL) {
			free(sb_take(value));
			for (const char *v = q + 1; v < *end; v++)
				sb_addn(value, isspace((unsigned char)*v) ? " " : v, 1);
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

/* Split a milter list into tokens; "{ ... }" groups stay whole. Returns
 * (size_t)-1 when the list has more tokens, or longer ones, than we keep:
 * then we edit nothing rather than cut an admin's setting short. */
static size_t milter_tokens(const char *v, char tok[][512], size_t max)
{
	size_t n = 0;
	for (;;) {
		while (*v == ' ' || *v == ',' || *v == '\t')
			v++;
		if (!*v)
			break;
		if (n == max)
			return (size_t)-1;
		size_t k = 0;
		if (*v == '{') {
			int depth = 0;
			do {
				depth += *v == '{';
				depth -= *v == '}';
				if (k + 1 >= 512)
					return (size_t)-1;
				tok[n][k++] = *v++;
			} while (*v && depth > 0);
			if (depth > 0)
				return (size_t)-1;   /* unbalanced braces */
		} else {
			while (*v && *v != ' ' && *v != ',' && *v != '\t') {
				if (k + 1 >= 512)
					return (size_t)-1;
				tok[n][k++] = *v++;
			}
		}
		tok[n++][k] = '\0';
	}
	return n;
}

/* The milter's address within a token ("{ inet:x, a=b }" -> "inet:x"). */
static void milter_name(const char *tok, char *out, size_t outlen)
{
	const char *p = tok;
	if (*p == '{')
		p++;
	while (*p == ' ')
		p++;
	size_t k = 0;
	while (*p && *p != ',' && *p != ' ' && *p != '}' && k + 1 < outlen)
		out[k++] = *p++;
	out[k] = '\0';
}

/* value with our token added or updated; every other milter kept in order. */
char *pf_milters_with(const char *value, const char *ours_name, const char *ours_tok)
{
	char tok[32][512];
	size_t n = milter_tokens(value ? value : "", tok, 32);
	if (n == (size_t)-1)
		return NULL;
	struct sbuf b = { 0 };
	bool done = false;
	for (size_t i = 0; i < n; i++) {
		char name[512];
		milter_name(tok[i], name, sizeof name);
		sb_add(&b, b.len ? ", " : "");
		if (strcmp(name, ours_name) == 0 && !done) {
			sb_add(&b, ours_tok);
			done = true;
		} else if (strcmp(name, ours_name) != 0) {
			sb_add(&b, tok[i]);
		} else {
			b.len -= 2;   /* a duplicate of ours: dropped */
			b.s[b.len] = '\0';
		}
	}
	if (!done)
		sb_printf(&b, "%s%s", b.len ? ", " : "", ours_tok);
	return sb_take(&b);
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

int pf_plan_milters(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		    const char *const names[], const char *const toks[], size_t n, struct dk_err *err)
{
	char *smtpd = pf_milter_value(maincf, "smtpd_milters");
	char *nons = pf_milter_value(maincf, "non_smtpd_milters");
	/* non_smtpd_milters = $smtpd_milters follows it by itself */
	bool nons_follows = nons != NULL && strstr(nons, "smtpd_milters") != NULL;
	char *new_smtpd = strdup(smtpd ? smtpd : ""), *new_nons = nons_follows ? NULL : strdup(nons ? nons : "");
	bool ok = new_smtpd != NULL && (nons_follows || new_nons != NULL);
	for (size_t i = 0; ok && i < n; i++) {
		char *a = pf_milters_with(new_smtpd, names[i], toks[i]);
		free(new_smtpd);
		new_smtpd = a;
		ok = a != NULL;
		if (ok && !nons_follows) {
			char *b = pf_milters_with(new_nons, names[i], toks[i]);
			free(new_nons);
			new_nons = b;
			ok = b != NULL;
		}
	}
	free(smtpd);
	free(nons);
	if (!ok) {
		free(new_smtpd);
		free(new_nons);
		free(maincf);
		return dk_fail(err, DK_SYSERR, "smtpd_milters or non_smtpd_milters in " PF_MAIN_CF " is longer or "
			       "more unusual than dkim-setup edits safely: add %s to both yourself", toks[0]);
	}
	char *cf1 = pf_cf_set(maincf, "smtpd_milters", new_smtpd);
	char *cf2 = cf1 && new_nons ? pf_cf_set(cf1, "non_smtpd_milters", new_nons) : cf1;
	if (cf2 != cf1)
		free(cf1);
	free(new_smtpd);
	free(new_nons);
	(void)req;
	return mta_add_change(plan, PF_MAIN_CF, maincf, cf2, 0644, "", "", false, err);
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
