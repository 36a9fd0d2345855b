/* prove_postfix.c: the proof through a Postfix signer (OpenDKIM, rspamd):
 * the prove() ops of signer_opendkim.c and signer_rspamd.c.
 *
 * For each filter in the order Postfix runs them: the socket its own
 * configuration names must be listed in Postfix's smtpd_milters (SMTP
 * mail) and non_smtpd_milters (sendmail: web shops, cron, local scripts),
 * as `postconf -x -h` reports them now (and smtpd_milter_maps does not
 * override it for mail from 127.0.0.1), and in the lists of every master.cf
 * service that sets its own (postconf -P -x); then the test message goes to that
 * socket as mail from 127.0.0.1 (internal mail, which both sign), and the
 * header changes each filter returns are applied before the next one, as
 * Postfix does.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "milter.h"
#include "postfix_cf.h"
#include "prove_signer.h"
#include "signer_util.h"

#define POSTCONF "/usr/sbin/postconf"
#define POSTMAP "/usr/sbin/postmap"

struct hop {
	const char *socket;          /* as the signer's configuration names it */
	const char *service;         /* its systemd unit */
	const char *start_cmd;       /* how to start it without systemd */
	const char *user;            /* who reads the key */
	const char *owner, *mode;    /* what that copy must be: "opendkim:opendkim", "0600" */
};

/* Is the filter whose Socket is `sock` in the milter list `value` (as
 * postconf -x prints it)? Compared the way dkim-setup's Postfix code
 * compares filters (postfix_cf.h: every loopback spelling alike, unix
 * sockets under the queue directory by their relative name). */
static bool listed(const char *value, const char *sock, const char *qdir, bool chroot)
{
	char want[PF_TARGET_MAX];
	pf_socket_target(sock, want, sizeof want);
	return pf_list_has(value, strlen(value), want, qdir, chroot);
}

/* smtpd_milter_maps (Postfix 3.2+): a result for the client's address
 * other than DUNNO replaces smtpd_milters. For mail from this host
 * (127.0.0.1, how web shops hand mail over by SMTP): 1 with the map and its
 * result when that leaves the filter out, 0 otherwise. */
static int milter_map_lacks(const char *maps, const char *sock, const char *qdir, bool chroot, char *map,
			    size_t maplen, char *result, size_t rlen)
{
	struct pf_tok t[PF_TOKENS_MAX];
	int n = pf_list_tokens(maps, 0, strlen(maps), t, PF_TOKENS_MAX);
	for (int i = 0; i < n; i++) {
		char out[4096];
		snprintf(map, maplen, "%.*s", (int)t[i].len, maps + t[i].off);
		const char *const argv[] = { POSTMAP, "-q", "127.0.0.1", map, NULL };
		if (mta_run(argv, out, sizeof out) != 0)
			continue;   /* not found (or unreadable: postfix says so in its log) */
		out[strcspn(out, "\n")] = '\0';
		if (strcasecmp(out, "DUNNO") == 0)
			return 0;
		snprintf(result, rlen, "%s", out);
		return strcasecmp(out, "DISABLE") == 0 || !listed(out, sock, qdir, chroot);
	}
	return 0;
}

/* 0 when both lists have the filter; -1 with out filled otherwise. */
static int check_hooked(const struct mta_request *req, const char *sock, const char *canon,
			struct mta_proof *out, struct dk_err *err)
{
	char val[8192];
	const char *const argv[] = { POSTCONF, "-x", "-h", "smtpd_milters", "non_smtpd_milters", "smtpd_milter_maps",
				     NULL };
	if (mta_run(argv, val, sizeof val) != 0) {
		char pr[200];
		snprintf(out->detail, sizeof out->detail, "postconf cannot tell Postfix's milters: %s",
			 dk_printable(val, pr, sizeof pr));
		out->cause = MTA_CAUSE_ERROR;
		return dk_fail(err, DK_SYSERR, "%s", out->detail);
	}
	char *nl = strchr(val, '\n');
	const char *smtpd = val, *non = nl != NULL ? nl + 1 : "";
	if (nl != NULL)
		*nl = '\0';
	char *nl2 = strchr(non, '\n'), *maps = nl2 != NULL ? nl2 + 1 : NULL;
	if (nl2 != NULL)
		*nl2 = '\0';
	if (maps != NULL)
		maps[strcspn(maps, "\n")] = '\0';
	char qdir[PATH_MAX], *maincf = NULL;
	struct dk_err e;
	if (mta_read(req->root, PF_MAIN_CF, &maincf, &e) < 0)
		maincf = NULL;
	pf_queue_dir(req->root, maincf != NULL ? maincf : "", qdir, sizeof qdir);
	free(maincf);
	const char *missing = !listed(smtpd, sock, qdir, pf_smtpd_chrooted(req->root)) ? "smtpd_milters"
			      : !listed(non, sock, qdir, false)				    ? "non_smtpd_milters"
												    : NULL;
	char map[512], result[1024];
	if (missing == NULL && maps != NULL && maps[0] != '\0' &&
	    milter_map_lacks(maps, sock, qdir, pf_smtpd_chrooted(req->root), map, sizeof map, result, sizeof result)) {
		out->cause = MTA_CAUSE_NOT_HOOKED;
		snprintf(out->detail, sizeof out->detail, "Postfix does not send SMTP mail from this host (127.0.0.1) "
			 "to %s: smtpd_milter_maps (%s) gives \"%s\" for it instead of smtpd_milters, so that mail "
			 "leaves unsigned", out->through, map, result);
		snprintf(out->fix, sizeof out->fix, "in %s, give 127.0.0.1 the milters %s too (or DUNNO), then "
			 "postmap it if it is a hashed table, and postfix reload", map, canon);
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	}
	if (missing == NULL) {
		/* a master.cf service with milter lists of its own (submission
		 * on 587 in many guides): mail entering there must pass it too */
		char want[PF_TARGET_MAX], where[200], cur[4096];
		pf_socket_target(sock, want, sizeof want);
		if (pf_override_lacking(req->root, want, where, sizeof where, cur, sizeof cur) != 1)
			return 0;
		out->cause = MTA_CAUSE_NOT_HOOKED;
		snprintf(out->detail, sizeof out->detail, "Postfix does not send mail entering through master.cf "
			 "service %.*s to %s: that service sets its own %s, without %s, so that mail leaves "
			 "unsigned", (int)(strrchr(where, '/') - where), where, out->through,
			 strrchr(where, '/') + 1, canon);
		snprintf(out->fix, sizeof out->fix, "postconf -P '%s=%s%s%s' && postfix reload", where, cur,
			 cur[0] ? "," : "", canon);
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	}
	const char *cur = strcmp(missing, "smtpd_milters") == 0 ? smtpd : non;
	out->cause = MTA_CAUSE_NOT_HOOKED;
	snprintf(out->detail, sizeof out->detail, "Postfix does not send %s to %s: its socket %s is not in %s, "
		 "so that mail leaves unsigned", strcmp(missing, "smtpd_milters") == 0 ? "SMTP mail" :
		 "mail submitted with sendmail (web shops, cron, scripts)", out->through, canon, missing);
	snprintf(out->fix, sizeof out->fix, "postconf -e '%s = %s%s%s' && postfix reload", missing, cur,
		 cur[0] ? ", " : "", canon);
	return dk_fail(err, DK_MISMATCH, "%s", out->detail);
}

bool prove_is_unsigned(const char *text)
{
	return strncasecmp(text, "DKIM-Signature:", 15) != 0 && strcasestr(text, "\nDKIM-Signature:") == NULL;
}

static bool copy_unreadable(const struct mta_request *req, const char *user, const char *sel, char *path,
			    size_t plen, char *what, size_t wlen)
{
	struct dk_err e;
	const struct signer *s = signer_by_name(req->mta);
	if (s == NULL || sel == NULL || s->key_copy(req->domain, sel, path, plen) < 0)
		return false;
	if (mta_check_key_access(req->root, path, user, what, wlen, &e) == 0)
		return false;
	snprintf(what, wlen, "%s", e.msg);
	return true;
}

bool prove_key_unreadable(const struct mta_request *req, const char *user, const char *owner,
			  const char *mode, const char *how, struct mta_proof *out)
{
	char path[4200], what[512];
	if (!copy_unreadable(req, user, req->selector, path, sizeof path, what, sizeof what) &&
	    !copy_unreadable(req, user, req->ed_selector, path, sizeof path, what, sizeof what))
		return false;
	out->cause = MTA_CAUSE_KEY_UNREADABLE;
	snprintf(out->detail, sizeof out->detail, "%s cannot read its key %s (%s), %s", out->through, path,
		 what, how);
	snprintf(out->fix, sizeof out->fix, "chown %s %s && chmod %s %s", owner, path, mode, path);
	return true;
}

static int hop_through(const struct mta_request *req, const struct hop *h, const struct signer_testmsg *msg,
		       char **text, struct mta_proof *out, struct dk_err *err)
{
	char canon[4200], said[512];
	if (milter_socket_canon(h->socket, canon, sizeof canon) < 0) {
		out->cause = MTA_CAUSE_ERROR;
		snprintf(out->detail, sizeof out->detail, "%s's socket %s is not one dkim-setup can reach",
			 out->through, h->socket);
		return dk_fail(err, DK_SYSERR, "%s", out->detail);
	}
	if (check_hooked(req, h->socket, canon, out, err) < 0)
		return -1;
	struct milter_env env = {
		.client_addr = "127.0.0.1", .client_name = "localhost", .helo = "localhost",
		.sender = msg->sender, .rcpt = msg->rcpt, .queue_id = "DKIMSETUPPROOF",
		.myhostname = "localhost",
	};
	int r = milter_send(canon, &env, text, said, sizeof said, err);
	if (r < 0)
		return -1;
	/* a signer that cannot read its key may pass the mail on unsigned (rspamd) */
	bool unsigned_ = r == MILTER_ACCEPTED_EARLY || (r == MILTER_PASSED && prove_is_unsigned(*text));
	if (unsigned_ && prove_key_unreadable(req, h->user, h->owner, h->mode, "so it passes mail on unsigned", out))
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	if (r == MILTER_PASSED || r == MILTER_ACCEPTED_EARLY)
		return 0;   /* signed or not: the verifier tells */
	if (r == MILTER_NO_CONNECT) {
		out->cause = MTA_CAUSE_NOT_RUNNING;
		snprintf(out->detail, sizeof out->detail, "%s (%s) is not running: nothing listens at %s, the "
			 "socket its configuration names (%s); Postfix sends mail on unsigned or holds it",
			 out->through, h->service, canon, said);
		if (mta_have_systemd(req->root))
			snprintf(out->fix, sizeof out->fix, "systemctl start %s", h->service);
		else
			snprintf(out->fix, sizeof out->fix, "%s", h->start_cmd);
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	}
	if (r == MILTER_TEMPFAIL && prove_key_unreadable(req, h->user, h->owner, h->mode, "so Postfix holds the mail", out))
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	out->cause = MTA_CAUSE_ERROR;
	snprintf(out->detail, sizeof out->detail, "%s did not pass the test message: %s", out->through, said);
	return dk_fail(err, r == MILTER_FAILED ? DK_SYSERR : DK_MISMATCH, "%s", out->detail);
}

static int hops_through(const struct mta_request *req, const struct hop *hops, size_t n,
			const struct signer_testmsg *msg, struct mta_proof *out, struct dk_err *err)
{
	char *text = strdup(msg->text);
	if (text == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (hop_through(req, &hops[i], msg, &text, out, err) < 0) {
			free(text);
			return -1;
		}
	out->message = text;
	return 0;
}

/* ---- OpenDKIM ---- */

#define ODK_CONF "/etc/opendkim.conf"
#define ODK_ED_CONF "/etc/opendkim-ed25519.conf"

/* The Socket of an opendkim.conf (the last one that counts), into out. */
static bool conf_socket(const char *root, const char *path, char *out, size_t outlen)
{
	char *text = NULL;
	struct dk_err e;
	bool found = false;
	if (mta_read(root, path, &text, &e) < 0 || text == NULL)
		return false;
	for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		char k[32], v[4096];
		if (*p != '#' && sscanf(p, "%31s %4095s", k, v) == 2 && strcasecmp(k, "Socket") == 0) {
			snprintf(out, outlen, "%s", v);
			found = true;
		}
	}
	free(text);
	return found;
}

int prove_opendkim(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		   struct dk_err *err)
{
	char s1[4200], s2[4200];
	if (!conf_socket(req->root, ODK_CONF, s1, sizeof s1)) {
		out->cause = MTA_CAUSE_ERROR;
		snprintf(out->detail, sizeof out->detail, ODK_CONF " names no Socket: Postfix cannot reach OpenDKIM");
		snprintf(out->fix, sizeof out->fix, "dkim-setup --batch -d %s -s %s -m postfix", req->domain,
			 req->selector);
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	}
	struct hop hops[2] = {
		{ s1, "opendkim", "invoke-rc.d opendkim start", "opendkim", "opendkim:opendkim", "0600" },
		{ s2, "opendkim-ed25519", "/usr/sbin/opendkim -x " ODK_ED_CONF, "opendkim", "opendkim:opendkim",
		  "0600" },
	};
	/* the Ed25519 filter runs after the RSA one whenever it is configured */
	size_t n = conf_socket(req->root, ODK_ED_CONF, s2, sizeof s2) ? 2 : 1;
	return hops_through(req, hops, n, msg, out, err);
}

/* ---- rspamd ---- */

int prove_rspamd(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		 struct dk_err *err)
{
	/* Debian's proxy worker: bind_socket = "localhost:11332" with milter = yes (spelt
	 * as OpenDKIM spells a Socket: the hop's socket is in that form) */
	const struct hop h = { "inet:11332@127.0.0.1", "rspamd", "invoke-rc.d rspamd start", "_rspamd",
			       "root:_rspamd", "0640" };
	return hops_through(req, &h, 1, msg, out, err);
}
