/* prove_signer.h: the signers' prove() ops (src/prove_postfix.c,
 * src/prove_exim.c) and what they share. */
#ifndef DKIM_PROVE_SIGNER_H
#define DKIM_PROVE_SIGNER_H

#include <stdbool.h>

#include "signer.h"

int prove_opendkim(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		   struct dk_err *err);
int prove_rspamd(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		 struct dk_err *err);
int prove_exim(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
	       struct dk_err *err);

/* Does the message (CRLF) carry no DKIM-Signature at all? */
bool prove_is_unsigned(const char *text);

/* A signer that signs nothing or holds mail: is its copy of the key for
 * req->selector or req->ed_selector unreadable to `user` (as the daemon
 * runs)? Then true, with the copy's path and plain words; out->cause,
 * detail and fix are set (`how` ends the detail: "so Postfix holds the
 * mail"), owner and mode say what the copy must be. */
bool prove_key_unreadable(const struct mta_request *req, const char *user, const char *owner,
			  const char *mode, const char *how, struct mta_proof *out);

#endif
