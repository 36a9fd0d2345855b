/* prove_postfix.h: the prove() ops of the Postfix signers (src/prove_postfix.c). */
#ifndef DKIM_PROVE_POSTFIX_H
#define DKIM_PROVE_POSTFIX_H

#include "signer.h"

int prove_opendkim(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		   struct dk_err *err);
int prove_rspamd(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
		 struct dk_err *err);

#endif
