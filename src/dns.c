/* dns.c: STUB until the DNS issue lands (see include/dns.h for the contract). */
#include <stdlib.h>
#include <string.h>

#include "dns.h"

const char *dns_status_name(enum dns_status st)
{
	static const char *names[] = { "waiting", "missing", "wrong key", "OK", "revoked",
				       "invalid", "several records", "error" };
	return (size_t)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

int dns_check(const struct dns_watch_cfg *cfg, struct dns_view *out, struct dk_err *err)
{
	(void)cfg;
	memset(out, 0, sizeof *out);
	return dk_fail(err, DK_SYSERR, "DNS checks are not implemented yet");
}

int dns_fetch_txt(const struct dns_watch_cfg *cfg, char **txt, struct dk_err *err)
{
	(void)cfg;
	*txt = NULL;
	return dk_fail(err, DK_SYSERR, "DNS lookups are not implemented yet");
}

struct dns_watch *dns_watch_start(const struct dns_watch_cfg *cfg, struct dk_err *err)
{
	(void)cfg;
	dk_fail(err, DK_SYSERR, "DNS watching is not implemented yet");
	return NULL;
}

int dns_watch_fd(const struct dns_watch *w) { (void)w; return -1; }
void dns_watch_check_now(struct dns_watch *w) { (void)w; }
int dns_watch_view(struct dns_watch *w, struct dns_view *out) { (void)w; (void)out; return 0; }
void dns_watch_stop(struct dns_watch *w) { (void)w; }

void dns_view_clear(struct dns_view *v)
{
	free(v->servers);
	memset(v, 0, sizeof *v);
}

int dns_tsig_load(const char *path, struct dns_tsig *key, struct dk_err *err)
{
	(void)path;
	memset(key, 0, sizeof *key);
	return dk_fail(err, DK_USAGE, "TSIG keys are not implemented yet");
}

void dns_tsig_clear(struct dns_tsig *key) { memset(key, 0, sizeof *key); }

int dns_publish(const struct dns_watch_cfg *cfg, const char *value, const struct dns_tsig *key,
		struct dk_err *err)
{
	(void)cfg; (void)value; (void)key;
	return dk_fail(err, DK_SYSERR, "publishing is not implemented yet");
}
