/*
 * proof.h: step 8, sign a test message with the new key and verify the
 * signature against the record as DNS serves it.
 */
#ifndef DKIM_PROOF_H
#define DKIM_PROOF_H

#include <stdbool.h>

#include "common.h"
#include "dns.h"

struct proof_request {
	const char *root;
	const char *domain;
	const char *selector;
	const char *priv_path;             /* master copy, as the target sees it */
	const struct dk_nameserver *ns;    /* as for dns_watch_cfg */
	size_t n_ns;
};

struct proof_result {
	bool signed_ok;
	bool verified;
	char detail[512];                  /* plain words for the admin */
};

int proof_run(const struct proof_request *req, struct proof_result *res, struct dk_err *err);

#endif
