/*
 * proof.h: step 8, sign a test message with the new key and verify the
 * signature against the record as DNS serves it.
 */
#ifndef DKIM_PROOF_H
#define DKIM_PROOF_H

#include <stdbool.h>
#include <stdio.h>

#include "common.h"
#include "dns.h"
#include "mta.h"

struct json;

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

/* Fetch the record with dns_fetch_txt() from req->ns (or the zone's
 * authoritative servers) and verify as proof_verify_record() does.
 * 0 when verified; -1 + err otherwise: DK_MISMATCH when DNS serves no key
 * or a different one, DK_SYSERR when the key or DNS could not be used.
 * res->detail says what happened in plain words either way. */
int proof_run(const struct proof_request *req, struct proof_result *res, struct dk_err *err);

/* The same with the record text given (TXT strings joined): sign the fixed
 * test message with the key at root+priv_path and verify it against
 * `record`. req->ns is not used. */
int proof_verify_record(const struct proof_request *req, const char *record, struct proof_result *res,
			struct dk_err *err);

/* The fixed test message, signed (relaxed/relaxed, rsa-sha256 or
 * ed25519-sha256, d=domain, s=selector), CRLF line ends, DKIM-Signature
 * first. *msg malloc'd. */
int proof_sign_message(const char *pem, size_t pemlen, const char *domain, const char *selector,
		       char **msg, struct dk_err *err);

/* Verify a message made by proof_sign_message against a key record.
 * 0, or -1 + err (DK_MISMATCH: the record does not verify it); detail gets
 * plain words either way. */
int proof_verify_message(const char *msg, const char *record, char *detail, size_t dlen,
			 struct dk_err *err);

/* The outcome of mta_prove() in plain words on out (NULL: none) and as
 * the "proof" member of j (NULL: none): {run, through, status, cause,
 * verified, detail, fix, signatures[], milliseconds}. */
void proof_report(FILE *out, struct json *j, const struct mta_proof *p);

#endif
