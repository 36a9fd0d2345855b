/* signer_exim.c: the Exim signer. Exim on Debian (exim4, split or
 * unsplit) and a plain exim.conf. Debian's remote_smtp transport reads the
 * DKIM_* macros; we write them as one delimited block in the file the
 * layout really reads. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "signer.h"
#include "prove_signer.h"
#include "signer_util.h"

/* Where Exim reads its copy of a key (DESIGN.md, "the signer's copy"). */
#define EXIM_KEYDIR "/etc/exim4/dkim"
#define EXIM_COPY_FMT EXIM_KEYDIR "/%s-%s-private.pem"
#define EXIM_GROUP "Debian-exim"
#define EXIM_UNSPLIT_MACROS "/etc/exim4/exim4.conf.localmacros"
#define EXIM_SPLIT_MACROS "/etc/exim4/conf.d/main/000_localmacros"
#define EXIM_PLAIN_FRAGMENT "/etc/exim4/dkim/dkim-setup-transport.conf"
#define EXIM_DOMAINS EXIM_KEYDIR "/domains"
#define EXIM_BIN "/usr/sbin/exim4"
#define SMARTHOST_DEBIAN "/etc/exim4/conf.d/transport/30_exim4-config_remote_smtp_smarthost"
#define SMARTHOST_RUL SMARTHOST_DEBIAN ".rul"
#define UPDATE_EXIM "/usr/sbin/update-exim4.conf"

/* The value of NAME='value' in Debian's update-exim4.conf.conf. */
static void conf_value(const char *text, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		const char *v = p + n + 1;
		char q = (*v == '\'' || *v == '"') ? *v++ : '\0';
		size_t k = 0;
		while (*v && *v != '\n' && (q ? *v != q : !isspace((unsigned char)*v)) && k + 1 < outlen)
			out[k++] = *v++;
		out[k] = '\0';
	}
}

/* A DKIM setting of somebody else: a DKIM_* macro outside our block, or a
 * dkim_private_key option that is not Debian's macro hook. */
static bool foreign_dkim(const char *text, char *where, size_t wlen, const char *file)
{
	bool in_ours = false;
	int lineno = 0;
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		lineno++;
		if (strncmp(p, MTA_BEGIN, strlen(MTA_BEGIN)) == 0)
			in_ours = true;
		else if (strncmp(p, MTA_END, strlen(MTA_END)) == 0)
			in_ours = false;
		if (in_ours)
			continue;
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		bool hit = false;
		if (strncmp(q, "DKIM_", 5) == 0) {
			const char *r = q + 5;
			while (isupper((unsigned char)*r) || *r == '_')
				r++;
			while (*r == ' ' || *r == '\t')
				r++;
			hit = *r == '=';
		} else if (strncmp(q, "dkim_private_key", 16) == 0) {
			const char *r = q + 16;
			while (*r == ' ' || *r == '\t')
				r++;
			if (*r == '=') {
				r++;
				while (*r == ' ' || *r == '\t')
					r++;
				hit = strncmp(r, "DKIM_PRIVATE_KEY", 16) != 0;
			}
		}
		if (hit) {
			snprintf(where, wlen, "%s line %d", file, lineno);
			return true;
		}
	}
	return false;
}

static bool scan_foreign(const char *root, const char *path, char *where, size_t wlen)
{
	char *text = NULL;
	struct dk_err e;
	if (mta_read(root, path, &text, &e) < 0 || text == NULL)
		return false;
	bool hit = foreign_dkim(text, where, wlen, path);
	free(text);
	return hit;
}

static bool scan_dir_foreign(const char *root, const char *dir, char *where, size_t wlen)
{
	int n = fs_list(root, dir, "", NULL, 0);
	char (*names)[NAME_MAX + 1] = n > 0 ? calloc((size_t)n, sizeof *names) : NULL;
	if (names == NULL || fs_list(root, dir, "", names, n) != n)
		n = 0;
	bool hit = false;
	for (int i = 0; i < n && !hit; i++) {
		char path[PATH_MAX];
		/* update-exim4.conf reads only names of [[:alnum:]_-]. */
		if (strchr(names[i], '.') != NULL)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		hit = scan_foreign(root, path, where, wlen);
	}
	free(names);
	return hit;
}

static bool exim_ed25519(const char *root)
{
	if (root[0] != '\0')
		return true;   /* Debian's 4.96 builds have it; nothing to ask under --root */
	char out[256];
	const char *const argv[] = { EXIM_BIN, "-bP", "macro", "_CRYPTO_SIGN_ED25519", NULL };
	return mta_run(argv, out, sizeof out) == 0 && strstr(out, "=y") != NULL;
}

static int exim_detect(const char *root, struct mta_info *info, struct dk_err *err)
{
	char where[PATH_MAX + 32];
	info->ed25519_ok = exim_ed25519(root);
	/* Debian's exim4 prefers a hand-written /etc/exim4/exim4.conf to the
	 * generated one; a non-Debian Exim reads /etc/exim/exim.conf. */
	if (fs_exists(root, "/etc/exim4/exim4.conf") == 1 || (fs_exists(root, "/etc/exim/exim.conf") == 1 &&
							      fs_exists(root, "/etc/exim4/update-exim4.conf.conf") != 1)) {
		info->flavor = MTA_FL_EXIM_PLAIN;
		info->can_sign = true;
		snprintf(info->summary, sizeof info->summary, "Exim with a hand-written configuration file");
		snprintf(info->warning, sizeof info->warning,
			 "your own Exim configuration: dkim-setup writes the transport options to "
			 EXIM_PLAIN_FRAGMENT " and you add one .include line to your remote smtp transport");
		return 0;
	}
	char *conf = NULL;
	if (mta_read(root, "/etc/exim4/update-exim4.conf.conf", &conf, err) < 0)
		return -1;
	if (conf == NULL) {
		snprintf(info->summary, sizeof info->summary, "Exim, configuration not found");
		snprintf(info->warning, sizeof info->warning,
			 "no /etc/exim4/update-exim4.conf.conf and no exim.conf: is exim4-config installed?");
		return 0;
	}
	char split[16];
	conf_value(conf, "dc_use_split_config", split, sizeof split);
	conf_value(conf, "dc_eximconfig_configtype", info->configtype, sizeof info->configtype);
	free(conf);
	bool is_split = strcmp(split, "true") == 0;
	info->flavor = is_split ? MTA_FL_EXIM_SPLIT : MTA_FL_EXIM_UNSPLIT;
	snprintf(info->summary, sizeof info->summary, "Exim 4 (Debian, %s config, %s)",
		 is_split ? "split" : "unsplit", info->configtype[0] ? info->configtype : "type unknown");

	const char *type = info->configtype;
	bool smarthost = strcmp(type, "smarthost") == 0 || strcmp(type, "satellite") == 0;
	if (smarthost && !is_split) {
		/* Debian 4.96's remote_smtp_smarthost has no dkim_* options: the
		 * macros would be ignored and mail would leave unsigned. The unsplit
		 * template is one file we do not rewrite behind the package. */
		snprintf(info->warning, sizeof info->warning,
			 "Exim is a %s: Debian's remote_smtp_smarthost transport has no DKIM options, so "
			 "mail would leave unsigned. dkim-setup does not rewrite Debian's one-file template: "
			 "switch to the split configuration (dc_use_split_config='true'), where dkim-setup "
			 "adds them, or add to remote_smtp_smarthost: dkim_domain = DKIM_DOMAIN, dkim_selector "
			 "= DKIM_SELECTOR, dkim_private_key = DKIM_PRIVATE_KEY, dkim_canon = DKIM_CANON", type);
		info->refused = true;
		return 0;
	}
	if (smarthost) {
		snprintf(info->warning, sizeof info->warning,
			 "Exim is a %s: Debian's remote_smtp_smarthost transport has no DKIM options, so "
			 "dkim-setup adds them in " SMARTHOST_RUL ", a copy of Debian's file that "
			 "update-exim4.conf uses instead of it. After exim4-config upgrades, compare it with "
			 "the packaged file (dkim-setup refreshes it on its next run).", type);
	}
	if (!smarthost && strcmp(type, "internet") != 0 && strcmp(type, "local") != 0) {
		snprintf(info->warning, sizeof info->warning,
			 "dc_eximconfig_configtype is '%s': dkim-setup handles 'internet' (and 'local')",
			 type[0] ? type : "(empty)");
		info->refused = true;
		return 0;
	}
	bool foreign = is_split ? scan_dir_foreign(root, "/etc/exim4/conf.d/main", where, sizeof where) ||
					  scan_dir_foreign(root, "/etc/exim4/conf.d/transport", where, sizeof where) ||
					  scan_foreign(root, SMARTHOST_RUL, where, sizeof where)
				: scan_foreign(root, EXIM_UNSPLIT_MACROS, where, sizeof where) ||
					  scan_foreign(root, "/etc/exim4/exim4.conf.template", where, sizeof where);
	if (foreign) {
		snprintf(info->warning, sizeof info->warning,
			 "Exim already has DKIM settings that dkim-setup did not write (%s); they are left "
			 "alone: remove them first if dkim-setup should manage signing", where);
		info->refused = true;
		return 0;
	}
	info->can_sign = true;
	if (strcmp(type, "local") == 0)
		snprintf(info->warning, sizeof info->warning,
			 "Exim is set up for local delivery only: the signing settings take effect once it "
			 "sends mail out ('internet' in dpkg-reconfigure exim4-config)");
	return 0;
}

/* The domains Exim signs for: EXIM_DOMAINS, an lsearch file of
 * "domain: sel [: sel]" lines that the macros block looks up. A lookup
 * result (and ret=key) is untainted, so the key path built from it is
 * accepted by Exim 4.94+; one file scales to any number of domains. */
/* "domain: sels" lines of the domains file, or the "# domain: D S1 S2"
 * lines of the block that older versions wrote (moved to the file). */
static int read_domains(const char *text, bool old_block, struct mta_domlist *l, struct dk_err *err)
{
	const char *p = text, *end = text ? text + strlen(text) : NULL;
	if (text != NULL && old_block) {
		p = strstr(text, MTA_BEGIN);
		end = p ? strstr(p, MTA_END) : NULL;
		if (end == NULL)
			return 0;
	}
	for (; p != NULL && p < end; p = strchr(p, '\n'), p = p ? p + 1 : end) {
		char dom[DK_DOMAIN_MAX + 2], rest[200], sels[200] = "";
		size_t k = 0;
		if (old_block ? sscanf(p, "# domain: %254s %199[^\n]", dom, rest) != 2
			      : (*p == '#' || sscanf(p, "%254[^: \t\n]: %199[^\n]", dom, rest) != 2))
			continue;
		/* old form "ed1 rsa1" -> "ed1 : rsa1" */
		for (const char *s = rest; *s && k + 4 < sizeof sels; s++) {
			if (old_block && *s == ' ') {
				memcpy(sels + k, " : ", 3);
				k += 3;
			} else {
				sels[k++] = *s;
			}
		}
		sels[k] = '\0';
		if (mta_domlist_put(l, dom, sels, EXIM_DOMAINS, err) < 0)
			return -1;
	}
	return 0;
}

static char *domains_text(const struct mta_domlist *l)
{
	struct sbuf b = { 0 };
	sb_add(&b, "# Written by dkim-setup (rewritten on each run): the domains Exim signs for,\n"
		   "# with the selector(s) of each; looked up by the DKIM_* macros (lsearch).\n");
	for (size_t i = 0; i < l->n; i++)
		sb_printf(&b, "%s: %s\n", l->d[i].domain, l->d[i].sels);
	return sb_take(&b);
}

static char *exim_block(bool strict)
{
	struct sbuf b = { 0 };
	sb_add(&b, MTA_BEGIN ": DKIM signing (rewritten by dkim-setup on each run)\n"
		   "# Mail whose From: domain is listed in " EXIM_DOMAINS " is signed with the\n"
		   "# selector(s) listed there and the keys in " EXIM_KEYDIR "/. The domain and\n"
		   "# the selectors come from that file (lookup results), never from the message,\n"
		   "# so Exim 4.94+ accepts the key path built from them (no tainted file names).\n"
		   "DKIM_DOMAIN = ${lookup{${lc:${domain:$rh_from:}}}lsearch,ret=key{" EXIM_DOMAINS "}}\n"
		   "DKIM_SELECTOR = ${lookup{$dkim_domain}lsearch{" EXIM_DOMAINS "}}\n"
		   "DKIM_PRIVATE_KEY = " EXIM_KEYDIR "/${dkim_domain}-${dkim_selector}-private.pem\n"
		   "DKIM_CANON = relaxed\n");
	if (strict)
		sb_add(&b, "# strict: if a key cannot be used, mail is held (deferred), never sent unsigned.\n"
			   "DKIM_STRICT = true\n");
	else
		sb_add(&b, "# not strict: if a key cannot be used, mail still goes out, unsigned, and Exim\n"
			   "# logs why. dkim-setup checked that Exim can read the keys.\n"
			   "DKIM_STRICT = false\n");
	sb_add(&b, MTA_END "\n");
	return sb_take(&b);
}

/* The domains list as it is now: the file, else the old block's lines. */
static int current_domains(const char *root, const char *macros_text, struct mta_domlist *l,
			   char **file_text, struct dk_err *err)
{
	*file_text = NULL;
	if (mta_read(root, EXIM_DOMAINS, file_text, err) < 0)
		return -1;
	return *file_text != NULL ? read_domains(*file_text, false, l, err)
				  : read_domains(macros_text, true, l, err);
}

static int exim_plain_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	char copy[PATH_MAX];
	if (mta_add_dir(plan, EXIM_KEYDIR, 0750, "", EXIM_GROUP, true, err) < 0)
		return -1;
	snprintf(copy, sizeof copy, EXIM_COPY_FMT, req->domain, req->selector);
	if (mta_add_key_copy(req, plan, req->priv_path, copy, DK_ALG_RSA, "", EXIM_GROUP, 0640, true, err) < 0)
		return -1;
	char *old = NULL;
	if (mta_read(req->root, EXIM_PLAIN_FRAGMENT, &old, err) < 0)
		return -1;
	struct sbuf b = { 0 };
	sb_add(&b, "# dkim-setup: DKIM options for your remote smtp transport.\n"
		   "# Add this line inside that transport (after `driver = smtp`):\n"
		   "#   .include " EXIM_PLAIN_FRAGMENT "\n");
	sb_printf(&b, "dkim_domain = ${if eqi{${domain:$rh_from:}}{%s}{%s}{}}\n", req->domain, req->domain);
	sb_printf(&b, "dkim_selector = %s\n", req->selector);
	sb_printf(&b, "dkim_private_key = " EXIM_KEYDIR "/%s-${dkim_selector}-private.pem\n", req->domain);
	sb_add(&b, "dkim_canon = relaxed\n");
	sb_printf(&b, "dkim_strict = %s\n", req->strict ? "true" : "false");
	if (mta_add_change(plan, EXIM_PLAIN_FRAGMENT, old, sb_take(&b), 0644, "", "", false, err) < 0)
		return -1;
	snprintf(plan->reload_cmd, sizeof plan->reload_cmd,
		 "add `.include " EXIM_PLAIN_FRAGMENT "` to your remote smtp transport, then reload Exim");
	plan->explain = strdup("Your Exim uses its own configuration file, which dkim-setup does not edit. "
			       "It writes the signer's copy of the key and the transport options to "
			       EXIM_PLAIN_FRAGMENT "; add one .include line for that file inside your remote smtp "
			       "transport and reload Exim.");
	return plan->explain ? 0 : dk_fail(err, DK_SYSERR, "out of memory");
}

static void exim_selectors(const char *root, const struct mta_info *info, const char *domain, char *out,
			   size_t outlen)
{
	char *macros = NULL, *file = NULL;
	struct dk_err e;
	struct mta_domlist l = { 0 };
	out[0] = '\0';
	if (info->flavor == MTA_FL_EXIM_PLAIN)
		return;   /* the admin's own file: nothing of ours to read */
	if (mta_read(root, info->flavor == MTA_FL_EXIM_SPLIT ? EXIM_SPLIT_MACROS : EXIM_UNSPLIT_MACROS,
		     &macros, &e) == 0 && current_domains(root, macros, &l, &file, &e) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			if (strcmp(l.d[i].domain, domain) != 0)
				continue;
			/* "ed1 : rsa1" -> "ed1 rsa1" */
			size_t k = 0;
			for (const char *s = l.d[i].sels; *s && k + 1 < outlen; s++)
				if (*s != ':' && !(*s == ' ' && (k == 0 || out[k - 1] == ' ')))
					out[k++] = *s;
			while (k > 0 && out[k - 1] == ' ')
				k--;
			out[k] = '\0';
		}
	}
	free(l.d);
	free(macros);
	free(file);
}

static bool is_smarthost(const struct mta_info *info)
{
	return strcmp(info->configtype, "smarthost") == 0 || strcmp(info->configtype, "satellite") == 0;
}

#define RUL_HEAD "# Written by dkim-setup: Debian's remote_smtp_smarthost with DKIM options.\n" \
	"# update-exim4.conf uses this file instead of 30_exim4-config_remote_smtp_smarthost;\n" \
	"# dkim-setup rebuilds it from Debian's file on every run.\n"

static const char smarthost_block[] =
	MTA_BEGIN ": DKIM options (Debian's smarthost transport has none)\n"
	".ifdef DKIM_DOMAIN\n  dkim_domain = DKIM_DOMAIN\n.endif\n"
	".ifdef DKIM_SELECTOR\n  dkim_selector = DKIM_SELECTOR\n.endif\n"
	".ifdef DKIM_PRIVATE_KEY\n  dkim_private_key = DKIM_PRIVATE_KEY\n.endif\n"
	".ifdef DKIM_CANON\n  dkim_canon = DKIM_CANON\n.endif\n"
	".ifdef DKIM_STRICT\n  dkim_strict = DKIM_STRICT\n.endif\n"
	MTA_END "\n";

/* The smarthost transport with our block after its `driver = smtp` line:
 * from Debian's file, or from an override (.rul) of the admin's own. */
static int plan_smarthost(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	char *rul = NULL, *deb = NULL;
	if (mta_read(req->root, SMARTHOST_RUL, &rul, err) < 0)
		return -1;
	bool ours = rul != NULL && strncmp(rul, RUL_HEAD, strlen(RUL_HEAD)) == 0;
	if (rul == NULL || ours) {
		if (mta_read(req->root, SMARTHOST_DEBIAN, &deb, err) < 0) {
			free(rul);
			return -1;
		}
		if (deb == NULL) {
			free(rul);
			return dk_fail(err, DK_SYSERR, SMARTHOST_DEBIAN " is missing: is exim4-config installed?");
		}
	}
	const char *src = deb != NULL ? deb : rul;
	if (mta_block_ok(src, deb != NULL ? SMARTHOST_DEBIAN : SMARTHOST_RUL, err) < 0) {
		free(rul);
		free(deb);
		return -1;
	}
	struct sbuf b = { 0 };
	if (deb != NULL)
		sb_add(&b, RUL_HEAD);
	if (strstr(src, MTA_BEGIN) != NULL) {
		char *t = mta_put_block(src, smarthost_block);
		sb_add(&b, t ? t : "");
		free(t);
	} else {
		const char *p, *at = NULL;
		for (p = src; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			const char *q = p + strspn(p, " \t");
			if (strncmp(q, "driver", 6) == 0 && strstr(q, "smtp") != NULL &&
			    strstr(q, "smtp") < (strchr(q, '\n') ? strchr(q, '\n') : q + strlen(q))) {
				at = strchr(q, '\n');
				break;
			}
		}
		if (at == NULL) {
			free(rul);
			free(deb);
			free(sb_take(&b));
			return dk_fail(err, DK_SYSERR, "no `driver = smtp` line in the smarthost transport");
		}
		sb_addn(&b, src, (size_t)(at + 1 - src));
		sb_add(&b, smarthost_block);
		sb_add(&b, at + 1);
	}
	free(deb);
	return mta_add_change(plan, SMARTHOST_RUL, rul, sb_take(&b), 0644, "", "", false, err);
}

static int exim_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	if (plan->info.flavor == MTA_FL_EXIM_PLAIN)
		return exim_plain_plan(req, plan, err);
	const char *macros = plan->info.flavor == MTA_FL_EXIM_SPLIT ? EXIM_SPLIT_MACROS : EXIM_UNSPLIT_MACROS;
	bool ed = req->ed_selector != NULL && req->ed_priv_path != NULL;
	char note[256] = "";
	if (ed && !plan->info.ed25519_ok) {
		ed = false;
		snprintf(note, sizeof note, " This Exim cannot sign with Ed25519 (exim -bP macro "
			 "_CRYPTO_SIGN_ED25519 is not =y), so only the RSA key is used.");
	}
	plan->ed25519 = ed;

	if (mta_add_dir(plan, EXIM_KEYDIR, 0750, "", EXIM_GROUP, true, err) < 0 ||
	    (plan->info.flavor == MTA_FL_EXIM_SPLIT &&
	     mta_add_dir(plan, "/etc/exim4/conf.d/main", 0755, "", "", false, err) < 0))
		return -1;
	char copy[PATH_MAX];
	snprintf(copy, sizeof copy, EXIM_COPY_FMT, req->domain, req->selector);
	if (mta_add_key_copy(req, plan, req->priv_path, copy, DK_ALG_RSA, "", EXIM_GROUP, 0640, true, err) < 0)
		return -1;
	if (ed) {
		snprintf(copy, sizeof copy, EXIM_COPY_FMT, req->domain, req->ed_selector);
		if (mta_add_key_copy(req, plan, req->ed_priv_path, copy, DK_ALG_ED25519, "", EXIM_GROUP,
				     0640, true, err) < 0)
			return -1;
	}

	char *old = NULL;
	if (mta_read(req->root, macros, &old, err) < 0)
		return -1;
	if (mta_block_ok(old, macros, err) < 0) {
		free(old);
		return -1;
	}
	struct mta_domlist doms = { 0 };
	char *dfile = NULL, sels[2 * DK_LABEL_MAX + 8];
	if (ed)
		snprintf(sels, sizeof sels, "%s : %s", req->ed_selector, req->selector);
	else
		snprintf(sels, sizeof sels, "%s", req->selector);
	char keep[1024];
	if (current_domains(req->root, old, &doms, &dfile, err) < 0 ||
	    (!mta_domlist_keep(req, &doms, true, plan, keep, sizeof keep) &&
	     mta_domlist_put(&doms, req->domain, sels, EXIM_DOMAINS, err) < 0)) {
		free(doms.d);
		free(dfile);
		free(old);
		return -1;
	}
	char *dtext = domains_text(&doms);
	free(doms.d);
	char *block = exim_block(req->strict);
	char *new_text = block ? mta_put_block(old, block) : NULL;
	free(block);
	/* Debian creates neither macro file; 0644 root like the rest of /etc/exim4.
	 * (First in the preview: the admin's own file.) */
	if (mta_add_change(plan, macros, old, new_text, 0644, "", "", false, err) < 0) {
		free(dtext);
		free(dfile);
		return -1;
	}
	/* Not secret, but in Exim's key directory: readable by Exim alone. */
	if (mta_add_change(plan, EXIM_DOMAINS, dfile, dtext, 0640, "", EXIM_GROUP, false, err) < 0)
		return -1;

	/* Files already right but the generated configuration without them (an
	 * interrupted run, or update-exim4.conf never run): regenerate. */
	if (req->root[0] == '\0') {
		char out[8192];
		const char *transport = is_smarthost(&plan->info) ? "remote_smtp_smarthost" : "remote_smtp";
		const char *const bp[] = { EXIM_BIN, "-bP", "transport", transport, NULL };
		plan->regenerate = mta_run(bp, out, sizeof out) != 0 ||
				   strstr(out, "dkim_private_key = " EXIM_KEYDIR "/${dkim_domain}-${dkim_selector}") == NULL;
	}
	/* apply runs update-exim4.conf itself, except under --root */
	if (is_smarthost(&plan->info) && plan_smarthost(req, plan, err) < 0)
		return -1;
	snprintf(plan->reload_cmd, sizeof plan->reload_cmd, "%sinvoke-rc.d exim4 reload",
		 req->root[0] ? "update-exim4.conf && " : "");
	struct sbuf x = { 0 };
	sb_printf(&x, "Exim signs through the DKIM_* macros of Debian's configuration, written as one "
		      "block in %s (the file the %s layout reads). Exim cannot read keys in /etc/ssl/private "
		      "(its delivery process drops supplementary groups), so the key is copied to "
		      EXIM_KEYDIR "/ (0640 root:Debian-exim). Mail with From: @%s is signed with selector %s%s%s. ",
		  macros, plan->info.flavor == MTA_FL_EXIM_SPLIT ? "split" : "unsplit", req->domain,
		  req->selector, ed ? " and the Ed25519 selector " : "", ed ? req->ed_selector : "");
	sb_add(&x, keep);
	sb_add(&x, req->strict ? "Strict: if Exim cannot use the key, mail is held rather than sent unsigned."
			       : "Not strict: if Exim cannot use the key, mail still goes out unsigned (and "
				 "the log says why); dkim-setup checks the key is readable.");
	if (is_smarthost(&plan->info))
		sb_add(&x, " This Exim sends through a smarthost, whose Debian transport has no DKIM options: "
			   "they are added in " SMARTHOST_RUL ", which update-exim4.conf uses instead of "
			   "Debian's file.");
	sb_add(&x, note);
	plan->explain = sb_take(&x);
	return plan->explain ? 0 : dk_fail(err, DK_SYSERR, "out of memory");
}

/* update-exim4.conf -o CONF, then exim -C CONF -bV and -bP of the remote
 * transport: our settings must reach it. */
static int exim_check_generated(const struct mta_plan *plan, const char *conf, struct mta_result *res,
				struct dk_err *err)
{
	char out[8192];
	const char *const gen[] = { UPDATE_EXIM, "-o", conf, NULL };
	int rc = mta_run(gen, out, sizeof out);
	if (rc != 0) {
		mta_tail_line(out, res->validator, sizeof res->validator);
		return dk_fail(err, DK_SYSERR, "update-exim4.conf failed (%d): %s", rc, res->validator);
	}
	const char *const bv[] = { EXIM_BIN, "-C", conf, "-bV", NULL };
	rc = mta_run(bv, out, sizeof out);
	if (rc != 0) {
		mta_tail_line(out, res->validator, sizeof res->validator);
		return dk_fail(err, DK_SYSERR, "exim -bV rejects the new configuration: %s", res->validator);
	}
	/* -bV does not show that our macros reached the transport (the other
	 * layout's file is silently ignored): ask for the transport itself. */
	const char *transport = is_smarthost(&plan->info) ? "remote_smtp_smarthost" : "remote_smtp";
	const char *const bp[] = { EXIM_BIN, "-C", conf, "-bP", "transport", transport, NULL };
	rc = mta_run(bp, out, sizeof out);
	if (rc != 0 || strstr(out, "dkim_private_key = " EXIM_KEYDIR "/${dkim_domain}-${dkim_selector}") == NULL ||
	    strstr(out, "dkim_canon = relaxed") == NULL) {
		snprintf(res->validator, sizeof res->validator, "%s has no dkim_private_key from us", transport);
		return dk_fail(err, DK_SYSERR,
			       "the generated Exim configuration does not use the DKIM macros (%s transport "
			       "missing or changed?)", transport);
	}
	snprintf(res->validator, sizeof res->validator,
		 "exim -bV accepts the generated configuration; %s has dkim_canon = relaxed and "
		 "the key path from dkim-setup", transport);
	return 0;
}

static int exim_validate(const struct mta_request *req, const struct mta_plan *plan,
			 struct mta_result *res, struct dk_err *err)
{
	/* Keys first: -bV accepts a missing or unreadable key file. */
	if (mta_check_plan_keys(req, plan, "Debian-exim", res, err) < 0)
		return -1;

	if (req->root[0] != '\0') {
		snprintf(res->validator, sizeof res->validator,
			 "not run under --root (exim and update-exim4.conf read the real /etc)");
		return 0;
	}
	if (plan->info.flavor == MTA_FL_EXIM_PLAIN) {
		snprintf(res->validator, sizeof res->validator,
			 "your configuration is unchanged; check it with exim -bV after adding the .include line");
		return 0;
	}
	/* Generate the configuration from what we wrote into a scratch file and
	 * ask Exim about it, before the live one is regenerated. The scratch
	 * file lives in a directory of root's own, made for this run: in
	 * /var/lib/exim4 (Debian-exim's) that user could plant a symlink that
	 * update-exim4.conf -o, running as root, would write through. */
	char dir[] = "/tmp/dkim-setup-exim.XXXXXX";
	if (mkdtemp(dir) == NULL)
		return dk_fail(err, DK_SYSERR, "a private directory for the Exim check: %s", strerror(errno));
	char conf[sizeof dir + 16];
	snprintf(conf, sizeof conf, "%s/exim4.conf", dir);
	int rc = exim_check_generated(plan, conf, res, err);
	unlink(conf);
	rmdir(dir);
	return rc;
}

/* update-exim4.conf makes the running configuration from what we wrote
 * (also when only the generated configuration lacked our settings). */
static int exim_activate(const struct mta_request *req, const struct mta_plan *plan,
			 struct mta_result *res, struct dk_err *err)
{
	if (!res->applied && !plan->regenerate)
		return 0;
	if (req->root[0] != '\0' || plan->info.flavor == MTA_FL_EXIM_PLAIN)
		return 0;
	char out[4096], pr[300];
	const char *const argv[] = { UPDATE_EXIM, NULL };
	int rc = mta_run(argv, out, sizeof out);
	if (rc != 0)
		return dk_fail(err, DK_SYSERR, "update-exim4.conf failed (%d): %s", rc,
			       dk_printable(out, pr, sizeof pr));
	res->applied = true;
	return 0;
}

static void exim_reload(const struct mta_plan *plan, struct signer_reload *out)
{
	(void)plan;
	out->steps[out->n++] = (struct signer_step){ "reload", "exim4", "exim4" };
}

static int exim_key_copy(const char *domain, const char *selector, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, EXIM_COPY_FMT, domain, selector);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The program installed (2), or only its configuration (1). */
static int exim_found(const char *root)
{
	if (fs_exists(root, "/usr/sbin/exim4") == 1 || fs_exists(root, "/usr/sbin/exim") == 1)
		return 2 | (fs_exists(root, "/etc/exim4/update-exim4.conf.conf") == 1 ||
			    fs_exists(root, "/etc/exim/exim.conf") == 1);
	return fs_exists(root, "/etc/exim4/update-exim4.conf.conf") == 1 ||
	       fs_exists(root, "/etc/exim/exim.conf") == 1;
}

static int exim_preference(const char *root)
{
	(void)root;
	return 1;   /* Exim's only signer */
}

const struct signer signer_exim = {
	.name = "exim",
	.mta = "Exim",
	.mta_found = exim_found,
	.preference = exim_preference,
	.detect = exim_detect,
	.plan = exim_plan,
	.validate = exim_validate,
	.activate = exim_activate,
	.reload = exim_reload,
	.selectors = exim_selectors,
	.key_copy = exim_key_copy,
	.prove = prove_exim,
};
