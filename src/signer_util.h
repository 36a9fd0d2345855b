/*
 * signer_util.h: what the signers share (src/signer*.c only; not a contract
 * for front ends). Imports no signer.
 */
#ifndef DKIM_SIGNER_UTIL_H
#define DKIM_SIGNER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common.h"
#include "keygen.h"
#include "mta.h"

#define MTA_BEGIN "# BEGIN dkim-setup"
#define MTA_END "# END dkim-setup"
#define MTA_FILE_MAX (4u << 20)

/* A growable string. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_add(struct sbuf *b, const char *text);
void sb_addn(struct sbuf *b, const char *text, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string (malloc'd, "" at least), or NULL after an allocation failure. */
char *sb_take(struct sbuf *b);

/* Read root+path; *text is NULL when the file does not exist. */
int mta_read(const char *root, const char *path, char **text, struct dk_err *err);

/* 0 when text (NULL ok) has at most one whole BEGIN..END block. */
int mta_block_ok(const char *text, const char *path, struct dk_err *err);

/* Replace the delimited block (MTA_BEGIN ... MTA_END lines) in `old`
 * with `block` (which carries its own BEGIN/END lines), or append it.
 * malloc'd result; NULL when `old` has a damaged block (mta_block_ok) or
 * memory ran out. */
char *mta_put_block(const char *old, const char *block);

/* Add a change to the plan; takes ownership of old_text and new_text. */
int mta_add_change(struct mta_plan *plan, const char *path, char *old_text, char *new_text,
		   mode_t mode, const char *owner, const char *group, bool is_key,
		   struct dk_err *err);
int mta_add_dir(struct mta_plan *plan, const char *path, mode_t mode, const char *owner,
		const char *group, bool enforce, struct dk_err *err);

/* A plan directory as it was before apply. */
struct mta_dir_before {
	bool touched;     /* apply got as far as this one */
	bool existed;
	struct stat st;
};

/* Undo what apply wrote (written[i] for plan->changes[i]), newest first:
 * files from their backups (or removed when new), then the directories it
 * created (when empty again) or whose owner and mode it changed. What
 * cannot be undone is marked not_restored in the plan and counted in res;
 * res->rolled_back only when everything was. */
void mta_rollback(const struct mta_request *req, struct mta_plan *plan, const bool *written,
		  const struct mta_dir_before *dirs, struct mta_result *res);

/* Does root+path exist with exactly this mode and owner (names)? Under a
 * --root the owner is not compared (no chown happens there). */
bool mta_meta_ok(const char *root, const char *path, mode_t mode, const char *owner,
		 const char *group);

/* Compute plan->diff and plan->nothing_to_do from plan->changes. */
int mta_finish_plan(const char *root, struct mta_plan *plan, struct dk_err *err);

/* Run argv (fixed, no shell) through spawn_run: a clean child, stdin
 * /dev/null, stdout+stderr captured into out (may be NULL), killed after
 * SPAWN_TIMEOUT_MS. Returns the exit status, 128+sig, 124 for the deadline,
 * or -1; when it did not exit, out ends with "(program: why)". */
int mta_run(const char *const argv[], char *out, size_t outlen);

/* Key access, for real: `user` (with only its primary group, as the
 * daemons run) can open root+path, and the user "nobody" cannot. Fills
 * what with plain words. 0 or -1 + err. */
int mta_check_key_access(const char *root, const char *path, const char *user, char *what,
			 size_t whatlen, struct dk_err *err);

/* mta_check_key_access for every key copy of the plan, as `user`; what it
 * found into res->key_access. 0 or -1 + err. */
int mta_check_plan_keys(const struct mta_request *req, const struct mta_plan *plan, const char *user,
			struct mta_result *res, struct dk_err *err);

/* OpenDKIM's RequireSafeKeys rules for a key file. */
int mta_check_safe_key(const char *root, const char *path, const char *user, struct dk_err *err);

bool mta_have_systemd(const char *root);

/* The master key at root+master, read and checked to be a `want` key;
 * *pem is a secret (keygen_secret_free(*pem, *len)). In a dry run whose
 * key was not saved (no file), *pem is a stand-in text instead: the copy
 * is shown as a new file, and nothing is written. 0 or -1 + err. */
int mta_master_key(const struct mta_request *req, const char *master, enum dk_alg want, char **pem,
		   size_t *len, struct dk_err *err);

/* user/group names to ids (root: ""); under --root nothing is chowned and
 * both are FS_KEEP_ID. 0 or -1 + err when a name does not exist. */
int mta_lookup_ids(const char *root, const char *owner, const char *group, uid_t *uid,
		   gid_t *gid, struct dk_err *err);

/* One copy (c->path) against the master's p= value: fills state, detail. */
void mta_compare_copy(const char *root, struct mta_copy *c, const char *p);

/* The master key's signer copy as a plan change: read root+master, check
 * it is a `want` key, add it at `copy` with mode and owner. `read_old`
 * false when the copy's directory cannot be read as root yet (Debian's
 * /etc/dkimkeys belongs to opendkim until the first apply). */
int mta_add_key_copy(const struct mta_request *req, struct mta_plan *plan, const char *master,
		     const char *copy, enum dk_alg want, const char *owner, const char *group,
		     mode_t mode, bool read_old, struct dk_err *err);

/* The domains a signer signs for, each with its selectors, as the signer
 * writes them ("ed1 : rsa1" for Exim, "rsa1 ed1" for rspamd). */
struct mta_dom {
	char domain[DK_DOMAIN_MAX + 1];
	char sels[2 * DK_LABEL_MAX + 8];
};

struct mta_domlist {
	struct mta_dom *d;   /* malloc'd; free(d) */
	size_t n;
};

/* Add domain with sels, or replace its sels. -1 + err when out of memory
 * or longer than a domain and two selectors can be (refused, never cut). */
int mta_domlist_put(struct mta_domlist *l, const char *domain, const char *sels, const char *file,
		    struct dk_err *err);

/* Issue 16, case 8: with req->defer_switch, a domain of l that already signs
 * with other selectors keeps them (the caller leaves l as it is): true,
 * plan->kept_selector set to the RSA one (the last of "ed : rsa" when
 * rsa_last, else the first) and note says so and what to run. */
bool mta_domlist_keep(const struct mta_request *req, const struct mta_domlist *l, bool rsa_last,
		      struct mta_plan *plan, char *note, size_t notelen);

/* The last line of a tool's output, printable, into dst. */
void mta_tail_line(const char *out, char *dst, size_t dstlen);

/* Secrets out of text that is shown (messages, JSON, diffs): the password
 * of "scheme://user:password@host" (a DSN) and the value after a word
 * password, passwd, pass or secret ("=", ":" or blanks between) become
 * "****". mta_mask_secrets: malloc'd, NULL when out of memory;
 * mta_mask_buf: in place in a buffer of cap bytes; mta_mask_str: replaces
 * a malloc'd *s (NULL ok). */
char *mta_mask_secrets(const char *s);
void mta_mask_buf(char *buf, size_t cap);
void mta_mask_str(char **s);

#endif
