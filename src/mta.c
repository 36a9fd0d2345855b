/* mta.c: STUB until the MTA issue lands (see include/mta.h). */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "mta.h"

int mta_detect(const char *root, enum dk_mta want, struct mta_info *info, struct dk_err *err)
{
	(void)root; (void)err;
	memset(info, 0, sizeof *info);
	info->kind = want == MTA_AUTO ? MTA_NONE : want;
	snprintf(info->summary, sizeof info->summary, "MTA configuration is not implemented yet");
	return 0;
}

int mta_plan(const struct mta_request *req, struct mta_plan *plan, struct dk_err *err)
{
	(void)req;
	memset(plan, 0, sizeof *plan);
	return dk_fail(err, DK_SYSERR, "MTA configuration is not implemented yet");
}

int mta_apply(const struct mta_request *req, struct mta_plan *plan, struct mta_result *res,
	      struct dk_err *err)
{
	(void)req; (void)plan;
	memset(res, 0, sizeof *res);
	return dk_fail(err, DK_SYSERR, "MTA configuration is not implemented yet");
}

int mta_reload(const struct mta_request *req, const struct mta_plan *plan, char *what,
	       size_t whatlen, struct dk_err *err)
{
	(void)req; (void)plan; (void)err;
	snprintf(what, whatlen, "nothing");
	return 0;
}

void mta_plan_clear(struct mta_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->changes[i].old_text);
		free(plan->changes[i].new_text);
	}
	free(plan->changes);
	free(plan->diff);
	free(plan->explain);
	memset(plan, 0, sizeof *plan);
}

int batch_step_mta(struct batch_ctx *b, struct dk_err *err)
{
	(void)err;
	if (b->json != NULL)
		json_null(b->json, "mta");
	return 0;
}
