/*
 * batch.h: the line front end (--batch, check, record) and the steps the
 * DNS and MTA modules contribute to it.
 */
#ifndef DKIM_BATCH_H
#define DKIM_BATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "options.h"
#include "setup.h"

struct batch_ctx {
	const struct options *opt;
	struct dk_keyjob *key;     /* the key made or reused */
	struct json *json;         /* NULL unless --json */
	FILE *out;                 /* human-readable text: stdout, or stderr with --json */
	int status;                /* worst status so far (enum dk_status) */
	bool dns_confirmed;        /* set by batch_step_dns: every server serves the
				    * record (after --wait/--publish); the proof
				    * step runs only then */
};

int batch_run(const struct options *opt);       /* ui_batch.c */
int cmd_record(const struct options *opt);      /* ui_batch.c */
int cmd_check(const struct options *opt);       /* check.c */

/* Steps after the key; each adds its JSON member when b->json is set and
 * returns 0, or -1 + err. */
int batch_step_mta(struct batch_ctx *b, struct dk_err *err);     /* mta.c */
int batch_step_dns(struct batch_ctx *b, struct dk_err *err);     /* check.c: --publish, --wait */
/* Before anything is written: is the --tsig-key file usable? 0 or -1 + err
 * (DK_USAGE), so a bad key file stops the run with nothing written. */
int batch_dns_precheck(const struct options *opt, struct dk_err *err);  /* check.c */
int batch_step_proof(struct batch_ctx *b, struct dk_err *err);   /* proof.c */

#endif
