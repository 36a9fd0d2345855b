/*
 * lifecycle.h: keys over time (status, rotate, retire, rotate --auto).
 *
 * The inventory: every domain and selector this host has a key for (the
 * master copies in /etc/ssl/private, and the signers' copies) with what
 * the signer does with it now. The state: what DNS and the files cannot
 * say by themselves (a rotation under way, when a selector stopped
 * signing, that it was retired), one small text file per domain in
 * LC_STATE_DIR, written atomically. Everything in the state can be lost:
 * the commands derive it again from keys, signer configs and DNS, and
 * where a time is lost they take the safe side (the grace period starts
 * again from the moment the loss is noticed).
 */
#ifndef DKIM_LIFECYCLE_H
#define DKIM_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "common.h"
#include "keygen.h"
#include "mta.h"
#include "options.h"

#define LC_STATE_DIR "/var/lib/dkim-setup"
#define LC_MAX_AGE_DAYS 180      /* rotate --auto: M3AAWG's "about every six months" */
#define LC_GRACE_DAYS 7          /* mail in flight, retries, mailing-list delays */
#define LC_DAY 86400
#define LC_SELS_MAX 32           /* selectors remembered per domain */

/* Now, as every lifecycle decision sees it. The test build (tests/lib/
 * hook.c) may move it: DKIM_SETUP_TEST_NOW=+Nd (days ahead) or =EPOCH. */
time_t lc_now(void);
/* The hook behind lc_now: the real time in dkim-setup, a moved one in
 * the test build (a strong definition in tests/lib/hook.c). */
time_t lc_test_clock(time_t real);

/* What the state file of a domain says. */
struct lc_sel_state {
	char sel[DK_LABEL_MAX + 1];
	time_t stopped;              /* stopped signing (switched away); 0 unknown */
	time_t retired;              /* revoked record published or shown; 0 not */
};
enum lc_stage { LC_IDLE, LC_KEYS, LC_PUBLISHED, LC_SWITCHED };
struct lc_state {
	enum lc_stage stage;         /* a rotation under way (LC_IDLE: none) */
	char new_rsa[DK_LABEL_MAX + 1], new_ed[DK_LABEL_MAX + 1];
	char old_rsa[DK_LABEL_MAX + 1], old_ed[DK_LABEL_MAX + 1];
	size_t n;
	struct lc_sel_state s[LC_SELS_MAX];
};

/* Read the state of domain (all zero when there is none or it does not
 * parse: it is only ever a help). */
void lc_state_load(const char *root, const char *domain, struct lc_state *st);
/* Write it atomically (0644: no secrets), creating LC_STATE_DIR. */
int lc_state_save(const char *root, const char *domain, const struct lc_state *st, struct dk_err *err);
/* The entry of sel, created when asked (NULL when full or not found). */
struct lc_sel_state *lc_state_sel(struct lc_state *st, const char *sel, bool create);

/* One selector of one domain. */
struct lc_key {
	char domain[DK_DOMAIN_MAX + 1];
	char selector[DK_LABEL_MAX + 1];
	bool master;                 /* /etc/ssl/private has it */
	bool unreadable;             /* ... but it is not a key we can read */
	enum dk_alg alg;
	int bits;
	time_t created;              /* the master's mtime; 0 unknown */
	char *p;                     /* p= of the master, malloc'd; NULL without one */
	bool signing;                /* the signer is configured with it now */
	enum { LC_COPY_NONE, LC_COPY_SAME, LC_COPY_DIFFERENT, LC_COPY_UNREADABLE } copy;
	char copy_path[256];         /* the (first) signer copy, "" none */
};

struct lc_inventory {
	struct mta_info info;        /* the signer found (info.signer NULL: none) */
	size_t n;
	struct lc_key *k;            /* sorted by domain, then selector */
};

/* Every key of this host (domain NULL) or of one domain, with the signer
 * named by mta ("" detect). 0 or -1 + err. */
int lc_inventory_load(const char *root, const char *mta, const char *domain, struct lc_inventory *inv,
		      struct dk_err *err);
void lc_inventory_free(struct lc_inventory *inv);

/* Split "<domain>-<selector>-private.pem" (selectors are one label, the
 * domain has a dot). 0, or -1 when the name is not one of ours. */
int lc_split_key_name(const char *name, char *domain, size_t dlen, char *sel, size_t slen);

/* A selector never used for domain before: `want` when given (-1 + err
 * DK_USAGE when it is taken), else YYYYMM of now, then YYYYMMb, c, ...
 * "Used" means a key file, a signer copy, a backup of a retired key or a
 * state entry exists for it. */
int lc_new_selector(const char *root, const char *domain, const char *want, const struct lc_state *st,
		    char *out, size_t outlen, struct dk_err *err);

/* A selector lc_new_selector refuses as used that a rotation may still
 * take: its RSA key (and, with_ed, SEL-ed's Ed25519 key when it exists)
 * was made on this host but never signed, was never stopped or retired,
 * and any signer copy is the same key: what a switch held back until DNS
 * served the record leaves (the old selector kept signing). The key, or
 * NULL. */
const struct lc_key *lc_adoptable(const char *root, const char *domain, const char *sel, bool with_ed,
				  const struct lc_inventory *inv, const struct lc_state *st);

/* Retire domain/sel (retire.c): refused while it signs or inside the grace
 * period (opt->grace_days; --force overrides the grace only), then the
 * revoked record (v=DKIM1; p=) published (opt->publish) and waited for, or
 * shown on out; the signers' copies and config references removed; the
 * master kept as a dated backup (opt->purge: deleted). The story goes to
 * out (NULL: quiet), one line of what was done to detail. 0 or -1 + err. */
int lc_retire(const struct options *opt, const char *domain, const char *sel, FILE *out, char *detail,
	      size_t dlen, struct dk_err *err);

/* The command words' entries (include/cmd.h). */
int cmd_status(const struct options *opt);    /* status.c */
int cmd_rotate(const struct options *opt);    /* rotate.c (and --auto) */
int cmd_retire(const struct options *opt);    /* retire.c */

#endif
