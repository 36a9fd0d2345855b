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

/* The last definition of `name` in main.cf text: [*start, *end) and its
 * value (continuation lines joined) into value when not NULL. */
bool pf_cf_find(const char *text, const char *name, const char **start, const char **end,
		struct sbuf *value);

/* text with `name = value` replacing the last definition (or appended). */
char *pf_cf_set(const char *text, const char *name, const char *value);

/* A milter list with our token (whose address is ours_name) added or
 * updated; every other milter kept in order. NULL when the list is longer
 * or odder than it edits safely, or out of memory. */
char *pf_milters_with(const char *value, const char *ours_name, const char *ours_tok);

/* The value of a main.cf parameter (malloc'd), NULL when not set. */
char *pf_milter_value(const char *maincf, const char *name);

/* main.cf with the n milters (addresses names[i], tokens toks[i]) in both
 * smtpd_milters and non_smtpd_milters, in order, others kept; added to the
 * plan. Takes maincf (the old text). 0 or -1 + err. */
int pf_plan_milters(const struct mta_request *req, struct mta_plan *plan, char *maincf,
		    const char *const names[], const char *const toks[], size_t n, struct dk_err *err);

/* Is a milter containing one of what[] (NULL-ended) in smtpd_milters or
 * non_smtpd_milters of root's main.cf? Then where says which. */
bool pf_milter_listed(const char *root, const char *const what[], char *where, size_t wlen);

/* Postfix's program installed (2), or only its main.cf (1); signer.h. */
int pf_found(const char *root);

/* Whether master.cf runs smtpd chrooted. */
bool pf_smtpd_chrooted(const char *root);

#endif
