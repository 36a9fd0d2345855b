/*
 * options.h: the command line of DESIGN.md, parsed and validated.
 *
 * options_parse() accepts only valid values: domain and selector are
 * normalised (lower case, no trailing dot), sizes and algorithms checked.
 * Anything else is refused with a one-line reason and status DK_USAGE,
 * before anything is written.
 */
#ifndef DKIM_OPTIONS_H
#define DKIM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "keygen.h"

enum dk_mode {
	MODE_WIZARD,   /* default: curses, needs a terminal */
	MODE_BATCH,    /* --batch */
	MODE_CHECK,    /* dkim-setup check */
	MODE_RECORD,   /* dkim-setup record */
	MODE_HELP,
	MODE_VERSION,
	MODE_STATUS,   /* dkim-setup status */
	MODE_ROTATE,   /* dkim-setup rotate (and --auto) */
	MODE_RETIRE,   /* dkim-setup retire */
};

#define DK_MAX_NAMESERVERS 16
#define DK_ADDR_MAX 64

struct dk_nameserver {
	char addr[DK_ADDR_MAX];   /* numeric IPv4 or IPv6 address */
	uint16_t port;            /* 53 unless ADDR@PORT */
};

struct options {
	enum dk_mode mode;
	char domain[DK_DOMAIN_MAX + 1];    /* "" when not given */
	char selector[DK_LABEL_MAX + 1];   /* "" when not given */
	enum dk_alg alg;
	int bits;                          /* RSA bits; 0 for Ed25519 */
	bool alg_given, bits_given;
	char mta[16];                      /* --mta: "" detect, "none", or a signer's name */
	char root[4096];                   /* "" means the real / */
	struct dk_nameserver ns[DK_MAX_NAMESERVERS];
	size_t n_ns;
	struct dk_nameserver resolvers[DK_MAX_NAMESERVERS];  /* --resolver; none: resolv.conf */
	size_t n_resolvers;
	long wait_secs;                    /* --wait; 0: don't wait */
	bool publish;
	const char *tsig_key_file;         /* --tsig-key, NULL if not given */
	const char *key_file;              /* check --key FILE, NULL if not given */
	bool force, dry_run, json, training;
	/* rotate and retire (include/lifecycle.h) */
	bool auto_mode, purge;             /* rotate --auto; retire --purge */
	long max_age_days, grace_days;     /* --max-age, --grace; 0: the defaults */
	bool prove;                        /* check --prove: also through the running signer */
};

/*
 * Parse argv into *o. Returns 0, or -1 with err->status DK_USAGE and a
 * one-line message naming the bad value and what is allowed.
 */
int options_parse(int argc, char **argv, struct options *o, struct dk_err *err);

void options_usage(FILE *out);

/* The DNS options of this run (--nameserver, --resolver) as they must be
 * typed again, e.g. " --nameserver 127.0.0.1@5300"; "" when none. For the
 * commands the wizard tells the admin to run later. */
void options_dns_args(const struct options *o, char *buf, size_t len);

#endif
