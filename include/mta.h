/*
 * mta.h: configuring the mail server to sign (step 7).
 *
 * CONTRACT (the wizard codes against it): detect, plan (pure: computes every
 * file change and a diff, writes nothing), apply (backups, writes through
 * fsutil, validates with the MTA's own checker, rolls back on failure),
 * reload (only on consent, never under --root).
 */
#ifndef DKIM_MTA_H
#define DKIM_MTA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "options.h"

struct mta_info {
	enum dk_mta kind;            /* MTA_EXIM, MTA_POSTFIX or MTA_NONE */
	char summary[256];           /* one line: "Exim 4 (Debian, split config, internet)" */
	char warning[512];           /* "" or why signing will not happen as is */
	bool can_sign;               /* plan/apply will produce a signing setup */
};

int mta_detect(const char *root, enum dk_mta want, struct mta_info *info, struct dk_err *err);

struct mta_request {
	const char *root;            /* "" for / */
	const char *domain;
	const char *selector;        /* the RSA selector */
	const char *priv_path;       /* master copy, as the target sees it */
	const char *ed_selector;     /* a second Ed25519 selector, or NULL */
	const char *ed_priv_path;
	bool strict;                 /* Exim DKIM_STRICT / milter tempfail */
	bool dry_run;
};

struct mta_change {
	char path[PATH_MAX];         /* as the target sees it */
	char *old_text;              /* NULL: new file */
	char *new_text;
	mode_t mode;
	bool is_key;                 /* a key copy: never shown in the diff */
};

struct mta_plan {
	struct mta_info info;
	size_t n;
	struct mta_change *changes;
	char *diff;                  /* unified diff of the config changes */
	char *explain;               /* plain words for the screen / batch */
	bool nothing_to_do;          /* already configured exactly so */
};

int mta_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err);

struct mta_result {
	bool applied;
	bool validated;
	bool rolled_back;
	char validator[512];         /* what the checker said */
	char backups[8][PATH_MAX];   /* backup paths made */
	size_t n_backups;
};

int mta_apply(const struct mta_request *req, struct mta_plan *plan, struct mta_result *res,
	      struct dk_err *err);

/* Reload the MTA (and signer). Never under --root: returns 0 and puts the
 * command to run in `what`. */
int mta_reload(const struct mta_request *req, const struct mta_plan *plan, char *what,
	       size_t whatlen, struct dk_err *err);

void mta_plan_clear(struct mta_plan *plan);

#endif
