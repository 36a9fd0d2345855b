/* mta_postfix.c: Postfix signing through OpenDKIM (a milter).
 *
 * Choices, explained on screen too:
 * - The socket is inet on loopback (127.0.0.1:8891). Postfix's smtpd runs
 *   chrooted in /var/spool/postfix on Debian and cannot reach Debian's
 *   default /run/opendkim socket; a TCP socket on loopback works chrooted or
 *   not and needs no group changes. Local users can reach it, but they can
 *   already send signed mail through sendmail, so nothing new is exposed.
 * - Our milter carries its own default_action (Postfix 3.0+ per-milter
 *   settings), so the global milter_default_action that other milters rely
 *   on is left alone.
 * - Ed25519 is refused: SignatureAlgorithm is global to one opendkim, so it
 *   needs a second filter instance with its own service unit, which
 *   dkim-setup does not manage yet.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "mta_int.h"

#define OPENDKIM_CONF "/etc/opendkim.conf"
#define OPENDKIM_KEYDIR "/etc/dkimkeys"
#define OPENDKIM_TABLEDIR "/etc/opendkim"
#define DEF_KEYTABLE "/etc/opendkim/key.table"
#define DEF_SIGNTABLE "/etc/opendkim/signing.table"
#define MAIN_CF "/etc/postfix/main.cf"
#define OUR_SOCKET_DKIM "inet:8891@127.0.0.1"
#define OUR_SOCKET_PF "inet:127.0.0.1:8891"

/* ---- opendkim.conf: "Keyword value" lines ---- */

struct dkconf {
	char keytable[PATH_MAX + 16];
	char signtable[PATH_MAX + 16];
	char socket[PATH_MAX + 16];
	char keyfile[PATH_MAX];
};

static void dkconf_read(const char *text, struct dkconf *c)
{
	memset(c, 0, sizeof *c);
	bool ours = false;
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, MTA_BEGIN, strlen(MTA_BEGIN)) == 0)
			ours = true;
		else if (strncmp(p, MTA_END, strlen(MTA_END)) == 0)
			ours = false;
		if (ours || *p == '#')
			continue;
		char key[64], val[PATH_MAX + 16];
		if (sscanf(p, "%63s %4111s", key, val) != 2)
			continue;
		if (strcasecmp(key, "KeyTable") == 0)
			snprintf(c->keytable, sizeof c->keytable, "%s", val);
		else if (strcasecmp(key, "SigningTable") == 0)
			snprintf(c->signtable, sizeof c->signtable, "%s", val);
		else if (strcasecmp(key, "Socket") == 0)
			snprintf(c->socket, sizeof c->socket, "%s", val);
		else if (strcasecmp(key, "KeyFile") == 0)
			snprintf(c->keyfile, sizeof c->keyfile, "%s", val);
	}
}

/* "refile:/x" -> "/x" and *re = true; "file:/x" or "/x" -> "/x"; others NULL. */
static const char *table_path(const char *v, bool *re)
{
	*re = false;
	if (strncmp(v, "refile:", 7) == 0) {
		*re = true;
		return v + 7;
	}
	if (strncmp(v, "file:", 5) == 0)
		return v + 5;
	return v[0] == '/' ? v : NULL;
}

/* Comment out the lines (outside our block) whose keyword is `key`. */
static char *comment_out(const char *text, const char *key)
{
	struct sbuf b = { 0 };
	bool ours = false;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, MTA_BEGIN, strlen(MTA_BEGIN)) == 0)
			ours = true;
		else if (strncmp(p, MTA_END, strlen(MTA_END)) == 0)
			ours = false;
		size_t k = strlen(key);
		if (!ours && strncasecmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t'))
			sb_add(&b, "# disabled by dkim-setup (see its block below): ");
		sb_addn(&b, p, n);
		p += n;
	}
	return sb_take(&b);
}

/* ---- main.cf: "name = value" with indented continuation lines ---- */

/* The last definition of `name`: [*start, *end) in text, and its value. */
static bool cf_find(const char *text, const char *name, const char **start, const char **end,
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

static char *cf_set(const char *text, const char *name, const char *value)
{
	struct sbuf b = { 0 };
	const char *s, *e;
	if (cf_find(text, name, &s, &e, NULL)) {
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

/* Split a milter list into tokens; "{ ... }" groups stay whole. */
static size_t milter_tokens(const char *v, char tok[][512], size_t max)
{
	size_t n = 0;
	while (*v && n < max) {
		while (*v == ' ' || *v == ',' || *v == '\t')
			v++;
		if (!*v)
			break;
		size_t k = 0;
		if (*v == '{') {
			int depth = 0;
			do {
				depth += *v == '{';
				depth -= *v == '}';
				if (k + 1 < 512)
					tok[n][k++] = *v;
				v++;
			} while (*v && depth > 0);
		} else {
			while (*v && *v != ' ' && *v != ',' && *v != '\t')
				if (k + 1 < 512)
					tok[n][k++] = *v++;
				else
					v++;
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
static char *milters_with(const char *value, const char *ours_name, const char *ours_tok)
{
	char tok[32][512];
	size_t n = milter_tokens(value ? value : "", tok, 32);
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

/* ---- tables ---- */

/* text with the line whose first field is `key` replaced by `line`
 * (appended when absent). */
static char *table_put(const char *text, const char *key, const char *line)
{
	struct sbuf b = { 0 };
	bool done = false;
	size_t k = strlen(key);
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t')) {
			if (!done)
				sb_printf(&b, "%s\n", line);
			done = true;
		} else {
			sb_addn(&b, p, n);
			if (!nl)
				sb_add(&b, "\n");
		}
		p += n;
	}
	if (!done)
		sb_printf(&b, "%s\n", line);
	return sb_take(&b);
}

/* fsutil reads nothing below a directory that is not root's; Debian's
 * /etc/dkimkeys is opendkim's until the first apply changes that, and a
 * key copy inside it then counts as new. */
static bool dir_is_roots(const char *root, const char *dir)
{
	char full[PATH_MAX];
	struct stat st;
	return fs_join(root, dir, full, sizeof full) == 0 && lstat(full, &st) == 0 && st.st_uid == 0;
}

int mta_postfix_detect(const char *root, struct mta_info *info, struct dk_err *err)
{
	info->kind = MTA_POSTFIX;
	info->flavor = MTA_FL_POSTFIX;
	info->ed25519_ok = false;
	if (fs_exists(root, MAIN_CF) != 1) {
		snprintf(info->summary, sizeof info->summary, "Postfix, but no " MAIN_CF);
		snprintf(info->warning, sizeof info->warning, "no " MAIN_CF ": is postfix installed?");
		return 0;
	}
	info->has_signer = fs_exists(root, "/usr/sbin/opendkim") == 1 || fs_exists(root, OPENDKIM_CONF) == 1;
	if (!info->has_signer) {
		snprintf(info->summary, sizeof info->summary, "Postfix without OpenDKIM");
		snprintf(info->warning, sizeof info->warning,
			 "Postfix signs through OpenDKIM, which is not installed: apt install opendkim, "
			 "then run dkim-setup again");
		return 0;
	}
	char *conf = NULL;
	if (mta_read(root, OPENDKIM_CONF, &conf, err) < 0)
		return -1;
	struct dkconf c;
	dkconf_read(conf, &c);
	free(conf);
	snprintf(info->summary, sizeof info->summary, "Postfix with OpenDKIM (%s)",
		 c.keytable[0] ? "KeyTable already in use" : "not signing yet");
	bool re;
	if (c.keyfile[0] != '\0') {
		snprintf(info->warning, sizeof info->warning,
			 "OpenDKIM already signs with a single KeyFile (%s) that dkim-setup did not write; it "
			 "is left alone: move it to a KeyTable first if dkim-setup should manage signing",
			 c.keyfile);
		return 0;
	}
	if ((c.keytable[0] && table_path(c.keytable, &re) == NULL) ||
	    (c.signtable[0] && table_path(c.signtable, &re) == NULL)) {
		snprintf(info->warning, sizeof info->warning,
			 "OpenDKIM's KeyTable/SigningTable is not a plain file (%s / %s): dkim-setup only adds "
			 "entries to files", c.keytable, c.signtable);
		return 0;
	}
	info->can_sign = true;
	return 0;
}

int mta_postfix_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	char *conf = NULL, *maincf = NULL;
	if (mta_read(req->root, OPENDKIM_CONF, &conf, err) < 0)
		return -1;
	if (mta_read(req->root, MAIN_CF, &maincf, err) < 0) {
		free(conf);
		return -1;
	}
	if (conf == NULL)
		conf = strdup("");
	if (maincf == NULL)
		maincf = strdup("");
	if (conf == NULL || maincf == NULL) {
		free(conf);
		free(maincf);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	struct dkconf c;
	dkconf_read(conf, &c);

	/* The key: Debian's /etc/dkimkeys, 0600 opendkim (RequireSafeKeys).
	 * Debian makes that directory opendkim:opendkim 0700; root must not
	 * write into a directory another user controls (it could swap names
	 * under us), so it becomes root:opendkim 0750, which opendkim reads
	 * just the same, and dpkg-statoverride keeps it so on upgrades. */
	mta_add_dir(plan, OPENDKIM_KEYDIR, 0750, "", "opendkim", true);
	char copy[PATH_MAX], keyname[DK_DOMAIN_MAX + DK_LABEL_MAX + 16];
	snprintf(copy, sizeof copy, OPENDKIM_KEYDIR "/%s-%s.private", req->domain, req->selector);
	snprintf(keyname, sizeof keyname, "%s._domainkey.%s", req->selector, req->domain);
	{
		char *pem = NULL, *old = NULL;
		size_t len;
		EVP_PKEY *k = NULL;
		enum dk_alg alg;
		int bits;
		if (fs_read_file(req->root, req->priv_path, 1u << 16, &pem, &len, err) < 0)
			goto fail;
		if (keygen_load_private(pem, len, &k, err) < 0 || keygen_describe(k, &alg, &bits, err) < 0 ||
		    (alg != DK_ALG_RSA && dk_fail(err, DK_USAGE, "%s is not an RSA key", req->priv_path)) ||
		    (dir_is_roots(req->root, OPENDKIM_KEYDIR) && mta_read(req->root, copy, &old, err) < 0)) {
			EVP_PKEY_free(k);
			keygen_secret_free(pem, len);
			goto fail;
		}
		EVP_PKEY_free(k);
		if (mta_add_change(plan, copy, old, pem, 0600, "opendkim", "opendkim", true, err) < 0)
			goto fail;
	}

	/* Tables: the admin's when set, else ours. */
	bool kre, sre;
	const char *kt = c.keytable[0] ? table_path(c.keytable, &kre) : DEF_KEYTABLE;
	const char *st = c.signtable[0] ? table_path(c.signtable, &sre) : DEF_SIGNTABLE;
	if (!c.signtable[0])
		sre = true;
	if (!c.keytable[0] || !c.signtable[0])
		mta_add_dir(plan, OPENDKIM_TABLEDIR, 0755, "", "", false);
	char line[PATH_MAX + 600], key[DK_DOMAIN_MAX + 4];
	char *old = NULL;
	if (mta_read(req->root, kt, &old, err) < 0)
		goto fail;
	snprintf(line, sizeof line, "%s %s:%s:%s", keyname, req->domain, req->selector, copy);
	if (mta_add_change(plan, kt, old, table_put(old, keyname, line), 0644, "", "", false, err) < 0)
		goto fail;
	if (mta_read(req->root, st, &old, err) < 0)
		goto fail;
	/* refile: wildcards; file: the domain alone matches every sender of it.
	 * A previous selector of this domain is replaced: that is rotation. */
	snprintf(key, sizeof key, sre ? "*@%s" : "%s", req->domain);
	snprintf(line, sizeof line, "%s %s", key, keyname);
	if (mta_add_change(plan, st, old, table_put(old, key, line), 0644, "", "", false, err) < 0)
		goto fail;

	/* Socket: keep a loopback inet socket of the admin's; replace Debian's
	 * unix socket (out of reach of chrooted smtpd) with ours. */
	char pf_sock[PATH_MAX + 32];
	bool set_socket = true;
	unsigned port;
	char host[64];
	if (c.socket[0] && sscanf(c.socket, "inet:%u@%63s", &port, host) == 2 &&
	    (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0)) {
		snprintf(pf_sock, sizeof pf_sock, "inet:127.0.0.1:%u", port);
		set_socket = false;
	} else {
		snprintf(pf_sock, sizeof pf_sock, OUR_SOCKET_PF);
	}
	struct sbuf blk = { 0 };
	sb_add(&blk, MTA_BEGIN ": OpenDKIM signing (managed by dkim-setup; replaced on every run)\n");
	if (!c.keytable[0])
		sb_add(&blk, "KeyTable\t\trefile:" DEF_KEYTABLE "\n");
	if (!c.signtable[0])
		sb_add(&blk, "SigningTable\t\trefile:" DEF_SIGNTABLE "\n");
	if (set_socket)
		sb_add(&blk, "# TCP on loopback: Postfix's chrooted smtpd can reach it.\n"
			     "Socket\t\t\t" OUR_SOCKET_DKIM "\n");
	sb_add(&blk, MTA_END "\n");
	char *b = sb_take(&blk);
	char *tmp = NULL, *newconf = NULL;
	if (b != NULL)
		tmp = set_socket ? comment_out(conf, "Socket") : strdup(conf);
	/* The old KeyTable line of ours is inside the block; a KeyTable of
	 * the admin's (used above) stays where it is. */
	if (tmp != NULL)
		newconf = mta_put_block(tmp, b);
	free(tmp);
	free(b);
	old = conf;
	conf = NULL;
	if (mta_add_change(plan, OPENDKIM_CONF, old, newconf, 0644, "", "", false, err) < 0)
		goto fail;

	/* main.cf: our milter added to both lists, the others kept. */
	char ours[600];
	snprintf(ours, sizeof ours, "{ %s, default_action = %s }", pf_sock, req->strict ? "tempfail" : "accept");
	struct sbuf v = { 0 };
	const char *s, *e;
	char *smtpd = cf_find(maincf, "smtpd_milters", &s, &e, &v) ? sb_take(&v) : NULL;
	free(sb_take(&v));
	char *nons = cf_find(maincf, "non_smtpd_milters", &s, &e, &v) ? sb_take(&v) : NULL;
	free(sb_take(&v));
	char *new_smtpd = milters_with(smtpd, pf_sock, ours);
	char *new_nons = (nons && strstr(nons, "smtpd_milters")) ? NULL : milters_with(nons, pf_sock, ours);
	char *cf1 = new_smtpd ? cf_set(maincf, "smtpd_milters", new_smtpd) : NULL;
	char *cf2 = cf1 && new_nons ? cf_set(cf1, "non_smtpd_milters", new_nons) : cf1;
	if (cf2 != cf1)
		free(cf1);
	free(smtpd);
	free(nons);
	free(new_smtpd);
	free(new_nons);
	old = maincf;
	maincf = NULL;
	if (mta_add_change(plan, MAIN_CF, old, cf2, 0644, "", "", false, err) < 0)
		goto fail;

	snprintf(plan->reload_cmd, sizeof plan->reload_cmd, "systemctl restart opendkim && systemctl reload postfix");
	struct sbuf x = { 0 };
	sb_printf(&x, "Postfix signs through OpenDKIM. OpenDKIM cannot read keys in /etc/ssl/private, so the "
		      "key is copied to %s (0600 opendkim, as its RequireSafeKeys rule wants), listed in %s and "
		      "%s (" OPENDKIM_KEYDIR " becomes root:opendkim 0750, so root never writes into a directory "
		      "another user owns; dpkg-statoverride keeps that on upgrades). OpenDKIM listens on %s (TCP on loopback, so Postfix's chrooted smtpd reaches it), "
		      "added to smtpd_milters and non_smtpd_milters next to any milters already there. ",
		  copy, kt, st, pf_sock);
	sb_add(&x, req->strict
			   ? "If OpenDKIM is down, Postfix holds mail (tempfail) rather than send it unsigned."
			   : "If OpenDKIM is down, Postfix still sends mail, unsigned (default_action = accept "
			     "for this milter only; other milters keep their setting).");
	if (req->ed_selector != NULL)
		sb_add(&x, " Ed25519 is not configured for Postfix: OpenDKIM's SignatureAlgorithm is global, "
			   "so it needs a second OpenDKIM instance, which dkim-setup does not manage yet; "
			   "mail is signed with RSA.");
	plan->explain = sb_take(&x);
	return plan->explain ? 0 : dk_fail(err, DK_SYSERR, "out of memory");
fail:
	free(conf);
	free(maincf);
	return -1;
}

int mta_postfix_activate(const struct mta_request *req, const struct mta_plan *plan, struct dk_err *err)
{
	(void)plan;
	if (req->root[0] != '\0' || access("/usr/bin/dpkg-statoverride", X_OK) != 0)
		return 0;
	const char *const list[] = { "/usr/bin/dpkg-statoverride", "--list", OPENDKIM_KEYDIR, NULL };
	if (mta_run(list, NULL, 0) == 0)
		return 0;   /* the admin's override (or ours) is there already */
	char out[512], pr[300];
	const char *const add[] = { "/usr/bin/dpkg-statoverride", "--add", "root", "opendkim", "0750",
				    OPENDKIM_KEYDIR, NULL };
	if (mta_run(add, out, sizeof out) != 0)
		return dk_fail(err, DK_SYSERR, "dpkg-statoverride failed: %s", dk_printable(out, pr, sizeof pr));
	return 0;
}

int mta_postfix_validate(const struct mta_request *req, const struct mta_plan *plan,
			 struct mta_result *res, struct dk_err *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		if (!plan->changes[i].is_key)
			continue;
		if (mta_check_safe_key(req->root, plan->changes[i].path, "opendkim", err) < 0 ||
		    mta_check_key_access(req->root, plan->changes[i].path, "opendkim", res->key_access,
					 sizeof res->key_access, err) < 0)
			return -1;
	}
	if (req->root[0] != '\0') {
		snprintf(res->validator, sizeof res->validator, "not run under --root");
		return 0;
	}
	char out[8192], pr[300];
	const char *const od[] = { "/usr/sbin/opendkim", "-n", "-x", OPENDKIM_CONF, NULL };
	int rc = mta_run(od, out, sizeof out);
	if (rc != 0)
		return dk_fail(err, DK_SYSERR, "opendkim -n rejects " OPENDKIM_CONF ": %s",
			       dk_printable(out, pr, sizeof pr));
	/* postconf exits 0 even for bad parameters: read what it says. */
	const char *const pc[] = { "/usr/sbin/postconf", "-h", "smtpd_milters", "non_smtpd_milters", NULL };
	rc = mta_run(pc, out, sizeof out);
	if (rc != 0 || strstr(out, "warning") != NULL || strstr(out, "fatal") != NULL)
		return dk_fail(err, DK_SYSERR, "postconf complains about main.cf: %s",
			       dk_printable(out, pr, sizeof pr));
	if (strstr(out, "default_action") == NULL)
		return dk_fail(err, DK_SYSERR, "postconf does not show the OpenDKIM milter in smtpd_milters");
	snprintf(res->validator, sizeof res->validator,
		 "opendkim -n accepts " OPENDKIM_CONF "; postconf reads the milters without complaint");
	return 0;
}
