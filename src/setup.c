/* setup.c: look around, defaults, and the key pair on disk. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "keygen.h"
#include "setup.h"
#include "validate.h"


/* First line of a small file, trimmed; "" if missing. */
static void first_line(const char *root, const char *path, char *out, size_t outlen)
{
	char *buf;
	size_t len;
	out[0] = '\0';
	if (fs_exists(root, path) != 1 || fs_read_file(root, path, 4096, &buf, &len, NULL) < 0)
		return;
	size_t n = strcspn(buf, "\r\n");
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	const char *b = buf;
	while (*b == ' ' || *b == '\t')
		b++, n--;
	snprintf(out, outlen, "%.*s", (int)n, b);
	free(buf);
}

void setup_survey(const char *root, struct dk_survey *sv)
{
	char why[256], tmp[256];
	memset(sv, 0, sizeof *sv);
	sv->is_root = geteuid() == 0;
	sv->has_exim = fs_exists(root, "/usr/sbin/exim4") == 1 || fs_exists(root, "/usr/sbin/exim") == 1;
	sv->has_postfix = fs_exists(root, "/usr/sbin/postfix") == 1;
	sv->has_opendkim = fs_exists(root, "/usr/sbin/opendkim") == 1;
	sv->has_rspamd = fs_exists(root, "/usr/bin/rspamd") == 1;

	first_line(root, "/etc/mailname", tmp, sizeof tmp);
	if (tmp[0] != '\0' && validate_domain(tmp, sv->mailname, sizeof sv->mailname, why, sizeof why) < 0)
		sv->mailname[0] = '\0';

	if (root[0] != '\0')
		first_line(root, "/etc/hostname", sv->hostname, sizeof sv->hostname);
	else if (gethostname(sv->hostname, sizeof sv->hostname) < 0)
		sv->hostname[0] = '\0';
	sv->hostname[sizeof sv->hostname - 1] = '\0';

	/* The host's domain: mail.example.com -> example.com. */
	char hostdom[DK_DOMAIN_MAX + 1] = "";
	const char *dot = strchr(sv->hostname, '.');
	if (dot != NULL && strchr(dot + 1, '.') != NULL &&
	    validate_domain(dot + 1, hostdom, sizeof hostdom, why, sizeof why) < 0)
		hostdom[0] = '\0';
	snprintf(sv->default_domain, sizeof sv->default_domain, "%s",
		 sv->mailname[0] != '\0' ? sv->mailname : hostdom);

	int n = fs_list(root, DK_PRIV_DIR, "-private.pem", sv->keys, (int)(sizeof sv->keys / sizeof sv->keys[0]));
	sv->n_keys = n > 0 ? n : 0;   /* all of them, even past the names kept */
}

void setup_default_selector(time_t now, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, outlen, "%Y%m", &tm);
}

int setup_paths(const char *domain, const char *selector, struct dk_paths *p)
{
	int a = snprintf(p->priv, sizeof p->priv, DK_PRIV_DIR "/%s-%s-private.pem", domain, selector);
	int b = snprintf(p->pub, sizeof p->pub, DK_PUB_DIR "/%s-%s-public.pem", domain, selector);
	return a < 0 || b < 0 || (size_t)a >= sizeof p->priv || (size_t)b >= sizeof p->pub ? -1 : 0;
}

/* Load the private key at path. -1 + err when unreadable or not a key. */
static int load_private(const char *root, const char *path, EVP_PKEY **key, struct dk_err *err)
{
	char *pem;
	size_t len;
	*key = NULL;
	if (fs_read_file(root, path, KEYGEN_FILE_MAX, &pem, &len, err) < 0)
		return -1;
	int rc = keygen_load_private(pem, len, key, err);
	keygen_secret_free(pem, len);
	if (rc < 0) {
		/* Copy first: err->msg cannot be both source and target. */
		char why[DK_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", err->msg[0] ? err->msg : "not a key");
		dk_fail(err, err->status, "%s: %s", path, why);
	}
	return rc;
}

void setup_existing_key(const char *root, const char *domain, const char *selector,
			struct dk_existing *ex)
{
	struct dk_paths p;
	struct dk_err err;
	memset(ex, 0, sizeof *ex);
	if (setup_paths(domain, selector, &p) < 0 || fs_exists(root, p.priv) != 1)
		return;
	EVP_PKEY *key;
	if (load_private(root, p.priv, &key, &err) < 0 ||
	    keygen_describe(key, &ex->alg, &ex->bits, &err) < 0) {
		ex->state = KEY_UNREADABLE;
		snprintf(ex->detail, sizeof ex->detail, "%s", err.msg);
	} else {
		ex->state = KEY_PRESENT;
		snprintf(ex->detail, sizeof ex->detail, "%s holds an %s key", p.priv,
			 ex->alg == DK_ALG_RSA ? "RSA" : "Ed25519");
	}
	EVP_PKEY_free(key);
}

static const char *key_desc(enum dk_alg alg, int bits, char *buf, size_t len)
{
	if (alg == DK_ALG_RSA)
		snprintf(buf, len, "RSA-%d", bits);
	else
		snprintf(buf, len, "Ed25519");
	return buf;
}

/* Fill p=, the record value and the names from a key. */
static int fill_record(struct dk_keyjob *job, EVP_PKEY *key, struct dk_err *err)
{
	if (keygen_describe(key, &job->alg, &job->bits, err) < 0 || keygen_p_value(key, &job->p, err) < 0)
		return -1;
	if ((job->value = record_value(job->alg, job->p)) == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	if (record_fqdn(job->domain, job->selector, job->fqdn, sizeof job->fqdn) < 0 ||
	    record_relative(job->selector, job->relative, sizeof job->relative) < 0)
		return dk_fail(err, DK_USAGE, "the record name is too long");
	job->weak = job->alg == DK_ALG_RSA && job->bits < 2048;
	job->big = job->alg == DK_ALG_RSA && job->bits >= 4096;
	return 0;
}

/* Write the public PEM (not secret: 0644, replaced with a backup). */
static int write_public(struct dk_keyjob *job, EVP_PKEY *key, struct dk_err *err)
{
	char *pem;
	size_t len;
	if (keygen_public_pem(key, &pem, &len, err) < 0)
		return -1;
	struct fs_write w = {
		.root = job->root, .path = job->paths.pub, .data = pem, .len = len, .mode = 0644,
		.uid = geteuid() == 0 ? 0 : FS_KEEP_ID, .gid = geteuid() == 0 ? 0 : (gid_t)FS_KEEP_ID,
		.flags = FS_REPLACE | FS_BACKUP | (job->dry_run ? FS_DRY_RUN : 0),
	};
	int rc = fs_mkdir(job->root, DK_PUB_DIR, 0755, w.uid, w.gid, job->dry_run ? FS_DRY_RUN : 0, err);
	if (rc == 0)
		rc = fs_write_file(&w, err);
	if (rc == 0 && w.backup[0] != '\0')
		snprintf(job->pub_backup, sizeof job->pub_backup, "%s", w.backup);
	free(pem);
	return rc;
}

int setup_make_key(struct dk_keyjob *job, struct dk_err *err)
{
	char want[32], have[32];
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (setup_paths(job->domain, job->selector, &job->paths) < 0)
		return dk_fail(err, DK_USAGE, "domain and selector make too long a file name");
	if (job->alg == DK_ALG_ED25519)
		job->bits = 0;
	key_desc(job->alg, job->bits, want, sizeof want);

	int exists = fs_exists(job->root, job->paths.priv);
	if (exists < 0) {
		int e = errno;
		/* fs_exists gives no reason; the directory walk does (a symlink,
		 * a directory writable by others, ...). */
		if (e == EACCES && geteuid() != 0)
			return dk_fail(err, DK_SYSERR, "cannot look into %s%s as this user, so cannot "
				       "tell whether %s exists: run it with sudo (a dry run writes nothing)",
				       job->root, DK_PRIV_DIR, job->paths.priv);
		if (fs_mkdir(job->root, DK_PRIV_DIR, 0710, 0, 0, FS_DRY_RUN, err) < 0)
			return -1;
		return dk_fail_errno(err, DK_SYSERR, e, "%s", job->paths.priv);
	}
	if (exists && !job->force) {
		enum dk_alg alg;
		int bits;
		if (load_private(job->root, job->paths.priv, &key, err) < 0) {
			if (err->status == DK_SYSERR)
				return -1;
			return dk_fail(err, DK_USAGE, "%s exists but is not a key this tool can read; "
				       "choose another selector, or --force to replace it (it is kept "
				       "as a backup)", job->paths.priv);
		}
		if (keygen_describe(key, &alg, &bits, err) < 0)
			goto out;
		if (alg != job->alg || (alg == DK_ALG_RSA && bits != job->bits)) {
			dk_fail(err, DK_USAGE, "%s already holds an %s key, not %s: choose another "
				"selector, or --force to replace it (it is kept as a backup)",
				job->paths.priv, key_desc(alg, bits, have, sizeof have), want);
			goto out;
		}
		/* Same request as before: reuse, and repair the public file. */
		job->outcome = KEYJOB_REUSED;
		if (fill_record(job, key, err) < 0 || write_public(job, key, err) < 0)
			goto out;
		rc = 0;
		goto out;
	}

	if (keygen_generate(job->alg, job->bits, &key, err) < 0)
		goto out;
	if (fill_record(job, key, err) < 0)
		goto out;
	if (job->dry_run) {
		job->outcome = KEYJOB_DRY_RUN;
		/* Run every check a real write would, write nothing. */
		struct fs_write w = { .root = job->root, .path = job->paths.priv, .data = "", .len = 0,
				      .mode = 0600, .uid = FS_KEEP_ID, .gid = (gid_t)FS_KEEP_ID,
				      .flags = FS_DRY_RUN | (job->force ? FS_REPLACE | FS_BACKUP : 0) };
		if (fs_mkdir(job->root, DK_PRIV_DIR, 0710, 0, 0, FS_DRY_RUN, err) < 0 ||
		    fs_write_file(&w, err) < 0 || write_public(job, key, err) < 0)
			goto out;
		rc = 0;
		goto out;
	}

	char *pem = NULL;
	size_t len = 0;
	if (keygen_private_pem(key, &pem, &len, err) < 0)
		goto out;
	uid_t uid = geteuid() == 0 ? 0 : FS_KEEP_ID;
	gid_t gid = geteuid() == 0 ? 0 : (gid_t)FS_KEEP_ID;
	/* Debian's /etc/ssl/private is 0710 root:ssl-cert; make it so in a sandbox. */
	struct group *g = getgrnam("ssl-cert");
	gid_t dirgid = g != NULL && geteuid() == 0 ? g->gr_gid : gid;
	struct fs_write w = {
		.root = job->root, .path = job->paths.priv, .data = pem, .len = len, .mode = 0600,
		.uid = uid, .gid = gid, .flags = job->force ? FS_REPLACE | FS_BACKUP : 0,
	};
	int wrc = fs_mkdir(job->root, DK_PRIV_DIR, 0710, uid, dirgid, 0, err);
	if (wrc == 0)
		wrc = fs_write_file(&w, err);
	keygen_secret_free(pem, len);
	if (wrc < 0)
		goto out;
	job->outcome = w.replaced ? KEYJOB_REPLACED : KEYJOB_CREATED;
	if (w.backup[0] != '\0')
		snprintf(job->priv_backup, sizeof job->priv_backup, "%s", w.backup);
	if (write_public(job, key, err) < 0) {
		/* All or nothing: exit 3 leaves no private key without its public
		 * half. The old key of a --force replacement comes back. */
		struct dk_err e2;
		int undo = w.replaced ? fs_restore(job->root, job->paths.priv, w.backup, &e2)
				      : fs_remove(job->root, job->paths.priv, &e2);
		if (undo < 0) {
			size_t used = strlen(err->msg);
			snprintf(err->msg + used, sizeof err->msg - used, "; and %s could not be %s: %s",
				 job->paths.priv, w.replaced ? "restored from its backup" : "removed", e2.msg);
		}
		job->priv_backup[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	return rc;
}

int setup_load_key(struct dk_keyjob *job, struct dk_err *err)
{
	EVP_PKEY *key = NULL;
	if (setup_paths(job->domain, job->selector, &job->paths) < 0)
		return dk_fail(err, DK_USAGE, "domain and selector make too long a file name");
	int rc;
	if (fs_exists(job->root, job->paths.pub) == 1) {
		char *pem;
		size_t len;
		if (fs_read_file(job->root, job->paths.pub, KEYGEN_FILE_MAX, &pem, &len, err) < 0)
			return -1;
		rc = keygen_load_public(pem, len, &key, err);
		free(pem);
		if (rc < 0)
			return dk_fail(err, DK_SYSERR, "%s: %s", job->paths.pub, err->msg);
	} else if (fs_exists(job->root, job->paths.priv) == 1) {
		if (load_private(job->root, job->paths.priv, &key, err) < 0)
			return -1;
	} else {
		return dk_fail(err, DK_USAGE, "no key for %s selector %s: neither %s nor %s exists",
			       job->domain, job->selector, job->paths.pub, job->paths.priv);
	}
	job->outcome = KEYJOB_REUSED;
	rc = fill_record(job, key, err);
	EVP_PKEY_free(key);
	return rc;
}

void setup_keyjob_clear(struct dk_keyjob *job)
{
	free(job->p);
	free(job->value);
	job->p = job->value = NULL;
}
