/* signer_rspamd.c: the Postfix + rspamd signer (Debian's rspamd 3.4).
 *
 * Choices, explained on screen too:
 * - rspamd's dkim_signing module is configured in
 *   /etc/rspamd/local.d/dkim_signing.conf, a file that is wholly ours
 *   (rspamd merges local.d over its defaults; override.d would win over
 *   it, so one there is somebody else's setup and we refuse).
 * - Keys: /etc/rspamd/dkim/<domain>.<selector>.key, 0640 root:_rspamd in a
 *   0750 root:_rspamd directory. Debian's /var/lib/rspamd belongs to
 *   _rspamd, and root must not write below a directory another user
 *   controls (it could swap names under us); rspamd reads the key as
 *   _rspamd through its group, as Exim does.
 * - Postfix sends smtpd and non_smtpd (sendmail) mail through rspamd's
 *   proxy worker, a milter on localhost:11332 in Debian's configuration,
 *   listed next to the milters already there.
 * - RSA and Ed25519 from one configuration: a domain lists both selectors
 *   and rspamd adds one signature per key.
 * - Signing follows the From: header domain (allow_hdrfrom_mismatch), as
 *   Exim and OpenDKIM do here: a web shop's mail(), whose envelope sender
 *   is www-data@host, is signed too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "postfix_cf.h"
#include "prove_signer.h"
#include "signer.h"
#include "signer_util.h"

#define RSPAMD_BIN "/usr/bin/rspamd"
#define RSPAMADM "/usr/bin/rspamadm"
#define RSPAMD_CONF "/etc/rspamd/local.d/dkim_signing.conf"
#define RSPAMD_OVERRIDE "/etc/rspamd/override.d/dkim_signing.conf"
#define RSPAMD_KEYDIR "/etc/rspamd/dkim"
#define RSPAMD_COPY_FMT RSPAMD_KEYDIR "/%s.%s.key"
#define RSPAMD_GROUP "_rspamd"
/* Debian's proxy worker binds localhost:11332; the address, not the name:
 * "localhost" may resolve to ::1 first, which a Postfix with
 * inet_protocols = ipv4 cannot reach. */
#define RSPAMD_MILTER "inet:127.0.0.1:11332"
#define RSPAMD_MILTER_NAMED "inet:localhost:11332"
#define RSPAMD_HEAD "# Written by dkim-setup (rewritten on each run): rspamd's DKIM signing.\n"

/* ---- our configuration: "# domain: D SEL..." lines, then UCL ---- */

static int read_doms(const char *text, struct mta_domlist *l, struct dk_err *err)
{
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char dom[DK_DOMAIN_MAX + 2], sels[200];
		if (sscanf(p, "# domain: %254s %199[^\n]", dom, sels) == 2 && mta_domlist_put(l, dom, sels, RSPAMD_CONF, err) < 0)
			return -1;
	}
	return 0;
}

static char *conf_text(const struct mta_domlist *l)
{
	struct sbuf b = { 0 };
	sb_add(&b, RSPAMD_HEAD);
	for (size_t i = 0; i < l->n; i++)
		sb_printf(&b, "# domain: %s %s\n", l->d[i].domain, l->d[i].sels);
	sb_add(&b, "# Mail whose From: domain is listed is signed with each selector's key in\n"
		   "# " RSPAMD_KEYDIR "/ (read by _rspamd through its group).\n"
		   "enabled = true;\n"
		   "sign_authenticated = true;\n"
		   "sign_local = true;\n"
		   "use_domain = \"header\";\n"
		   "use_esld = false;\n"
		   "allow_hdrfrom_mismatch = true;\n"
		   "allow_username_mismatch = true;\n"
		   "domain {\n");
	for (size_t i = 0; i < l->n; i++) {
		sb_printf(&b, "  \"%s\" {\n    selectors = [\n", l->d[i].domain);
		char sels[sizeof l->d[i].sels], *save = NULL;
		snprintf(sels, sizeof sels, "%s", l->d[i].sels);
		for (char *s = strtok_r(sels, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save))
			sb_printf(&b, "      { selector = \"%s\"; path = \"" RSPAMD_COPY_FMT "\"; },\n", s,
				  l->d[i].domain, s);
		sb_add(&b, "    ];\n  }\n");
	}
	sb_add(&b, "}\n");
	return sb_take(&b);
}

/* ---- detection ---- */

static bool installed(const char *root)
{
	return fs_exists(root, RSPAMD_BIN) == 1;
}

static const char *const opendkim_milters[] = { ":8891", ":8892", "opendkim", NULL };

static int rspamd_preference(const char *root)
{
	/* Already signing, or installed where OpenDKIM does not sign yet:
	 * rspamd, never OpenDKIM beside it. */
	char where[200];
	static const char *const ours[] = { ":11332", NULL };
	if (fs_exists(root, RSPAMD_CONF) == 1 || fs_exists(root, RSPAMD_OVERRIDE) == 1 ||
	    pf_milter_listed(root, ours, where, sizeof where))
		return 2;
	if (installed(root) && !pf_milter_listed(root, opendkim_milters, where, sizeof where))
		return 2;
	return 0;
}

static int rspamd_detect(const char *root, struct mta_info *info, struct dk_err *err)
{
	info->flavor = MTA_FL_RSPAMD;
	info->ed25519_ok = true;   /* rspamd 3.4 signs with Ed25519 keys */
	if (fs_exists(root, PF_MAIN_CF) != 1) {
		snprintf(info->summary, sizeof info->summary, "Postfix + rspamd, but no " PF_MAIN_CF);
		snprintf(info->warning, sizeof info->warning, "no " PF_MAIN_CF ": is postfix installed?");
		return 0;
	}
	info->has_signer = installed(root);
	if (!info->has_signer) {
		snprintf(info->summary, sizeof info->summary, "Postfix without rspamd");
		snprintf(info->warning, sizeof info->warning,
			 "rspamd is not installed: apt install rspamd, then run dkim-setup again");
		return 0;
	}
	char *conf = NULL;
	if (mta_read(root, RSPAMD_CONF, &conf, err) < 0)
		return -1;
	bool have = conf != NULL, ours = have && strncmp(conf, RSPAMD_HEAD, strlen(RSPAMD_HEAD)) == 0;
	free(conf);
	snprintf(info->summary, sizeof info->summary, "Postfix%s with rspamd (milter %s; %s)",
		 pf_smtpd_chrooted(root) ? " (smtpd chrooted)" : "", RSPAMD_MILTER,
		 !have ? "not signing yet" : ours ? "signing set up by dkim-setup" : "signing set up by hand");
	char where[200];
	if (have && !ours)
		snprintf(where, sizeof where, RSPAMD_CONF);
	else if (fs_exists(root, RSPAMD_OVERRIDE) == 1)
		snprintf(where, sizeof where, RSPAMD_OVERRIDE);
	else if (pf_milter_listed(root, opendkim_milters, where, sizeof where)) {
		snprintf(info->warning, sizeof info->warning,
			 "OpenDKIM is on Postfix's mail path too (%s): rspamd beside it would be a second "
			 "signer. Remove OpenDKIM's milter first if rspamd should sign", where);
		info->refused = true;
		return 0;
	} else {
		info->can_sign = true;
		return 0;
	}
	snprintf(info->warning, sizeof info->warning,
		 "rspamd already has DKIM signing settings that dkim-setup did not write (%s); they are "
		 "left alone: remove them first if dkim-setup should manage signing", where);
	info->refused = true;
	return 0;
}

/* ---- plan ---- */

/* rspamd 3.4 loads PEM keys as RSA only: its Ed25519 copy is in its own
 * form (keygen_ed25519_raw), which check also reads. */
static int add_ed_copy(const struct mta_request *req, struct mta_plan *plan, const char *copy,
		       struct dk_err *err)
{
	char *pem = NULL, *raw = NULL, *old = NULL;
	size_t len = 0, rlen = 0;
	EVP_PKEY *k = NULL;
	if (mta_master_key(req, req->ed_priv_path, DK_ALG_ED25519, &pem, &len, err) < 0)
		return -1;
	int rc = 0;
	if (req->dry_run && fs_exists(req->root, req->ed_priv_path) != 1)
		raw = pem, rlen = len, pem = NULL;   /* the dry run's stand-in */
	else
		rc = keygen_load_private(pem, len, &k, err) < 0 || keygen_ed25519_raw(k, &raw, &rlen, err) < 0
			     ? -1 : 0;
	EVP_PKEY_free(k);
	keygen_secret_free(pem, len);
	if (rc == 0 && mta_read(req->root, copy, &old, err) < 0)
		rc = -1;
	if (rc < 0) {
		keygen_secret_free(raw, rlen);
		return -1;
	}
	return mta_add_change(plan, copy, old, raw, 0640, "", RSPAMD_GROUP, true, err);
}

static int rspamd_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	bool ed = req->ed_selector != NULL && req->ed_priv_path != NULL;
	plan->ed25519 = ed;
	if (mta_add_dir(plan, RSPAMD_KEYDIR, 0750, "", RSPAMD_GROUP, true, err) < 0 ||
	    mta_add_dir(plan, "/etc/rspamd/local.d", 0755, "", "", false, err) < 0)
		return -1;
	char copy[PATH_MAX];
	snprintf(copy, sizeof copy, RSPAMD_COPY_FMT, req->domain, req->selector);
	if (mta_add_key_copy(req, plan, req->priv_path, copy, DK_ALG_RSA, "", RSPAMD_GROUP, 0640, true,
			     err) < 0)
		return -1;
	if (ed) {
		snprintf(copy, sizeof copy, RSPAMD_COPY_FMT, req->domain, req->ed_selector);
		if (add_ed_copy(req, plan, copy, err) < 0)
			return -1;
	}

	char *old = NULL, sels[2 * DK_LABEL_MAX + 2];
	struct mta_domlist doms = { 0 };
	if (mta_read(req->root, RSPAMD_CONF, &old, err) < 0)
		return -1;
	if (ed)
		snprintf(sels, sizeof sels, "%s %s", req->selector, req->ed_selector);
	else
		snprintf(sels, sizeof sels, "%s", req->selector);
	char keep[1024];
	if (read_doms(old, &doms, err) < 0 ||
	    (!mta_domlist_keep(req, &doms, false, plan, keep, sizeof keep) &&
	     mta_domlist_put(&doms, req->domain, sels, RSPAMD_CONF, err) < 0)) {
		free(doms.d);
		free(old);
		return -1;
	}
	char *text = conf_text(&doms);
	free(doms.d);
	if (mta_add_change(plan, RSPAMD_CONF, old, text, 0644, "", "", false, err) < 0)
		return -1;

	char *maincf = NULL;
	if (mta_read(req->root, PF_MAIN_CF, &maincf, err) < 0)
		return -1;
	if (maincf == NULL && (maincf = strdup("")) == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	char tok[200];
	snprintf(tok, sizeof tok, "{ " RSPAMD_MILTER ", default_action=%s }", req->strict ? "tempfail" : "accept");
	/* an admin's "localhost" entry for rspamd becomes ours, where it was */
	const char *const names[] = { RSPAMD_MILTER_NAMED, RSPAMD_MILTER }, *const toks[] = { tok, tok };
	if (pf_plan_milters(req, plan, maincf, names, toks, 2, err) < 0)
		return -1;

	snprintf(plan->reload_cmd, sizeof plan->reload_cmd,
		 "invoke-rc.d rspamd reload && invoke-rc.d postfix reload");
	struct sbuf x = { 0 };
	sb_printf(&x, "Postfix signs through rspamd: its dkim_signing module is set up in " RSPAMD_CONF
		      " (a file of dkim-setup's own), mail with From: @%s is signed with selector %s%s%s. "
		      "The key is copied to " RSPAMD_KEYDIR "/ (0640 root:_rspamd; rspamd's own "
		      "/var/lib/rspamd belongs to _rspamd, and root never writes into a directory another "
		      "user owns). Postfix passes smtpd and sendmail mail to rspamd's proxy worker, "
		      RSPAMD_MILTER ", added to smtpd_milters and non_smtpd_milters next to any milters "
		      "already there. ",
		  req->domain, req->selector, ed ? " and the Ed25519 selector " : "", ed ? req->ed_selector : "");
	sb_add(&x, keep);
	sb_add(&x, req->strict ? "If rspamd is down, Postfix holds mail (tempfail) rather than send it unsigned."
			       : "If rspamd is down, Postfix still sends mail, unsigned (default_action = accept "
				 "for this milter only).");
	plan->explain = sb_take(&x);
	return plan->explain ? 0 : dk_fail(err, DK_SYSERR, "out of memory");
}

/* ---- validate, reload, what is configured ---- */

static int rspamd_validate(const struct mta_request *req, const struct mta_plan *plan,
			   struct mta_result *res, struct dk_err *err)
{
	if (mta_check_plan_keys(req, plan, RSPAMD_GROUP, res, err) < 0)
		return -1;
	if (req->root[0] != '\0') {
		snprintf(res->validator, sizeof res->validator,
			 "not run under --root (rspamadm and postconf read the real /etc)");
		return 0;
	}
	char out[8192], pr[300];
	const char *const ct[] = { RSPAMADM, "configtest", NULL };
	int rc = mta_run(ct, out, sizeof out);
	if (rc != 0 || strstr(out, "syntax OK") == NULL) {
		mta_tail_line(out, res->validator, sizeof res->validator);
		return dk_fail(err, DK_SYSERR, "rspamadm configtest rejects the configuration: %s",
			       res->validator);
	}
	/* configtest passes a module that ignores us: ask for what it read */
	const char *const cd[] = { RSPAMADM, "configdump", "dkim_signing", NULL };
	rc = mta_run(cd, out, sizeof out);
	if (rc != 0 || strstr(out, req->domain) == NULL) {
		snprintf(res->validator, sizeof res->validator, "rspamadm configdump dkim_signing lacks %s",
			 req->domain);
		return dk_fail(err, DK_SYSERR, "rspamd does not read the signing settings for %s from "
			       RSPAMD_CONF " (rspamadm configdump dkim_signing)", req->domain);
	}
	const char *const pc[] = { "/usr/sbin/postconf", "-h", "smtpd_milters", "non_smtpd_milters", NULL };
	rc = mta_run(pc, out, sizeof out);
	if (rc != 0 || strstr(out, "warning") != NULL || strstr(out, "fatal") != NULL)
		return dk_fail(err, DK_SYSERR, "postconf complains about main.cf: %s",
			       dk_printable(out, pr, sizeof pr));
	if (strstr(out, RSPAMD_MILTER) == NULL)
		return dk_fail(err, DK_SYSERR, "postconf does not show rspamd's milter in smtpd_milters");
	snprintf(res->validator, sizeof res->validator,
		 "rspamadm configtest: syntax OK; rspamd reads the signing settings for %s; postconf "
		 "reads the milters without complaint", req->domain);
	return 0;
}

static void rspamd_reload(const struct mta_plan *plan, struct signer_reload *out)
{
	(void)plan;
	out->steps[out->n++] = (struct signer_step){ "reload", "rspamd", "rspamd" };
	out->steps[out->n++] = (struct signer_step){ "reload", "postfix", "postfix" };
}

static void rspamd_selectors(const char *root, const struct mta_info *info, const char *domain,
			     char *out, size_t outlen)
{
	char *text = NULL;
	struct dk_err e;
	struct mta_domlist l = { 0 };
	(void)info;
	out[0] = '\0';
	if (mta_read(root, RSPAMD_CONF, &text, &e) == 0 && text != NULL &&
	    strncmp(text, RSPAMD_HEAD, strlen(RSPAMD_HEAD)) == 0 && read_doms(text, &l, &e) == 0)
		for (size_t i = 0; i < l.n; i++)
			if (strcmp(l.d[i].domain, domain) == 0)
				snprintf(out, outlen, "%s", l.d[i].sels);
	free(l.d);
	free(text);
}

static int rspamd_key_copy(const char *domain, const char *selector, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, RSPAMD_COPY_FMT, domain, selector);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const struct signer signer_rspamd = {
	.name = "rspamd",
	.mta = "Postfix",
	.mta_found = pf_found,
	.preference = rspamd_preference,
	.detect = rspamd_detect,
	.plan = rspamd_plan,
	.validate = rspamd_validate,
	.activate = NULL,
	.reload = rspamd_reload,
	.selectors = rspamd_selectors,
	.key_copy = rspamd_key_copy,
	.prove = prove_rspamd,
};
