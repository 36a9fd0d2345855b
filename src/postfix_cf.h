/*
 * postfix_cf.h: Postfix's main.cf for the signers that sign through a
 * milter (src/signer_opendkim.c, src/signer_rspamd.c). Private.
 */
#ifndef DKIM_POSTFIX_CF_H
#define DKIM_POSTFIX_CF_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "mta.h"
#include "signer_util.h"

#define PF_MAIN_CF "/etc/postfix/main.cf"
#define PF_MASTER_CF "/etc/postfix/master.cf"
#define PF_TARGET_MAX (PATH_MAX + 16)
#define PF_TOKENS_MAX 32

/* One entry of a milter list as written: text[off, off + len). */
struct pf_tok {
	size_t off, len;
};

/* The entries of the milter list text[from, to), as Postfix splits it
 * (commas and blanks; "{ ... }" whole; comment lines inside a continued
 * main.cf value skipped). -1 when unbalanced or more than max. */
int pf_list_tokens(const char *text, size_t from, size_t to, struct pf_tok *t, size_t max);

/* What a milter entry (an address, or "{ address, ... }") reaches, so that
 * spellings of the same filter compare equal: "inet:lo:PORT" for every
 * loopback spelling (inet:localhost:P, inet:127.0.0.1:P, inet:P),
 * "inet:HOST:PORT", or "unix:/path" (unix: and local:, a relative path
 * under qdir, an absolute one under qdir too for a chrooted service);
 * "?:..." when not understood. */
void pf_milter_target(const char *tok, size_t len, const char *qdir, bool chroot, char *out,
		      size_t outlen);

/* The same for an OpenDKIM Socket value (inet:PORT@HOST, inet:PORT,
 * local:/path, unix:/path, /path): where Postfix finds it. */
void pf_socket_target(const char *sock, char *out, size_t outlen);

/* The targets of one list entry, $name references expanded from maincf
 * (several for a parameter naming several milters). How many, or -1 for a
 * form it does not expand (${name?x}, loops) or more than max. */
int pf_list_targets(const char *maincf, const char *tok, size_t len, const char *qdir, bool chroot,
		    char targets[][PF_TARGET_MAX], size_t max);

/* One filter of ours for pf_plan_milters_ex. */
struct pf_milter {
	const char *addr;            /* Postfix's address of it now: "inet:127.0.0.1:8891" */
	const char *tok;             /* what a list gets: "{ inet:127.0.0.1:8891, default_action=accept }" */
	const char *const *stale;    /* targets (pf_milter_target) of older addresses of the same
					filter, replaced by tok where they are listed; NULL-ended, or NULL */
};

/* Is the line at `line` one of postconf's warnings ("postconf: warning:
 * ...", "/usr/sbin/postconf: warning: ...")? */
bool pf_postconf_warning(const char *line);

/* root's postconf (-c ROOT/etc/postfix, the host's /usr/sbin/postconf)
 * with args: 0 and its output, -1 when there is no postconf or the root
 * has no main.cf and master.cf (Postfix would not run), -2 when it
 * failed (out says why). */
int pf_postconf(const char *root, const char *const args[], char *out, size_t outlen);

/* The last definition of `name` in main.cf text: [*start, *end) and its
 * value (continuation lines joined) into value when not NULL. */
bool pf_cf_find(const char *text, const char *name, const char **start, const char **end,
		struct sbuf *value);

/* text with `name = value` replacing the last definition (or appended). */
char *pf_cf_set(const char *text, const char *name, const char *value);

/* The value of a main.cf parameter (malloc'd), NULL when not set. */
char *pf_milter_value(const char *maincf, const char *name);

/* Our n filters on every mail path, each exactly once: main.cf's
 * smtpd_milters and non_smtpd_milters and master.cf's -o overrides of them
 * (an override that is empty, milters off, is left so and said in notes).
 * Where a list already reaches the filter (any spelling, a $parameter) or
 * an older address of it (stale), the first such entry becomes tok in its
 * place and later ones go; otherwise tok is appended; other milters keep
 * their text and order. When postconf can be run, Postfix's own reading
 * (postconf -x, -P -x) must agree with ours first. Takes maincf; adds
 * main.cf (and master.cf when it changes) to the plan. Refusals are
 * DK_USAGE naming the line. 0 or -1 + err. */
int pf_plan_milters_ex(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		       const struct pf_milter *m, size_t n, struct sbuf *notes, struct dk_err *err);

/* After writing: postconf shows each of addrs exactly once on every mail
 * path (main.cf's two lists, master.cf's overrides that are not empty).
 * 0 with what it found in what (also when there is no postconf), or -1. */
int pf_check_once(const char *root, const char *const addrs[], size_t n, char *what, size_t whatlen,
		  struct dk_err *err);

/* Is the filter with target want (pf_socket_target, pf_milter_target) in
 * the milter list value[0..len) (as postconf -x prints it)? Compared as
 * pf_milter_target spells every entry. */
bool pf_list_has(const char *value, size_t len, const char *want, const char *qdir, bool chroot);

/* The first master.cf service whose own smtpd_milters or non_smtpd_milters
 * (as postconf -P -x reports it, not empty: empty turns milters off there
 * on purpose) lacks the filter with target want (pf_socket_target). 1 with
 * "service/type/parameter" in where and the value in value; 0 when every
 * override has it (or there are none); -1 when postconf cannot tell. */
int pf_override_lacking(const char *root, const char *want, char *where, size_t wlen, char *value,
			size_t vlen);

/* main.cf with the n milters (addresses names[i], tokens toks[i]) in both
 * smtpd_milters and non_smtpd_milters, in order, others kept; added to the
 * plan. Takes maincf (the old text). 0 or -1 + err. */
int pf_plan_milters(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		    const char *const names[], const char *const toks[], size_t n, struct dk_err *err);

/* Is a milter containing one of what[] (NULL-ended) in smtpd_milters or
 * non_smtpd_milters of root's main.cf? Then where says which. */
bool pf_milter_listed(const char *root, const char *const what[], char *where, size_t wlen);

/* Postfix's queue_directory: postconf -x's, else main.cf's, else Debian's. */
void pf_queue_dir(const char *root, const char *maincf, char *out, size_t outlen);

/* Postfix's program installed (2), or only its main.cf (1); signer.h. */
int pf_found(const char *root);

/* Whether master.cf runs smtpd chrooted. */
bool pf_smtpd_chrooted(const char *root);

#endif
