/* fuzz_dns_answer.c: raw DNS answers (what any server, or anyone spoofing
 * one, can send) through ldns into the watcher's own judge.
 *
 * src/dns.c keeps the judge static, so the harness includes the file and
 * fuzz.mk links it without build/fuzz/obj/dns.o (EXCLUDE_fuzz_dns_answer).
 * Per input: byte 0 picks the local key (none / an RSA p= / an Ed25519 p=)
 * and whether the question name is ours or the packet's; the rest is the
 * wire packet. ldns_wire2pkt, then judge_txt() following CNAMEs as a round
 * does (bounded by DNS_CNAME_DEPTH), then zone_from_reply().
 */
#include "../../src/dns.c"

#include "fuzz_check.h"

#define FQDN "s1._domainkey.example.com"
static const char *P_RSA =
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlFjXNnWl3fEZpCn5XJrU/Z/G8cbf81/dCTmQBL5ysktq9Nr8"
	"6XBy0v1dbEy8+zY8lAofwovQMF6LNwNFE1NoJCLqzlGb0PGhAUzsakoDm4AqkxT8iSlHFDG/DNUAF2+zo5kYMCYRE7y"
	"Ig7y6N5NMvlrSlLTXpViSk3cv4zuVWmwnFXGS7V5KXc6Cs2XBB6RwU1o6CHC/PizJ2fhj+o10sqdpbZj5lqlXS8zms"
	"Zy5SxH+lVw+dKqSS60RFZpdTOsQFltzxOzFPRmU4Stj/XSoZ7iix8LzhOXMCKTOiR0Ou4KK6FqVChHRXxUE6bboC5f"
	"ajV5n7rQOXz9fDKhG4iWpVwIDAQAB";
static const char *P_ED = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t how = data[0];
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, data + 1, size - 1) != LDNS_STATUS_OK)
		return 0;

	struct dns_state st;
	memset(&st, 0, sizeof st);
	snprintf(st.fqdn, sizeof st.fqdn, "%s", FQDN);
	st.cancel_fd = -1;
	switch (how % 3) {
	case 0: st.expect_p = NULL; st.alg = DK_ALG_RSA; break;
	case 1: st.expect_p = (char *)P_RSA; st.alg = DK_ALG_RSA; break;
	case 2: st.expect_p = (char *)P_ED; st.alg = DK_ALG_ED25519; break;
	}
	char qname[256];
	snprintf(qname, sizeof qname, "%s", FQDN);
	const ldns_rr_list *q = ldns_pkt_question(pkt);
	if ((how & 4) && q != NULL && ldns_rr_list_rr_count(q) > 0)
		dns_dname_text(ldns_rr_owner(ldns_rr_list_rr(q, 0)), qname, sizeof qname);

	struct dns_srv d;
	memset(&d, 0, sizeof d);
	d.v.status = DNS_PENDING;
	int depth = 0, hops = 0;
	char next[256];
	/* The same packet answers every hop: a worst case for CNAME chains. */
	/* bit 3: judged as a recursive resolver's answer (no AA expected) */
	while (judge_txt(&st, &d, pkt, qname, &depth, next, (how & 8) != 0) == 1) {
		FUZZ_ASSERT(++hops <= DNS_CNAME_DEPTH + 1);
		FUZZ_ASSERT(memchr(next, '\0', 256) != NULL);
		snprintf(qname, sizeof qname, "%s", next);
	}
	FUZZ_ASSERT(d.v.status >= DNS_PENDING && d.v.status <= DNS_ERROR);
	/* The detail reaches the admin's screen: one printable line. */
	FUZZ_ASSERT(fuzz_one_printable_line(d.v.detail, sizeof d.v.detail));
	if (d.txt != NULL)
		FUZZ_ASSERT(strlen(d.txt) <= d.txt_len);
	if (d.v.status == DNS_MATCH && st.expect_p != NULL)
		FUZZ_ASSERT(d.txt != NULL && strstr(d.txt, st.expect_p) != NULL);
	free(d.txt);

	char zone[256];
	zone_from_reply(pkt, FQDN, zone, sizeof zone);
	FUZZ_ASSERT(fuzz_one_printable_line(zone, sizeof zone));
	ldns_pkt_free(pkt);
	return 0;
}
