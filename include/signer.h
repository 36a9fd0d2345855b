/*
 * signer.h: what one signer (Exim; Postfix + OpenDKIM; Postfix + rspamd)
 * provides, as one ops table per file (src/signer_<name>.c). src/signer.c
 * holds the list and is the only code that dispatches on it: the front ends
 * code against include/mta.h and never ask which signer it is.
 *
 * Adding a signer: one src/signer_<name>.c exporting one `struct signer`,
 * one line in signer.c's table, its tests and its manual section.
 */
#ifndef DKIM_SIGNER_H
#define DKIM_SIGNER_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "mta.h"

/* What "reload" means for a signer: systemctl verb + unit, in order. */
struct signer_step {
	const char *verb;            /* "reload", "restart", "enable", "daemon-reload" */
	const char *unit;            /* NULL for daemon-reload */
	const char *probe;           /* the unit that must run for this step to be done when
					only running services are reloaded; NULL: always */
};

#define SIGNER_STEPS_MAX 8

/* The test message a signer's prove() sends (made by src/prove.c). */
struct signer_testmsg {
	const char *sender;          /* envelope and From: postmaster@domain */
	const char *rcpt;            /* envelope recipient, in a .invalid domain */
	const char *text;            /* header and body, CRLF line ends, no folding */
	const char *id;              /* unique, also in Message-ID: finds it on arrival */
};

struct signer_reload {
	struct signer_step steps[SIGNER_STEPS_MAX];
	size_t n;
};

struct signer {
	const char *name;            /* --mta word and JSON "name": "exim", "postfix", "rspamd" */
	const char *mta;             /* the MTA it signs for: "Exim", "Postfix" */

	/* Which MTA is here: bit 2 its program is installed, bit 1 only its
	 * configuration (leftovers). Signers of one MTA give the same answer. */
	int (*mta_found)(const char *root);
	/* Among the signers of one MTA, the one with the highest preference
	 * is chosen when --mta is not given (rspamd where it is installed or
	 * already signs; OpenDKIM otherwise). */
	int (*preference)(const char *root);

	/* Fill info (summary, warning, can_sign, ...): never writes. 0 or -1. */
	int (*detect)(const char *root, struct mta_info *info, struct dk_err *err);
	/* Pure: every file change, directory and explanation into plan
	 * (changes, dirs, explain, ed25519, reload_cmd). 0 or -1 + err. */
	int (*plan)(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err);
	/* After the files are written: the signer's own checker and the key
	 * access, said in res->validator and res->key_access. -1 rolls back. */
	int (*validate)(const struct mta_request *req, const struct mta_plan *plan,
			struct mta_result *res, struct dk_err *err);
	/* After validation, what makes the files take effect short of a reload
	 * (update-exim4.conf, dpkg-statoverride); NULL: nothing. -1 rolls back. */
	int (*activate)(const struct mta_request *req, const struct mta_plan *plan,
			struct mta_result *res, struct dk_err *err);
	/* The services to reload or restart for this plan, in order. */
	void (*reload)(const struct mta_plan *plan, struct signer_reload *out);
	/* The selectors this signer is configured with for domain now,
	 * space-separated ("" if none). */
	void (*selectors)(const char *root, const struct mta_info *info, const char *domain, char *out,
			  size_t outlen);
	/* Where this signer's copy of domain/selector lives. 0, or -1 when the
	 * name does not fit. */
	int (*key_copy)(const char *domain, const char *selector, char *out, size_t outlen);
	/* Retiring domain/selector (it signs no more): the config files that
	 * still name it, as changes into plan (mta_add_change). NULL: none
	 * beyond the key copy. */
	int (*forget)(const char *root, const char *domain, const char *selector, struct mta_plan *plan,
		      struct dk_err *err);
	/* The test message through this signer as it runs now (never a
	 * reload, never a file written): 0 with out->message set to what came
	 * back, signed or not (and out->detail, when set, a clause that
	 * mta_prove adds to what the proof says); or -1 with out->cause, detail and fix set
	 * (NOT_RUNNING, NOT_HOOKED, KEY_UNREADABLE, NO_ROUTE, ERROR) and err.
	 * NULL: this signer cannot be proved. Verifying is not its job. */
	int (*prove)(const struct mta_request *req, const struct signer_testmsg *msg,
		     struct mta_proof *out, struct dk_err *err);
};

/* The signer called `name` (an --mta word), or NULL. */
const struct signer *signer_by_name(const char *name);

/* The --mta words, "exim|postfix|rspamd", for usage texts. */
const char *signer_names(void);

#endif
