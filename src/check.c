/* check.c: STUB until the DNS issue lands: `check`, and the batch DNS step. */
#include "batch.h"
#include "dns.h"

int cmd_check(const struct options *opt)
{
	(void)opt;
	fprintf(stderr, "dkim-setup: check is not implemented yet\n");
	return DK_SYSERR;
}

int batch_step_dns(struct batch_ctx *b, struct dk_err *err)
{
	if (b->opt->wait_secs > 0 || b->opt->publish)
		return dk_fail(err, DK_SYSERR, "waiting for DNS is not implemented yet");
	return 0;
}
