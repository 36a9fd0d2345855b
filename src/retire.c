/*
 * retire.c: `dkim-setup retire -d DOMAIN -s OLD [--force] [--purge]`.
 *
 * A selector is retired only once it signs no more and its grace period
 * (--grace, default 7 days after it stopped signing) is over: until then
 * mail signed with it may still be in queues, on mailing lists or being
 * re-verified, and its record must stay. Then, in this order, so that an
 * interrupted run only has to be run again:
 *   1. the revoked record "v=DKIM1; p=" (RFC 6376 3.6.1: an empty p= means
 *      the key was revoked) is published and waited for, or shown;
 *   2. every signer's copy of the key and every config line naming it go;
 *   3. the master key moves to a dated backup (--purge: deleted).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "dns.h"
#include "fsutil.h"
#include "json.h"
#include "lifecycle.h"
#include "record.h"
#include "setup.h"

#define REVOKED_VALUE "v=DKIM1; p="
#define RETIRE_PUBLISH_WAIT 60

static void tell(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tell(FILE *out, const char *fmt, ...)
{
	if (out == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

static void day_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Is the revoked record served by every server? Asked until secs pass. */
static int wait_revoked(const struct options *opt, const char *fqdn, long secs, struct dk_err *err)
{
	double deadline = dns_now() + (double)secs;
	for (;;) {
		struct dns_watch_cfg cfg = { .fqdn = fqdn, .ns = opt->ns, .n_ns = opt->n_ns, .timeout = 2.0 };
		struct dns_view v;
		size_t ok = 0;
		int rc = dns_check(&cfg, &v, err);
		for (size_t i = 0; rc == 0 && i < v.n; i++)
			ok += v.servers[i].status == DNS_REVOKED;
		bool all = rc == 0 && v.n > 0 && ok == v.n;
		dns_view_clear(&v);
		if (all)
			return 0;
		if (dns_now() >= deadline)
			return rc < 0 ? -1 : dk_fail(err, DK_MISMATCH, "after %ld s not every server serves the "
						     "revoked record of %s", secs, fqdn);
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
}

static int retire_revoke(const struct options *opt, const char *fqdn, FILE *out, bool *published, struct dk_err *err)
{
	*published = false;
	if (!opt->publish) {
		char *zone = record_zone(fqdn, REVOKED_VALUE);
		tell(out, "Publish the revoked record at your DNS host in place of the old one (name %s):\n  %s\n"
		     "Zone-file form:\n%s\n", fqdn, REVOKED_VALUE, zone != NULL ? zone : "");
		free(zone);
		return 0;
	}
	if (opt->dry_run) {
		tell(out, "Dry run: would publish \"%s\" at %s by RFC 2136 UPDATE.\n", REVOKED_VALUE, fqdn);
		return 0;
	}
	struct dns_tsig tsig;
	struct dns_publish_info info;
	struct dns_watch_cfg cfg = { .fqdn = fqdn, .ns = opt->ns, .n_ns = opt->n_ns, .timeout = 2.0 };
	if (dns_tsig_load(opt->tsig_key_file, &tsig, err) < 0)
		return -1;
	int rc = dns_publish_ex(&cfg, REVOKED_VALUE, &tsig, &info, err);
	dns_tsig_clear(&tsig);
	if (rc < 0)
		return -1;
	tell(out, "Published the revoked record at %s: %s accepted the update.\n", fqdn, info.server);
	long secs = opt->wait_secs > 0 ? opt->wait_secs : RETIRE_PUBLISH_WAIT;
	if (wait_revoked(opt, fqdn, secs, err) < 0)
		return -1;
	*published = true;
	tell(out, "Every authoritative server serves it.\n");
	return 0;
}

/* The master key (and its public half) to FS_BACKUP_DIR, dated; or gone. */
static int put_away(const char *root, const char *domain, const char *sel, bool purge, char *where,
		    size_t wlen, struct dk_err *err)
{
	struct dk_paths p;
	char stamp[32], bk[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	setup_paths(domain, sel, &p);
	where[0] = '\0';
	if (!purge && fs_exists(root, p.priv) == 1) {
		char *pem = NULL;
		size_t len = 0;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
		snprintf(bk, sizeof bk, FS_BACKUP_DIR DK_PRIV_DIR "/%s-%s-private.pem.retired-%s", domain, sel, stamp);
		if (fs_mkdir(root, FS_BACKUP_DIR, 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, err) < 0 ||
		    fs_mkdir(root, FS_BACKUP_DIR "/etc", 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, err) < 0 ||
		    fs_mkdir(root, FS_BACKUP_DIR "/etc/ssl", 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, err) < 0 ||
		    fs_mkdir(root, FS_BACKUP_DIR DK_PRIV_DIR, 0700, FS_KEEP_ID, (gid_t)FS_KEEP_ID, 0, err) < 0 ||
		    fs_read_file(root, p.priv, KEYGEN_FILE_MAX, &pem, &len, err) < 0)
			return -1;
		struct fs_write w = {
			.root = root, .path = bk, .data = pem, .len = len, .mode = 0600, .uid = FS_KEEP_ID,
			.gid = (gid_t)FS_KEEP_ID, .flags = 0,
		};
		int rc = fs_write_file(&w, err);
		keygen_secret_free(pem, len);
		if (rc < 0)
			return -1;
		snprintf(where, wlen, "%s", bk);
	}
	if (fs_remove(root, p.priv, err) < 0 || fs_remove(root, p.pub, err) < 0)
		return -1;
	return 0;
}

int lc_retire(const struct options *opt, const char *domain, const char *sel, FILE *out, char *detail,
	      size_t dlen, struct dk_err *err)
{
	struct lc_inventory inv;
	struct lc_state st;
	char fqdn[DK_DOMAIN_MAX + 2], day[40];
	detail[0] = '\0';
	if (record_fqdn(domain, sel, fqdn, sizeof fqdn) < 0)
		return dk_fail(err, DK_USAGE, "the record name is too long");
	if (lc_inventory_load(opt->root, opt->mta, domain, &inv, err) < 0)
		return -1;
	const struct lc_key *k = NULL;
	bool other_signs = false;
	for (size_t i = 0; i < inv.n; i++) {
		if (strcmp(inv.k[i].selector, sel) == 0)
			k = &inv.k[i];
		else
			other_signs |= inv.k[i].signing;
	}
	bool signing = k != NULL && k->signing, known = k != NULL;
	lc_inventory_free(&inv);
	lc_state_load(opt->root, domain, &st);
	struct lc_sel_state *s = lc_state_sel(&st, sel, known);
	if (!known && (s == NULL || s->retired == 0))
		return dk_fail(err, DK_USAGE, "%s has no selector %s here (no key in " DK_PRIV_DIR ", no signer "
			       "copy, not in the signer's configuration)", domain, sel);
	if (signing)
		return dk_fail(err, DK_USAGE, "%s still signs mail for %s%s: rotate first (dkim-setup rotate -d %s); "
			       "retiring it now would make the signer sign with a revoked key", sel, domain,
			       other_signs ? " (next to another selector)" : "", domain);
	if (st.stage != LC_IDLE && (!strcmp(st.new_rsa, sel) || !strcmp(st.new_ed, sel)))
		return dk_fail(err, DK_USAGE, "%s is the new key of a rotation under way: finish it with "
			       "dkim-setup rotate -d %s", sel, domain);
	if (s == NULL)
		return dk_fail(err, DK_SYSERR, "too many selectors remembered for %s", domain);
	time_t now = lc_now();
	long grace = opt->grace_days > 0 ? opt->grace_days : opt->grace_days < 0 ? 0 : LC_GRACE_DAYS;
	if (s->stopped == 0 && s->retired == 0) {
		/* never seen signing, or the state was lost: the grace starts now */
		s->stopped = now;
		if (!opt->dry_run && lc_state_save(opt->root, domain, &st, err) < 0)
			return -1;
		if (!opt->force && grace > 0) {
			day_text(now + grace * LC_DAY, day, sizeof day);
			return dk_fail(err, DK_USAGE, "no record of when %s stopped signing for %s: its grace period "
				       "starts now; retire it after %s (or with --force, if you know no mail signed "
				       "with it is still on its way)", sel, domain, day);
		}
	}
	time_t due = s->stopped + (time_t)grace * LC_DAY;
	if (s->retired == 0 && now < due) {
		day_text(due, day, sizeof day);
		if (!opt->force)
			return dk_fail(err, DK_USAGE, "%s stopped signing for %s less than %ld days ago: mail signed "
				       "with it may still be on its way; retire it after %s (or --force)", sel, domain,
				       grace, day);
		fprintf(stderr, "dkim-setup: warning: retiring %s before its grace period ends (%s): mail signed "
			"with it in the last %ld days may fail DKIM verification at the receiver\n", sel, day, grace);
	}
	bool published;
	if (retire_revoke(opt, fqdn, out, &published, err) < 0)
		return -1;
	if (opt->dry_run) {
		snprintf(detail, dlen, "dry run: would revoke %s, delete the signer copies and %s the master key",
			 fqdn, opt->purge ? "delete" : "back up");
		return 0;
	}
	char what[1024], where[PATH_MAX];
	if (mta_forget(opt->root, domain, sel, what, sizeof what, err) < 0)
		return -1;
	tell(out, "Signer: %s.\n", what);
	if (put_away(opt->root, domain, sel, opt->purge, where, sizeof where, err) < 0)
		return -1;
	if (where[0])
		tell(out, "Master key kept as %s (root only).\n", where);
	else
		tell(out, "Master key deleted (--purge).\n");
	s->retired = now;
	if (lc_state_save(opt->root, domain, &st, err) < 0)
		return -1;
	snprintf(detail, dlen, "%s; %s; master key %s%s", published ? "revoked record published and served"
		 : opt->publish ? "revoked record published" : "revoked record shown (publish it)", what,
		 where[0] ? "kept as " : "deleted", where);
	return 0;
}

int cmd_retire(const struct options *opt)
{
	if (opt->domain[0] == '\0' || opt->selector[0] == '\0') {
		fprintf(stderr, "dkim-setup: retire needs -d DOMAIN and -s SELECTOR (the old one)\n");
		return DK_USAGE;
	}
	struct dk_err err;
	char detail[1500];
	dk_err_clear(&err);
	if (batch_dns_precheck(opt, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return DK_USAGE;
	}
	int rc = lc_retire(opt, opt->domain, opt->selector, opt->json ? stderr : stdout, detail, sizeof detail, &err);
	int status = rc == 0 ? DK_OK : err.status;
	if (rc < 0)
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
	else if (!opt->json)
		printf("Retired %s of %s.\n", opt->selector, opt->domain);
	if (opt->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "domain", opt->domain);
		json_string(&j, "selector", opt->selector);
		json_bool(&j, "retired", rc == 0);
		json_string(&j, "detail", rc == 0 ? detail : NULL);
		json_string(&j, "error", rc == 0 ? NULL : err.msg);
		json_int(&j, "status", status);
		json_object_end(&j);
		json_finish(&j);
	}
	return status;
}
