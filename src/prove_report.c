/* prove_report.c: the proof's outcome in words and in JSON, the same for
 * --batch and check --prove (include/proof.h). */
#include <stdio.h>

#include "json.h"
#include "proof.h"

void proof_report(FILE *out, struct json *j, const struct mta_proof *p)
{
	if (out != NULL) {
		switch (p->status) {
		case MTA_PROOF_VERIFIED:
			fprintf(out, "\nProof: %s.\n", p->detail);
			break;
		case MTA_PROOF_KEY_MATCHES:
			fprintf(out, "\nProof: not proved through a signer: %s.\n", p->detail);
			break;
		default:
			fprintf(out, "\nProof: FAILED%s%s%s: %s.\n", p->through[0] ? " through " : "", p->through,
				p->cause != MTA_CAUSE_NONE ? "" : "", p->detail);
			if (p->fix[0])
				fprintf(out, "To fix: %s\n", p->fix);
		}
		for (size_t i = 0; i < p->n_sigs; i++)
			fprintf(out, "  signature d=%s s=%s a=%s: %s%s%s\n", p->sigs[i].domain, p->sigs[i].selector,
				p->sigs[i].algorithm, p->sigs[i].verified ? "verified" : "does not verify",
				p->sigs[i].verified || !p->sigs[i].detail[0] ? "" : ": ",
				p->sigs[i].verified ? "" : p->sigs[i].detail);
	}
	if (j == NULL)
		return;
	json_object_begin(j, "proof");
	json_bool(j, "run", true);
	json_string(j, "through", p->through[0] ? p->through : NULL);
	json_string(j, "status", mta_proof_status_id(p->status));
	json_string(j, "cause", mta_proof_cause_id(p->cause));
	json_bool(j, "verified", p->status == MTA_PROOF_VERIFIED || p->status == MTA_PROOF_KEY_MATCHES);
	json_string(j, "detail", p->detail);
	json_string(j, "fix", p->fix[0] ? p->fix : NULL);
	json_array_begin(j, "signatures");
	for (size_t i = 0; i < p->n_sigs; i++) {
		json_object_begin(j, NULL);
		json_string(j, "domain", p->sigs[i].domain);
		json_string(j, "selector", p->sigs[i].selector);
		json_string(j, "algorithm", p->sigs[i].algorithm);
		json_bool(j, "verified", p->sigs[i].verified);
		json_string(j, "detail", p->sigs[i].detail[0] ? p->sigs[i].detail : NULL);
		json_object_end(j);
	}
	json_array_end(j);
	json_int(j, "milliseconds", (long long)(p->seconds * 1000));
	json_string(j, "message", p->message);
	json_object_end(j);
}
