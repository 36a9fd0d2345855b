/*
 * setup.h: the core of a run, shared by --batch, the curses wizard and the
 * tests: look around, defaults, key paths, and making (or reusing) the key
 * pair on disk. No terminal I/O here.
 */
#ifndef DKIM_SETUP_H
#define DKIM_SETUP_H

#include <limits.h>
#include <stdbool.h>
#include <time.h>

#include "common.h"
#include "keygen.h"
#include "options.h"
#include "record.h"

#define DK_PRIV_DIR "/etc/ssl/private"
#define DK_PUB_DIR "/etc/ssl/certs"

/* Step 1, "look around": what this host has. */
struct dk_survey {
	bool is_root;              /* effective uid 0 */
	bool has_exim, has_postfix, has_opendkim, has_rspamd;
	char mailname[DK_DOMAIN_MAX + 1];   /* /etc/mailname, normalised, or "" */
	char hostname[256];                  /* the host name (from root's /etc/hostname under --root) */
	char default_domain[DK_DOMAIN_MAX + 1]; /* mailname, else host's domain, else "" */
	int n_keys;                          /* existing <d>-<s>-private.pem in DK_PRIV_DIR */
	char keys[16][NAME_MAX + 1];         /* the first 16 of their file names */
};

/* Fill *sv by reading files under root. Never fails; missing files leave
 * fields empty. */
void setup_survey(const char *root, struct dk_survey *sv);

/* The default selector for a date: "YYYYMM". out >= 7 bytes. */
void setup_default_selector(time_t now, char *out, size_t outlen);

/* Key file paths as the target system sees them. */
struct dk_paths {
	char priv[PATH_MAX];   /* /etc/ssl/private/<d>-<s>-private.pem */
	char pub[PATH_MAX];    /* /etc/ssl/certs/<d>-<s>-public.pem */
};
int setup_paths(const char *domain, const char *selector, struct dk_paths *p);

/* What is there already at the selector's key paths (step 3's warning). */
enum dk_key_state {
	KEY_ABSENT,
	KEY_PRESENT,       /* a readable key; alg/bits filled */
	KEY_UNREADABLE,    /* exists but is not a key we can parse */
};
struct dk_existing {
	enum dk_key_state state;
	enum dk_alg alg;
	int bits;
	char detail[256];
};
void setup_existing_key(const char *root, const char *domain, const char *selector,
			struct dk_existing *ex);

/* The request and result of making a key pair. */
struct dk_keyjob {
	/* in */
	const char *root;            /* "" for / */
	char domain[DK_DOMAIN_MAX + 1];
	char selector[DK_LABEL_MAX + 1];
	enum dk_alg alg;
	int bits;
	bool force;                  /* replace an existing key (backed up) */
	bool dry_run;
	/* out */
	struct dk_paths paths;
	enum { KEYJOB_CREATED, KEYJOB_REUSED, KEYJOB_REPLACED, KEYJOB_DRY_RUN } outcome;
	char priv_backup[PATH_MAX];  /* when replaced */
	char pub_backup[PATH_MAX];
	char *p;                     /* p= value, malloc'd */
	char *value;                 /* record value, malloc'd */
	char fqdn[DK_DOMAIN_MAX + 2];
	char relative[DK_DOMAIN_MAX + 2];
	bool weak;                   /* RSA-1024 */
	bool big;                    /* RSA-4096: some panels / UDP choke */
};

/*
 * Make the key pair: reuse an identical existing key (same algorithm and
 * size: nothing written, outcome KEYJOB_REUSED), refuse a different one
 * without force (DK_USAGE), or generate and write private (0600 root) and
 * public (0644) PEM files. Slow for large RSA: the wizard runs it on a
 * worker thread; it touches no global state.
 * Release with setup_keyjob_clear().
 */
int setup_make_key(struct dk_keyjob *job, struct dk_err *err);

/* Load the record of an existing key (public PEM, else private). */
int setup_load_key(struct dk_keyjob *job, struct dk_err *err);

void setup_keyjob_clear(struct dk_keyjob *job);

#endif
