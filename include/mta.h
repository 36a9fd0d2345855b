/*
 * mta.h: configuring the mail server to sign (step 7), the same for every
 * signer (Exim; Postfix + OpenDKIM; Postfix + rspamd: include/signer.h).
 *
 * CONTRACT (the front ends code against it): detect, plan (pure: computes
 * every file change and a diff, writes nothing), apply (backups, writes
 * through fsutil, validates with the signer's own checker, rolls back on
 * failure), reload (only on consent, never under --root).
 */
#ifndef DKIM_MTA_H
#define DKIM_MTA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "options.h"

struct signer;

struct mta_info {
	const struct signer *signer; /* the signer chosen; NULL: none (see summary) */
	const char *name;            /* its --mta word ("exim", "postfix", "rspamd"); NULL: none */
	char summary[256];           /* one line: "Exim 4 (Debian, split config, internet)" */
	char warning[512];           /* "" or why signing will not happen as is */
	bool can_sign;               /* plan/apply will produce a signing setup */
	bool refused;                /* !can_sign because of a configuration dkim-setup does
					not edit (exit 2, the warning says which); false: a
					program or file is missing (exit 3) */
	/* Added by the MTA module (read-only for front ends). */
	int flavor;                  /* enum mta_flavor */
	char configtype[32];         /* Debian exim4: dc_eximconfig_configtype */
	bool has_signer;             /* Postfix: OpenDKIM or rspamd installed / configured */
	bool ed25519_ok;             /* the signer can add an Ed25519 signature */
};

/* What mta_detect found, in more detail than `kind`. */
enum mta_flavor {
	MTA_FL_NONE,
	MTA_FL_EXIM_UNSPLIT,         /* Debian exim4, exim4.conf.template + localmacros */
	MTA_FL_EXIM_SPLIT,           /* Debian exim4, conf.d */
	MTA_FL_EXIM_PLAIN,           /* a hand-written exim.conf / exim4.conf */
	MTA_FL_POSTFIX,              /* Postfix + OpenDKIM */
	MTA_FL_RSPAMD,               /* Postfix + rspamd */
};

/* want: NULL or "" to detect, "none", or a signer's --mta word (anything
 * else: -1, DK_USAGE). Where nothing can be configured, info->signer is
 * NULL and info->summary says why. */
int mta_detect(const char *root, const char *want, struct mta_info *info, struct dk_err *err);

/* Another signer of the same MTA that could sign here instead of the one
 * info names (Postfix with both OpenDKIM and rspamd, rspamd not yet on the
 * mail path): its --mta word, or NULL. For the wizard to offer the choice. */
const char *mta_alternative(const char *root, const struct mta_info *info);

struct mta_request {
	const char *root;            /* "" for / */
	const char *domain;
	const char *selector;        /* the RSA selector */
	const char *priv_path;       /* master copy, as the target sees it */
	const char *ed_selector;     /* a second Ed25519 selector, or NULL */
	const char *ed_priv_path;
	bool strict;                 /* Exim DKIM_STRICT / milter tempfail */
	bool dry_run;
	/* Added by the MTA module; zero values keep the old meaning. */
	const char *mta;             /* NULL: as mta_detect finds; else as for mta_detect */
	bool reload_if_running;      /* mta_reload: only reload a service already running */
	/* The new record is not known to be served by every authoritative
	 * server: a domain that already signs with another selector keeps
	 * signing with it (the new key is installed beside it; see
	 * mta_plan.kept_selector). false: switch to the new selector. */
	bool defer_switch;
};

struct mta_change {
	char path[PATH_MAX];         /* as the target sees it */
	char *old_text;              /* NULL: new file */
	char *new_text;
	mode_t mode;
	bool is_key;                 /* a key copy: never shown in the diff */
	char owner[33];              /* user name; "" = root */
	char group[33];              /* group name; "" = root */
	/* Set by mta_apply. */
	char backup[PATH_MAX];       /* where the replaced file was kept, or "" */
	bool not_restored;           /* rollback could not put this file back */
	char why[160];               /* ... and why */
};

/* A directory the plan creates (or whose mode/owner it fixes). */
struct mta_dir {
	char path[PATH_MAX];
	mode_t mode;
	char owner[33], group[33];
	bool enforce;                /* ours: fix mode and owner if it exists */
	bool not_restored;           /* set by a rollback that could not undo it */
	char why[160];
};

struct mta_plan {
	struct mta_info info;
	size_t n;
	struct mta_change *changes;
	char *diff;                  /* unified diff of the config changes */
	char *explain;               /* plain words for the screen / batch */
	bool nothing_to_do;          /* already configured exactly so */
	/* Added by the MTA module. */
	size_t n_dirs;
	struct mta_dir *dirs;        /* malloc'd, n_dirs of them */
	bool ed25519;                /* the plan signs with the Ed25519 selector too */
	char reload_cmd[256];        /* what reloading means, in shell words, for the admin */
	bool regenerate;             /* Exim: the files are right but the running config lacks them */
	/* The selector that keeps signing for the domain because of
	 * defer_switch ("" when the new one signs); explain says what to run. */
	char kept_selector[DK_LABEL_MAX + 1];
	/* Postfix signers: the address Postfix reaches the signing milter at,
	 * as written into its lists ("inet:127.0.0.1:8891"); "" otherwise. */
	char milter_addr[PATH_MAX];
};

int mta_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err);

/* The files apply replaced were kept in FS_BACKUP_DIR: each change's
 * `backup` names where. After a failed apply, `rolled_back` is true only
 * when every file and directory was put back; the ones that could not be
 * are marked not_restored (with why) in the plan, n_not_restored of them. */
struct mta_result {
	bool applied;
	bool validated;
	bool rolled_back;
	size_t n_not_restored;
	char validator[512];         /* what the checker said */
	size_t n_backups;            /* changes with a backup */
	char key_access[512];        /* what the key-access check found */
};

int mta_apply(const struct mta_request *req, struct mta_plan *plan, struct mta_result *res,
	      struct dk_err *err);

/* Reload the MTA (and signer) with systemctl when systemd runs the host.
 * Never under --root, and never without systemd: then it returns 0 and puts
 * the command(s) to run in `what`; otherwise `what` says what was done. */
int mta_reload(const struct mta_request *req, const struct mta_plan *plan, char *what,
	       size_t whatlen, struct dk_err *err);

/* Whether mta_reload() would really reload: NULL when it would, otherwise
 * the reason it will only print the command ("this is a sandbox (--root)",
 * "systemd is not running here", ...). */
const char *mta_no_reload_reason(const struct mta_request *req);

void mta_plan_clear(struct mta_plan *plan);

/* Retiring domain/selector: every signer's config references to it
 * removed (each file replaced atomically, the old one backed up) and
 * every signer's copy of its key deleted. A one-line account of what was
 * done goes to `what`. Call only once it signs no more. 0 or -1 + err. */
int mta_forget(const char *root, const char *domain, const char *selector, char *what, size_t whatlen,
	       struct dk_err *err);

/* A signer's copy of a key, compared with the master. */
struct mta_copy {
	char path[PATH_MAX];
	char signer[16];             /* whose copy: its --mta word */
	enum { MTA_COPY_SAME, MTA_COPY_DIFFERENT, MTA_COPY_UNREADABLE } state;
	char detail[256];            /* plain words when not the same */
};

/* Every signer's copy of domain/selector that exists under root, each
 * compared with the key whose p= value is `p`, into *out (malloc'd, free
 * it). Returns how many, or -1 + err. Reading a copy needs root; one that
 * cannot be read is reported as such, not as different. */
int mta_compare_copies(const char *root, const char *domain, const char *selector, const char *p,
		       struct mta_copy **out, struct dk_err *err);

/* A signer's copy of a key, found by its file name. */
struct mta_copy_name {
	char domain[256];
	char selector[64];
	char signer[16];             /* whose copy: its --mta word */
};

/* Every signer's key copy under root, from the file names in each
 * signer's key directory, into *out (malloc'd, free it; NULL when none).
 * Returns how many. A directory that is missing or cannot be read
 * counts as empty. */
size_t mta_list_copies(const char *root, struct mta_copy_name **out);

/* The selectors dkim-setup configured for `domain` in this MTA so far
 * (space-separated into out, "" if none): Exim's block, OpenDKIM's
 * signing tables. Lets a new key be paired with the one already in use. */
void mta_configured_selectors(const char *root, const struct mta_info *info, const char *domain,
			      char *out, size_t outlen);

/* ---- Step 8: the proof through the running signer ----
 *
 * A test message from postmaster@domain goes through the signer that runs
 * now (OpenDKIM's or rspamd's milter at the socket its configuration
 * names; Exim's own delivery), and the signature(s) it added are verified
 * with a general DKIM verifier (libopendkim) against the record as every
 * authoritative server serves it (no resolver is asked). "Verified" means
 * only that; anything less is a failure with its cause named.
 */
enum mta_proof_status {
	MTA_PROOF_VERIFIED,          /* the signer's own signature verified: exit 0 */
	MTA_PROOF_KEY_MATCHES,       /* no signer (--mta none, --root): the key matches the
					published record, which is not a proof: exit 0 */
	MTA_PROOF_FAILED,            /* cause and fix say why: exit 1 */
	MTA_PROOF_ERROR,             /* could not be run (DNS unreachable, ...): exit 3 */
};

enum mta_proof_cause {
	MTA_CAUSE_NONE,
	MTA_CAUSE_NOT_RUNNING,       /* "not_running": nothing listens where the config says */
	MTA_CAUSE_NOT_HOOKED,        /* "not_hooked": the MTA does not send mail to the signer */
	MTA_CAUSE_OTHER_SELECTOR,    /* "other_selector": signed, but with another s= */
	MTA_CAUSE_OTHER_KEY,         /* "other_key": the signer's copy is another key */
	MTA_CAUSE_KEY_UNREADABLE,    /* "key_unreadable": the signer cannot read its key */
	MTA_CAUSE_NO_SIGNATURE,      /* "no_signature": the message came back unsigned */
	MTA_CAUSE_DNS_DIFFERS,       /* "dns_differs": DNS serves another key, or servers differ */
	MTA_CAUSE_NO_ROUTE,          /* "no_route": no safe way through this signer */
	MTA_CAUSE_ERROR,             /* "error": see detail */
};

#define MTA_PROOF_SIGS 4

/* One signature found on the message that came back. */
struct mta_proof_sig {
	char domain[256], selector[64], algorithm[32];
	bool verified;               /* libopendkim: signature and body hash pass */
	char detail[256];            /* the verifier's words when not */
};

struct mta_proof {
	char through[32];            /* "OpenDKIM", "rspamd", "Exim"; "" with no signer */
	enum mta_proof_status status;
	enum mta_proof_cause cause;
	char detail[1024];           /* plain words: what was proved, or what failed and why */
	char fix[512];               /* the command(s) that fix it; "" if none */
	size_t n_sigs;
	struct mta_proof_sig sigs[MTA_PROOF_SIGS];
	char *message;               /* the message as the signer returned it (CRLF), or NULL;
					malloc'd: mta_proof_clear() frees it */
	double seconds;              /* how long the proof took */
};

/*
 * Prove req->domain with req->selector (and req->ed_selector when set)
 * through the signer req->mta names (NULL or "": as mta_detect finds;
 * "none": no signer, only compares the master key req->priv_path with the
 * record). DNS: the n_ns servers of ns, else the zone's authoritative ones.
 * Returns 0 when out->status is VERIFIED or KEY_MATCHES; otherwise -1 with
 * err->status DK_MISMATCH (FAILED: exit 1) or DK_SYSERR (ERROR: exit 3),
 * and out says why in either case. Never writes a file; runs the signer
 * as it runs now (no reload). Under --root there is no running signer:
 * KEY_MATCHES at best.
 */
int mta_prove(const struct mta_request *req, const struct dk_nameserver *ns, size_t n_ns,
	      struct mta_proof *out, struct dk_err *err);

/* "verified", "key_matches", "failed", "error". */
const char *mta_proof_status_id(enum mta_proof_status st);
/* The cause words above ("not_running", ...); NULL for MTA_CAUSE_NONE. */
const char *mta_proof_cause_id(enum mta_proof_cause c);
void mta_proof_clear(struct mta_proof *p);

#endif
