/*
 * mta_int.h: shared by src/mta*.c only (not a contract for front ends).
 */
#ifndef DKIM_MTA_INT_H
#define DKIM_MTA_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "mta.h"

/* Where each signer reads its copy of a key (DESIGN.md, "the signer's copy"):
 * printf formats taking the domain and the selector. */
#define EXIM_KEYDIR "/etc/exim4/dkim"
#define EXIM_COPY_FMT EXIM_KEYDIR "/%s-%s-private.pem"
#define OPENDKIM_KEYDIR "/etc/dkimkeys"
#define OPENDKIM_COPY_FMT OPENDKIM_KEYDIR "/%s-%s.private"

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
		const char *group, bool enforce);

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

/* OpenDKIM's RequireSafeKeys rules for a key file. */
int mta_check_safe_key(const char *root, const char *path, const char *user, struct dk_err *err);

bool mta_have_systemd(const char *root);

/* The master key at root+master, read and checked to be a `want` key;
 * *pem is a secret (keygen_secret_free(*pem, *len)). In a dry run whose
 * key was not saved (no file), *pem is a stand-in text instead: the copy
 * is shown as a new file, and nothing is written. 0 or -1 + err. */
int mta_master_key(const struct mta_request *req, const char *master, enum dk_alg want, char **pem,
		   size_t *len, struct dk_err *err);

/* Per-MTA parts. */
void mta_exim_selectors(const char *root, const struct mta_info *info, const char *domain, char *out,
			size_t outlen);
void mta_postfix_selectors(const char *root, const char *domain, char *out, size_t outlen);
int mta_exim_detect(const char *root, struct mta_info *info, struct dk_err *err);
int mta_exim_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err);
int mta_exim_validate(const struct mta_request *req, const struct mta_plan *plan,
		      struct mta_result *res, struct dk_err *err);
int mta_exim_activate(const struct mta_request *req, const struct mta_plan *plan,
		      struct dk_err *err);

int mta_postfix_detect(const char *root, struct mta_info *info, struct dk_err *err);
int mta_postfix_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err);
int mta_postfix_activate(const struct mta_request *req, const struct mta_plan *plan,
			 struct dk_err *err);
int mta_postfix_validate(const struct mta_request *req, const struct mta_plan *plan,
			 struct mta_result *res, struct dk_err *err);

#endif
