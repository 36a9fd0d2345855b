/* fuzz_dns_answer.c: raw DNS answers (what any server, or anyone spoofing
 * one, can send) through ldns into our record code.
 *
 * src/dns.c does not expose a function that takes a wire packet (yet): the
 * harness does what the watcher does with an answer, with the same ldns
 * calls: ldns_wire2pkt, rcode/AA/TC, the TXT set at the name (strings
 * concatenated, RFC 6376 3.6.2.2), CNAME targets, the SOA's negative TTL,
 * then record_parse on each TXT. When dns.c grows a packet-level function
 * (e.g. one that classifies a reply into a dns_server_view), call it from
 * watcher_digest() instead, and keep the invariants below.
 */
#include <stdint.h>

#include <ldns/ldns.h>

#include "fuzz_check.h"
#include "record.h"

#define TXT_MAX 65536

/* The TXT RR's character-strings joined. NULL if malformed (which ldns
 * should have refused already: checked). */
static char *txt_join(const ldns_rr *rr, size_t *len)
{
	size_t cap = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		FUZZ_ASSERT(f != NULL);
		cap += ldns_rdf_size(f);
	}
	char *out = malloc(cap + 1);
	FUZZ_ASSERT(out != NULL);
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR) {
			free(out);
			return NULL;
		}
		const uint8_t *d = ldns_rdf_data(f);
		size_t sz = ldns_rdf_size(f);
		/* ldns promises a length byte that matches the rdata size. */
		FUZZ_ASSERT(sz >= 1 && (size_t)d[0] == sz - 1);
		memcpy(out + n, d + 1, sz - 1);
		n += sz - 1;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static void watcher_digest(const ldns_pkt *pkt)
{
	(void)ldns_pkt_get_rcode(pkt);
	(void)ldns_pkt_aa(pkt);
	(void)ldns_pkt_tc(pkt);
	(void)ldns_pkt_id(pkt);

	const ldns_rr_list *q = ldns_pkt_question(pkt);
	const ldns_rdf *qname = q != NULL && ldns_rr_list_rr_count(q) > 0
				? ldns_rr_owner(ldns_rr_list_rr(q, 0)) : NULL;
	if (qname != NULL) {
		char *s = ldns_rdf2str(qname);
		free(s);
	}

	const ldns_rr_list *ans = ldns_pkt_answer(pkt);
	size_t ntxt = 0;
	for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ans, i);
		switch (ldns_rr_get_type(rr)) {
		case LDNS_RR_TYPE_TXT: {
			size_t len;
			char *txt = txt_join(rr, &len);
			if (txt == NULL || len > TXT_MAX) {
				free(txt);
				break;
			}
			ntxt++;
			struct dkim_keyrec rec;
			char why[256];
			if (record_parse(txt, len, &rec, why, sizeof why) < 0)
				FUZZ_ASSERT(fuzz_one_printable_line(why, sizeof why));
			else
				FUZZ_ASSERT(rec.p != NULL);
			record_keyrec_clear(&rec);
			free(txt);
			break;
		}
		case LDNS_RR_TYPE_CNAME: {
			const ldns_rdf *target = ldns_rr_rdf(rr, 0);
			if (target != NULL && ldns_rdf_get_type(target) == LDNS_RDF_TYPE_DNAME) {
				char *s = ldns_rdf2str(target);
				free(s);
				/* A CNAME loop is the same name twice: compare names. */
				if (qname != NULL)
					(void)ldns_dname_compare(qname, target);
			}
			break;
		}
		default:
			break;
		}
	}
	(void)ntxt;

	/* Negative answers: min(SOA MINIMUM, SOA TTL) from the authority. */
	const ldns_rr_list *auth = ldns_pkt_authority(pkt);
	for (size_t i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		const ldns_rdf *min = ldns_rr_rdf(rr, 6);
		const ldns_rdf *serial = ldns_rr_rdf(rr, 2);
		if (min != NULL && ldns_rdf_size(min) == 4)
			(void)ldns_rdf2native_int32(min);
		if (serial != NULL && ldns_rdf_size(serial) == 4)
			(void)ldns_rdf2native_int32(serial);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK) {
		FUZZ_ASSERT(pkt == NULL);
		return 0;
	}
	watcher_digest(pkt);
	ldns_pkt_free(pkt);
	return 0;
}
