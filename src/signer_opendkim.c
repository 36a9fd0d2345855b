/* signer_opendkim.c: the Postfix + OpenDKIM signer (a milter).
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
 * - Ed25519: SignatureAlgorithm is global to one opendkim (an Ed25519 key in
 *   the RSA filter fails), so a second instance signs with it: its own
 *   config, tables, loopback socket (8892) and systemd unit, listed in the
 *   milters after the RSA one. Refused (RSA only) when opendkim -V does not
 *   list ed25519-sha256.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "postfix_cf.h"
#include "prove_signer.h"
#include "signer.h"
#include "signer_util.h"

#define OPENDKIM_CONF "/etc/opendkim.conf"
#define OPENDKIM_TABLEDIR "/etc/opendkim"
#define DEF_KEYTABLE "/etc/opendkim/key.table"
#define DEF_SIGNTABLE "/etc/opendkim/signing.table"
#define MAIN_CF PF_MAIN_CF
/* Where OpenDKIM reads its copy of a key (DESIGN.md, "the signer's copy"). */
#define OPENDKIM_KEYDIR "/etc/dkimkeys"
#define OPENDKIM_COPY_FMT OPENDKIM_KEYDIR "/%s-%s.private"
#define OUR_SOCKET_DKIM "inet:8891@127.0.0.1"
#define OUR_SOCKET_PF "inet:127.0.0.1:8891"
#define ED_CONF "/etc/opendkim-ed25519.conf"
#define ED_UNIT "/etc/systemd/system/opendkim-ed25519.service"
#define ED_KEYTABLE "/etc/opendkim/key-ed25519.table"
#define ED_SIGNTABLE "/etc/opendkim/signing-ed25519.table"
#define ED_SOCKET_DKIM "inet:8892@127.0.0.1"
#define ED_SOCKET_PF "inet:127.0.0.1:8892"

/* ---- opendkim.conf: "Keyword value" lines ---- */

#define DKCONF_STALE_MAX 8

/* opendkim.conf as OpenDKIM reads it: Include followed (five levels, as
 * OpenDKIM allows), a later setting winning over an earlier one. */
struct dkconf {
	char keytable[PATH_MAX + 16], keytable_in[PATH_MAX];
	char signtable[PATH_MAX + 16], signtable_in[PATH_MAX];
	char socket[PATH_MAX + 16], socket_in[PATH_MAX];
	char keyfile[PATH_MAX];
	char mode[16], mode_in[PATH_MAX];
	char include_err[PATH_MAX + 64];    /* an Include that cannot be read */
	/* Socket values in comment lines (older addresses of this filter) */
	char stale[DKCONF_STALE_MAX][PATH_MAX + 16];
	size_t nstale;
};

static void dkconf_scan(const char *root, const char *path, const char *text, struct dkconf *c, int depth)
{
	bool ours = false;
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, MTA_BEGIN, strlen(MTA_BEGIN)) == 0)
			ours = true;
		else if (strncmp(p, MTA_END, strlen(MTA_END)) == 0)
			ours = false;
		char key[64], val[PATH_MAX + 16];
		if (*p == '#') {
			/* "#Socket x", "# disabled by dkim-setup (...): Socket x" */
			const char *q = strstr(p, "Socket");
			const char *nl = strchr(p, '\n');
			if (q != NULL && (nl == NULL || q < nl) && c->nstale < DKCONF_STALE_MAX &&
			    sscanf(q, "Socket %4111s", val) == 1)
				snprintf(c->stale[c->nstale++], sizeof c->stale[0], "%s", val);
			continue;
		}
		if (ours || sscanf(p, "%63s %4111s", key, val) != 2)
			continue;
		if (strcasecmp(key, "KeyTable") == 0) {
			snprintf(c->keytable, sizeof c->keytable, "%s", val);
			snprintf(c->keytable_in, sizeof c->keytable_in, "%s", path);
		} else if (strcasecmp(key, "SigningTable") == 0) {
			snprintf(c->signtable, sizeof c->signtable, "%s", val);
			snprintf(c->signtable_in, sizeof c->signtable_in, "%s", path);
		} else if (strcasecmp(key, "Socket") == 0) {
			snprintf(c->socket, sizeof c->socket, "%s", val);
			snprintf(c->socket_in, sizeof c->socket_in, "%s", path);
		} else if (strcasecmp(key, "KeyFile") == 0) {
			snprintf(c->keyfile, sizeof c->keyfile, "%s", val);
		} else if (strcasecmp(key, "Mode") == 0) {
			snprintf(c->mode, sizeof c->mode, "%s", val);
			snprintf(c->mode_in, sizeof c->mode_in, "%s", path);
		} else if (strcasecmp(key, "Include") == 0) {
			char *inc = NULL;
			struct dk_err e;
			if (depth >= 5 || val[0] != '/' || mta_read(root, val, &inc, &e) < 0 || inc == NULL) {
				snprintf(c->include_err, sizeof c->include_err, "%s (Include in %s)", val, path);
			} else {
				dkconf_scan(root, val, inc, c, depth + 1);
			}
			free(inc);
		}
	}
}

static void dkconf_read(const char *root, const char *text, struct dkconf *c)
{
	memset(c, 0, sizeof *c);
	dkconf_scan(root, OPENDKIM_CONF, text, c, 0);
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

/* ---- tables ---- */

/* text with the line whose first field is `key` replaced by `line`
 * (appended when absent; line NULL: removed). */
static char *table_put(const char *text, const char *key, const char *line)
{
	struct sbuf b = { 0 };
	bool done = false;
	size_t k = strlen(key);
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t')) {
			if (!done && line != NULL)
				sb_printf(&b, "%s\n", line);
			done = true;
		} else {
			sb_addn(&b, p, n);
			if (!nl)
				sb_add(&b, "\n");
		}
		p += n;
	}
	if (!done && line != NULL)
		sb_printf(&b, "%s\n", line);
	return b.len ? sb_take(&b) : strdup("");
}

/* fsutil reads nothing below a directory that is not root's; Debian's
 * /etc/dkimkeys is opendkim's until the first apply changes that, and a
 * key copy inside it then counts as new. */
static bool dir_is_roots(const char *root, const char *dir)
{
	struct stat st;
	return fs_stat(root, dir, &st) == 0 && st.st_uid == 0;
}

/* The signer's copy of a master key, after checking its type. */
static int add_key(const struct mta_request *req, struct mta_plan *plan, const char *master,
		   const char *copy, enum dk_alg want, struct dk_err *err)
{
	return mta_add_key_copy(req, plan, master, copy, want, "opendkim", "opendkim", 0600,
				dir_is_roots(req->root, OPENDKIM_KEYDIR), err);
}

/* A table file with `line` for `key` (added or replaced). */
static int add_table(const struct mta_request *req, struct mta_plan *plan, const char *path,
		     const char *key, const char *line, struct dk_err *err)
{
	char *old = NULL;
	if (mta_read(req->root, path, &old, err) < 0)
		return -1;
	return mta_add_change(plan, path, old, table_put(old, key, line), 0644, "", "", false, err);
}

/* The whole of a file that is ours (rewritten, not merged). */
static int add_ours(const struct mta_request *req, struct mta_plan *plan, const char *path,
		    char *text, struct dk_err *err)
{
	char *old = NULL;
	if (mta_read(req->root, path, &old, err) < 0) {
		free(text);
		return -1;
	}
	return mta_add_change(plan, path, old, text, 0644, "", "", false, err);
}

/* Ed25519: a second opendkim with SignatureAlgorithm ed25519-sha256, its
 * own tables, socket and service. Its milter is listed after the RSA one. */
static int plan_ed25519(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	char copy[PATH_MAX], keyname[DK_DOMAIN_MAX + DK_LABEL_MAX + 16], line[PATH_MAX + 600],
		key[DK_DOMAIN_MAX + 4];
	snprintf(copy, sizeof copy, OPENDKIM_COPY_FMT, req->domain, req->ed_selector);
	snprintf(keyname, sizeof keyname, "%s._domainkey.%s", req->ed_selector, req->domain);
	if (add_key(req, plan, req->ed_priv_path, copy, DK_ALG_ED25519, err) < 0)
		return -1;
	snprintf(line, sizeof line, "%s %s:%s:%s", keyname, req->domain, req->ed_selector, copy);
	if (add_table(req, plan, ED_KEYTABLE, keyname, line, err) < 0)
		return -1;
	snprintf(key, sizeof key, "*@%s", req->domain);
	snprintf(line, sizeof line, "%s %s", key, keyname);
	if (add_table(req, plan, ED_SIGNTABLE, key, line, err) < 0)
		return -1;
	char *conf = strdup(
		"# The second OpenDKIM, for Ed25519 signatures (written by dkim-setup; replaced on\n"
		"# every run). SignatureAlgorithm is global to one OpenDKIM, so RSA and Ed25519\n"
		"# need one filter each; Postfix calls this one after the RSA one.\n"
		"Syslog\t\t\tyes\n"
		"UMask\t\t\t007\n"
		"UserID\t\t\topendkim\n"
		"Mode\t\t\ts\n"
		"Canonicalization\trelaxed/simple\n"
		"OversignHeaders\t\tFrom\n"
		"SignatureAlgorithm\ted25519-sha256\n"
		"KeyTable\t\tfile:" ED_KEYTABLE "\n"
		"SigningTable\t\trefile:" ED_SIGNTABLE "\n"
		"Socket\t\t\t" ED_SOCKET_DKIM "\n"
		"PidFile\t\t\t/run/opendkim/opendkim-ed25519.pid\n");
	if (add_ours(req, plan, ED_CONF, conf, err) < 0)
		return -1;
	char *unit = strdup(
		"# The second OpenDKIM, for Ed25519 signatures (written by dkim-setup).\n"
		"[Unit]\n"
		"Description=OpenDKIM Milter for Ed25519 signatures (dkim-setup)\n"
		"After=network-online.target nss-lookup.target opendkim.service\n"
		"Wants=network-online.target\n\n"
		"[Service]\n"
		"Type=forking\n"
		"RuntimeDirectory=opendkim\n"
		"RuntimeDirectoryPreserve=yes\n"
		"PIDFile=/run/opendkim/opendkim-ed25519.pid\n"
		"ExecStart=/usr/sbin/opendkim -x " ED_CONF "\n"
		"ExecReload=/bin/kill -USR1 $MAINPID\n"
		"Restart=on-failure\n\n"
		"[Install]\n"
		"WantedBy=multi-user.target\n");
	if (mta_add_dir(plan, "/etc/systemd/system", 0755, "", "", false, err) < 0) {
		free(unit);
		return -1;
	}
	if (add_ours(req, plan, ED_UNIT, unit, err) < 0)
		return -1;
	plan->ed25519 = true;
	return 0;
}

/* The selector of `domain` in a signing table ("*@d sel._domainkey.d"). */
static void table_selector(const char *root, const char *path, const char *domain, char *out, size_t outlen)
{
	char *text = NULL;
	struct dk_err e;
	if (mta_read(root, path, &text, &e) < 0 || text == NULL)
		return;
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char k[DK_DOMAIN_MAX + 8], v[DK_DOMAIN_MAX + DK_LABEL_MAX + 16], want[DK_DOMAIN_MAX + 4];
		snprintf(want, sizeof want, "*@%s", domain);
		if (sscanf(p, "%260s %330s", k, v) != 2 || (strcmp(k, want) != 0 && strcmp(k, domain) != 0))
			continue;
		char *dot = strstr(v, "._domainkey.");
		if (dot == NULL)
			continue;
		*dot = '\0';
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s%s", used ? " " : "", v);
		break;
	}
	free(text);
}

static void opendkim_selectors(const char *root, const struct mta_info *info, const char *domain,
			       char *out, size_t outlen)
{
	char *conf = NULL;
	struct dk_err e;
	struct dkconf c;
	bool re;
	(void)info;
	out[0] = '\0';
	if (mta_read(root, OPENDKIM_CONF, &conf, &e) < 0)
		return;
	dkconf_read(root, conf, &c);
	free(conf);
	const char *st = c.signtable[0] ? table_path(c.signtable, &re) : DEF_SIGNTABLE;
	if (st != NULL)
		table_selector(root, st, domain, out, outlen);
	table_selector(root, ED_SIGNTABLE, domain, out, outlen);
}

/* Another signer on Postfix's mail path: rspamd's proxy milter. */
static const char *const rspamd_milters[] = { ":11332", "rspamd", NULL };

static int opendkim_detect(const char *root, struct mta_info *info, struct dk_err *err)
{
	info->flavor = MTA_FL_POSTFIX;
	info->ed25519_ok = false;
	if (root[0] != '\0') {
		info->ed25519_ok = true;   /* Debian 12's opendkim has it; nothing to ask under --root */
	} else {
		char out[4096];
		const char *const argv[] = { "/usr/sbin/opendkim", "-V", NULL };
		info->ed25519_ok = mta_run(argv, out, sizeof out) >= 0 && strstr(out, "ed25519-sha256") != NULL;
	}
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
	dkconf_read(root, conf, &c);
	free(conf);
	bool chroot = pf_smtpd_chrooted(root);
	snprintf(info->summary, sizeof info->summary, "Postfix%s with OpenDKIM (socket %s; %s)",
		 chroot ? " (smtpd chrooted)" : "", c.socket[0] ? c.socket : "not set",
		 c.keytable[0] ? "KeyTable already in use" : "not signing yet");
	bool re;
	if (c.keyfile[0] != '\0') {
		snprintf(info->warning, sizeof info->warning,
			 "OpenDKIM already signs with a single KeyFile (%s) that dkim-setup did not write; it "
			 "is left alone: move it to a KeyTable first if dkim-setup should manage signing",
			 c.keyfile);
		info->refused = true;
		return 0;
	}
	if ((c.keytable[0] && table_path(c.keytable, &re) == NULL) ||
	    (c.signtable[0] && table_path(c.signtable, &re) == NULL)) {
		snprintf(info->warning, sizeof info->warning,
			 "OpenDKIM's KeyTable/SigningTable is not a plain file (%s / %s): dkim-setup only adds "
			 "entries to files", c.keytable, c.signtable);
		info->refused = true;
		return 0;
	}
	char where[200];
	if (pf_milter_listed(root, rspamd_milters, where, sizeof where)) {
		snprintf(info->warning, sizeof info->warning,
			 "rspamd is on Postfix's mail path (%s) and signs there: OpenDKIM beside it would be a "
			 "second signer. Use --mta rspamd to configure rspamd's signing instead", where);
		info->refused = true;
		return 0;
	}
	info->can_sign = true;
	return 0;
}

/* The SigningTable with our entry for the domain. A line of another
 * selector of this domain is replaced (that is rotation) unless the new
 * record is not served yet (req->defer_switch): then the table is left as
 * it is and plan->kept_selector says which selector keeps signing. In a
 * refile: table our line goes before the first wildcard line that would
 * match the domain's senders first (OpenDKIM takes the first match). */
static int plan_signing_table(const struct mta_request *req, struct mta_plan *plan, const char *st, bool re,
			      const char *keyname, struct sbuf *notes, struct dk_err *err)
{
	char *old = NULL, key[DK_DOMAIN_MAX + 4], line[PATH_MAX + 600];
	if (mta_read(req->root, st, &old, err) < 0)
		return -1;
	snprintf(key, sizeof key, re ? "*@%s" : "%s", req->domain);
	snprintf(line, sizeof line, "%s %s", key, keyname);
	char cur[DK_LABEL_MAX + 1] = "";
	table_selector(req->root, st, req->domain, cur, sizeof cur);
	if (req->defer_switch && cur[0] != '\0' && strcmp(cur, req->selector) != 0) {
		snprintf(plan->kept_selector, sizeof plan->kept_selector, "%s", cur);
		sb_printf(notes, "%s already signs with selector %s, and DNS does not serve the record of %s "
			  "yet: %s keeps signing (the key of %s is installed beside it). Once every "
			  "authoritative server serves %s._domainkey.%s, switch with: dkim-setup --batch -d %s "
			  "-s %s --wait 600. ", req->domain, cur, req->selector, cur, req->selector,
			  req->selector, req->domain, req->domain, req->selector);
		return mta_add_change(plan, st, old, old != NULL ? strdup(old) : strdup(""), 0644, "", "",
				      false, err);
	}
	char *t = table_put(old, key, line);
	if (t == NULL || !re)
		return mta_add_change(plan, st, old, t, 0644, "", "", false, err);
	/* the first line (not ours) whose pattern matches a sender of ours */
	char probe[DK_DOMAIN_MAX + 32];
	snprintf(probe, sizeof probe, "postmaster@%s", req->domain);
	const char *mine = NULL, *shadow = NULL;
	for (const char *p = t; *p && mine == NULL; p = strchr(p, '\n') + 1) {
		char pat[512];
		if (strncmp(p, line, strlen(line)) == 0 && p[strlen(line)] == '\n')
			mine = p;
		else if (shadow == NULL && *p != '#' && sscanf(p, "%511s", pat) == 1 &&
			 fnmatch(pat, probe, FNM_CASEFOLD) == 0)
			shadow = p;
	}
	if (mine == NULL || shadow == NULL)
		return mta_add_change(plan, st, old, t, 0644, "", "", false, err);
	char pr[300];
	const char *se = strchr(shadow, '\n');
	char sl[512];
	snprintf(sl, sizeof sl, "%.*s", (int)(se - shadow), shadow);
	for (char *q = sl; *q; q++)
		*q = *q == '\t' ? ' ' : *q;
	sb_printf(notes, "%s has the line \"%s\" before the domain's entry; OpenDKIM takes the first "
		  "match, so the entry for %s is put before it. ", st, dk_printable(sl, pr, sizeof pr), req->domain);
	struct sbuf b = { 0 };
	size_t ll = strlen(line) + 1;
	sb_addn(&b, t, (size_t)(shadow - t));
	sb_addn(&b, mine, ll);
	sb_addn(&b, shadow, (size_t)(mine - shadow));
	sb_add(&b, mine + ll);
	free(t);
	return mta_add_change(plan, st, old, sb_take(&b), 0644, "", "", false, err);
}

/* Where OpenDKIM listens and how Postfix reaches it: the admin's Socket
 * when Postfix can reach it (inet on loopback or any address; a unix
 * socket inside Postfix's queue directory, which chrooted and
 * unchrooted daemons alike see under the relative name), else ours. */
static bool keep_socket(const struct dkconf *c, const char *qdir, char *pf_addr, size_t len)
{
	char tg[PF_TARGET_MAX];
	if (c->socket[0] == '\0')
		return false;
	pf_socket_target(c->socket, tg, sizeof tg);
	if (strncmp(tg, "inet:lo:", 8) == 0) {
		snprintf(pf_addr, len, "inet:127.0.0.1:%s", tg + 8);
		return true;
	}
	size_t q = strlen(qdir);
	if (strncmp(tg, "unix:", 5) == 0 && strncmp(tg + 5, qdir, q) == 0 && tg[5 + q] == '/') {
		snprintf(pf_addr, len, "local:%s", tg + 5 + q + 1);
		return true;
	}
	return false;
}

/* The targets of older addresses of OpenDKIM (NULL-ended into out). */
static void stale_targets(const struct dkconf *c, const char *qdir, bool kept, char buf[][PF_TARGET_MAX],
			  const char *out[], size_t max)
{
	size_t n = 0;
	static const char *const known[] = { "/run/opendkim/opendkim.sock", "/var/run/opendkim/opendkim.sock" };
	static const char *const in_queue[] = { "opendkim/opendkim.sock", "var/run/opendkim/opendkim.sock",
						"run/opendkim/opendkim.sock" };
	if (!kept && c->socket[0] && n < max)
		pf_socket_target(c->socket, buf[n++], PF_TARGET_MAX);
	for (size_t i = 0; i < c->nstale && n < max; i++)
		pf_socket_target(c->stale[i], buf[n++], PF_TARGET_MAX);
	for (size_t i = 0; i < 2 && n < max; i++)
		snprintf(buf[n++], PF_TARGET_MAX, "unix:%s", known[i]);
	for (size_t i = 0; i < 3 && n < max; i++)
		snprintf(buf[n++], PF_TARGET_MAX, "unix:%s/%s", qdir, in_queue[i]);
	if (n < max)
		snprintf(buf[n++], PF_TARGET_MAX, "inet:lo:8891");
	for (size_t i = 0; i < n; i++)
		out[i] = buf[i];
	out[n] = NULL;
}

static int opendkim_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	char *conf = NULL, *maincf = NULL;
	struct sbuf notes = { 0 };
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
	if (mta_block_ok(conf, OPENDKIM_CONF, err) < 0)
		goto fail;
	struct dkconf c;
	dkconf_read(req->root, conf, &c);
	if (c.include_err[0] != '\0') {
		char pr[300];
		dk_fail(err, DK_USAGE, "OpenDKIM's configuration includes %s, which dkim-setup cannot read: "
			"it edits nothing whose settings it cannot see", dk_printable(c.include_err, pr, sizeof pr));
		goto fail;
	}

	/* The key: Debian's /etc/dkimkeys, 0600 opendkim (RequireSafeKeys).
	 * Debian makes that directory opendkim:opendkim 0700; root must not
	 * write into a directory another user controls (it could swap names
	 * under us), so it becomes root:opendkim 0750, which opendkim reads
	 * just the same, and dpkg-statoverride keeps it so on upgrades. */
	if (mta_add_dir(plan, OPENDKIM_KEYDIR, 0750, "", "opendkim", true, err) < 0)
		goto fail;
	char copy[PATH_MAX], keyname[DK_DOMAIN_MAX + DK_LABEL_MAX + 16];
	snprintf(copy, sizeof copy, OPENDKIM_COPY_FMT, req->domain, req->selector);
	snprintf(keyname, sizeof keyname, "%s._domainkey.%s", req->selector, req->domain);
	if (add_key(req, plan, req->priv_path, copy, DK_ALG_RSA, err) < 0)
		goto fail;

	/* Tables: where OpenDKIM really reads them (Include followed), else ours. */
	bool kre, sre;
	const char *kt = c.keytable[0] ? table_path(c.keytable, &kre) : DEF_KEYTABLE;
	const char *st = c.signtable[0] ? table_path(c.signtable, &sre) : DEF_SIGNTABLE;
	if (!c.signtable[0])
		sre = true;
	bool ed = req->ed_selector != NULL && req->ed_priv_path != NULL && plan->info.ed25519_ok;
	if ((!c.keytable[0] || !c.signtable[0] || ed) &&
	    mta_add_dir(plan, OPENDKIM_TABLEDIR, 0755, "", "", false, err) < 0)
		goto fail;
	char line[PATH_MAX + 600];
	char *old = NULL;
	if (mta_read(req->root, kt, &old, err) < 0)
		goto fail;
	snprintf(line, sizeof line, "%s %s:%s:%s", keyname, req->domain, req->selector, copy);
	if (mta_add_change(plan, kt, old, table_put(old, keyname, line), 0644, "", "", false, err) < 0)
		goto fail;
	if (plan_signing_table(req, plan, st, sre, keyname, &notes, err) < 0)
		goto fail;

	char qdir[PATH_MAX];
	pf_queue_dir(req->root, maincf, qdir, sizeof qdir);
	char pf_sock[PATH_MAX + 32];
	bool set_socket = !keep_socket(&c, qdir, pf_sock, sizeof pf_sock);
	if (set_socket)
		snprintf(pf_sock, sizeof pf_sock, OUR_SOCKET_PF);
	snprintf(plan->milter_addr, sizeof plan->milter_addr, "%s", pf_sock);
	bool verify_only = c.mode[0] != '\0' && strchr(c.mode, 's') == NULL;
	if (verify_only)
		sb_printf(&notes, "OpenDKIM was set to verify only (Mode %s in %s): it signs nothing that "
			  "way, so Mode becomes sv (sign and verify). ", c.mode, c.mode_in);
	struct sbuf blk = { 0 };
	sb_add(&blk, MTA_BEGIN ": OpenDKIM signing (rewritten by dkim-setup on each run)\n");
	if (!c.keytable[0])
		sb_add(&blk, "KeyTable\t\tfile:" DEF_KEYTABLE "\n");
	if (!c.signtable[0])
		sb_add(&blk, "SigningTable\t\trefile:" DEF_SIGNTABLE "\n");
	if (set_socket)
		sb_add(&blk, "# TCP on loopback: Postfix's chrooted smtpd can reach it.\n"
			     "Socket\t\t\t" OUR_SOCKET_DKIM "\n");
	if (verify_only)
		sb_add(&blk, "# was verify-only: sign too\nMode\t\t\tsv\n");
	sb_add(&blk, MTA_END "\n");
	char *b = sb_take(&blk);
	char *tmp = NULL, *tmp2 = NULL, *newconf = NULL;
	if (b != NULL)
		tmp = set_socket ? comment_out(conf, "Socket") : strdup(conf);
	if (tmp != NULL)
		tmp2 = verify_only ? comment_out(tmp, "Mode") : strdup(tmp);
	/* The old KeyTable line of ours is inside the block; a KeyTable of
	 * the admin's (used above) stays where it is. */
	if (tmp2 != NULL)
		newconf = mta_put_block(tmp2, b);
	free(tmp);
	free(tmp2);
	free(b);
	old = conf;
	conf = NULL;
	if (mta_add_change(plan, OPENDKIM_CONF, old, newconf, 0644, "", "", false, err) < 0)
		goto fail;

	/* Postfix: our milter(s) on every mail path, exactly once. */
	char ours[PATH_MAX + 100], edtok[200], sbuf_t[16][PF_TARGET_MAX];
	const char *stale[17];
	stale_targets(&c, qdir, !set_socket, sbuf_t, stale, 16);
	snprintf(ours, sizeof ours, "{ %s, default_action=%s }", pf_sock, req->strict ? "tempfail" : "accept");
	snprintf(edtok, sizeof edtok, "{ " ED_SOCKET_PF ", default_action=%s }", req->strict ? "tempfail" : "accept");
	struct pf_milter m[2] = { { pf_sock, ours, stale }, { ED_SOCKET_PF, edtok, NULL } };
	old = maincf;
	maincf = NULL;
	if (pf_plan_milters_ex(req, plan, old, m, ed ? 2 : 1, &notes, err) < 0)
		goto fail;

	if (ed && plan_ed25519(req, plan, err) < 0)
		goto fail;
	/* without systemd the Ed25519 filter has no service: start it by hand */
	snprintf(plan->reload_cmd, sizeof plan->reload_cmd, "%s",
		 !ed ? "invoke-rc.d opendkim restart && invoke-rc.d postfix reload"
		 : mta_have_systemd(req->root)
			 ? "systemctl daemon-reload && systemctl enable opendkim-ed25519 && systemctl restart "
			   "opendkim opendkim-ed25519 && systemctl reload postfix"
			 : "invoke-rc.d opendkim restart && /usr/sbin/opendkim -x " ED_CONF
			   " && invoke-rc.d postfix reload");
	struct sbuf x = { 0 };
	sb_printf(&x, "Postfix signs through OpenDKIM. OpenDKIM cannot read keys in /etc/ssl/private, so the "
		      "key is copied to %s (0600 opendkim, as its RequireSafeKeys rule wants), listed in %s and "
		      "%s (" OPENDKIM_KEYDIR " becomes root:opendkim 0750, so root never writes into a directory "
		      "another user owns; dpkg-statoverride keeps that on upgrades). ",
		  copy, kt, st);
	if (set_socket)
		sb_printf(&x, "OpenDKIM listens on %s (TCP on loopback, so Postfix's chrooted smtpd reaches it)%s. ",
			  pf_sock, c.socket[0] ? ", instead of its old socket, which Postfix cannot reach" : "");
	else
		sb_printf(&x, "OpenDKIM keeps its socket (%s), which Postfix reaches as %s. ", c.socket, pf_sock);
	sb_add(&x, "Postfix passes mail to it exactly once on every path (smtpd_milters, non_smtpd_milters "
		   "and the services of master.cf with their own list), next to the milters already there, "
		   "in their order; an entry for an old address of OpenDKIM is replaced where it stands. ");
	sb_add(&x, req->strict
			   ? "If OpenDKIM is down, Postfix holds mail (tempfail) rather than send it unsigned."
			   : "If OpenDKIM is down, Postfix still sends mail, unsigned (default_action = accept "
			     "for this milter only; other milters keep their setting).");
	if (ed)
		sb_printf(&x, " Ed25519: OpenDKIM's SignatureAlgorithm is global to one filter, so a second "
			      "OpenDKIM (" ED_CONF ", service opendkim-ed25519, " ED_SOCKET_PF ") signs with "
			      "selector %s after the RSA one.", req->ed_selector);
	else if (req->ed_selector != NULL)
		sb_add(&x, " Ed25519 is not configured: this OpenDKIM cannot sign with ed25519-sha256 "
			   "(opendkim -V does not list it); mail is signed with RSA.");
	char *n = sb_take(&notes);
	if (n != NULL && n[0] != '\0')
		sb_printf(&x, " %s", n);
	free(n);
	plan->explain = sb_take(&x);
	return plan->explain ? 0 : dk_fail(err, DK_SYSERR, "out of memory");
fail:
	free(sb_take(&notes));
	free(conf);
	free(maincf);
	return -1;
}

static int opendkim_activate(const struct mta_request *req, const struct mta_plan *plan,
			     struct mta_result *res, struct dk_err *err)
{
	(void)plan;
	(void)res;
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

static int opendkim_validate(const struct mta_request *req, const struct mta_plan *plan,
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
	char out[8192], pr[300], what[200];
	const char *addrs[2] = { plan->milter_addr, ED_SOCKET_PF };
	if (req->root[0] != '\0') {
		/* the root's opendkim cannot run here; the host's postconf can read the root's Postfix */
		if (pf_check_once(req->root, addrs, plan->ed25519 ? 2 : 1, what, sizeof what, err) < 0)
			return -1;
		snprintf(res->validator, sizeof res->validator, "opendkim -n not run under --root; %s", what);
		return 0;
	}
	const char *const od[] = { "/usr/sbin/opendkim", "-n", "-x", OPENDKIM_CONF, NULL };
	int rc = mta_run(od, out, sizeof out);
	if (rc != 0)
		return dk_fail(err, DK_SYSERR, "opendkim -n rejects " OPENDKIM_CONF ": %s",
			       dk_printable(out, pr, sizeof pr));
	if (plan->ed25519) {
		const char *const od2[] = { "/usr/sbin/opendkim", "-n", "-x", ED_CONF, NULL };
		rc = mta_run(od2, out, sizeof out);
		if (rc != 0)
			return dk_fail(err, DK_SYSERR, "opendkim -n rejects " ED_CONF ": %s",
				       dk_printable(out, pr, sizeof pr));
	}
	/* postconf exits 0 even for bad parameters: read what it says. */
	const char *const pc[] = { "/usr/sbin/postconf", "-h", "smtpd_milters", "non_smtpd_milters", NULL };
	rc = mta_run(pc, out, sizeof out);
	/* a parameter Postfix does not use (a leftover, a guide's own name)
	 * is the admin's business, not a broken configuration */
	bool complaint = false;
	for (char *p = out, *nl; p != NULL && *p && !complaint; p = nl ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		complaint = (strstr(p, "warning") != NULL && strstr(p, ": unused parameter: ") == NULL) ||
			    strstr(p, "fatal") != NULL;
		if (nl != NULL)
			*nl = '\n';
	}
	if (rc != 0 || complaint)
		return dk_fail(err, DK_SYSERR, "postconf complains about main.cf: %s",
			       dk_printable(out, pr, sizeof pr));
	/* every mail path passes the filter exactly once, as Postfix reads it */
	if (pf_check_once(req->root, addrs, plan->ed25519 ? 2 : 1, what, sizeof what, err) < 0)
		return -1;
	snprintf(res->validator, sizeof res->validator,
		 "opendkim -n accepts " OPENDKIM_CONF "; %s", what);
	return 0;
}

static void opendkim_reload(const struct mta_plan *plan, struct signer_reload *out)
{
	/* OpenDKIM reads its KeyTable and Socket only when it starts; batch
	 * leaves a stopped one stopped, and the Ed25519 filter follows it. */
	if (plan->ed25519) {
		out->steps[out->n++] = (struct signer_step){ "daemon-reload", NULL, "opendkim" };
		out->steps[out->n++] = (struct signer_step){ "enable", "opendkim-ed25519", "opendkim" };
	}
	out->steps[out->n++] = (struct signer_step){ "restart", "opendkim", "opendkim" };
	if (plan->ed25519)
		out->steps[out->n++] = (struct signer_step){ "restart", "opendkim-ed25519", "opendkim" };
	out->steps[out->n++] = (struct signer_step){ "reload", "postfix", "postfix" };
}

/* Retiring a selector (it no longer signs, so the signing tables name
 * another): its KeyTable lines go, in the admin's table or ours. */
static int opendkim_forget(const char *root, const char *domain, const char *selector, struct mta_plan *plan,
			   struct dk_err *err)
{
	char *conf = NULL, keyname[DK_DOMAIN_MAX + DK_LABEL_MAX + 16];
	struct dkconf c;
	bool re;
	if (mta_read(root, OPENDKIM_CONF, &conf, err) < 0)
		return -1;
	dkconf_read(root, conf != NULL ? conf : "", &c);
	free(conf);
	snprintf(keyname, sizeof keyname, "%s._domainkey.%s", selector, domain);
	const char *tables[] = { c.keytable[0] ? table_path(c.keytable, &re) : DEF_KEYTABLE, ED_KEYTABLE };
	for (size_t i = 0; i < 2; i++) {
		char *old = NULL, *nt;
		if (tables[i] == NULL || mta_read(root, tables[i], &old, err) < 0)
			continue;
		if (old == NULL)
			continue;
		nt = table_put(old, keyname, NULL);
		if (nt != NULL && strcmp(nt, old) == 0) {
			free(nt);
			free(old);
			continue;
		}
		if (mta_add_change(plan, tables[i], old, nt, 0644, "", "", false, err) < 0)
			return -1;
	}
	return 0;
}

static int opendkim_key_copy(const char *domain, const char *selector, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, OPENDKIM_COPY_FMT, domain, selector);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int opendkim_preference(const char *root)
{
	(void)root;
	return 1;   /* Postfix's signer unless another one is here */
}

const struct signer signer_opendkim = {
	.name = "postfix",
	.mta = "Postfix",
	.mta_found = pf_found,
	.preference = opendkim_preference,
	.detect = opendkim_detect,
	.plan = opendkim_plan,
	.validate = opendkim_validate,
	.activate = opendkim_activate,
	.reload = opendkim_reload,
	.selectors = opendkim_selectors,
	.key_copy = opendkim_key_copy,
	.forget = opendkim_forget,
	.prove = prove_opendkim,
};
