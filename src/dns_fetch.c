/* dns_fetch.c: the record as every authoritative server serves it, for the
 * proof (include/dns.h, dns_fetch_txt_all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_priv.h"

int dns_fetch_txt_all(const struct dns_watch_cfg *cfg, char **txt, size_t *n_servers, struct dk_err *err)
{
	struct dns_state s;
	*txt = NULL;
	*n_servers = 0;
	if (dns_state_init(&s, cfg, err) < 0) {
		dns_state_free(&s);
		return -1;
	}
	int rc = -1;
	char pb[200];
	if (dns_discover(&s) < 0) {
		dk_fail(err, DK_SYSERR, "%s", s.error);
	} else if (dns_round(&s, false) < 0) {
		dk_fail(err, DK_SYSERR, "out of memory");
	} else {
		const struct dns_srv *first = NULL;
		rc = 0;
		for (size_t i = 0; i < s.n && rc == 0; i++) {
			const struct dns_srv *v = &s.srv[i];
			if (v->v.unreachable)
				continue;   /* no route from here (IPv6): not counted, as in dns_check */
			if (v->txt == NULL) {
				rc = dk_fail(err, v->v.status == DNS_ERROR ? DK_SYSERR : DK_MISMATCH,
					     "%s (%s) serves no single key record at %s: %s", v->v.name, v->v.addr,
					     s.fqdn, dk_printable(v->v.detail[0] ? v->v.detail : dns_status_name(v->v.status),
								  pb, sizeof pb));
			} else if (first == NULL) {
				first = v;
			} else if (strcmp(first->txt, v->txt) != 0) {
				rc = dk_fail(err, DK_MISMATCH, "the authoritative servers differ: %s (%s) and %s (%s) "
					     "serve different records at %s", first->v.name, first->v.addr, v->v.name,
					     v->v.addr, s.fqdn);
			}
			*n_servers += rc == 0;
		}
		if (rc == 0 && first == NULL)
			rc = dk_fail(err, DK_SYSERR, "no authoritative server of %s could be asked", s.fqdn);
		if (rc == 0 && (*txt = strdup(first->txt)) == NULL)
			rc = dk_fail(err, DK_SYSERR, "out of memory");
	}
	dns_state_free(&s);
	return rc;
}
