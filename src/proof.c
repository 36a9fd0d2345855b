/* proof.c: STUB until the MTA issue lands (see include/proof.h). */
#include <string.h>

#include "batch.h"
#include "proof.h"

int proof_run(const struct proof_request *req, struct proof_result *res, struct dk_err *err)
{
	(void)req;
	memset(res, 0, sizeof *res);
	return dk_fail(err, DK_SYSERR, "the proof step is not implemented yet");
}

int batch_step_proof(struct batch_ctx *b, struct dk_err *err)
{
	(void)err;
	if (b->json != NULL)
		json_null(b->json, "proof");
	return 0;
}
