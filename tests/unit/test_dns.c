/* Unit tests for dns: TSIG key files, and the watch API's promises (never
 * blocks the caller, stops at once even mid-query). Network traffic goes
 * only to sockets this test binds on 127.0.0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char tmpl[64];

static const char *write_tmp(const char *text)
{
	snprintf(tmpl, sizeof tmpl, "/tmp/test_dns_key.XXXXXX");
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return tmpl;
}

static int load(const char *text, struct dns_tsig *k, struct dk_err *e)
{
	const char *p = write_tmp(text);
	dk_err_clear(e);
	int rc = dns_tsig_load(p, k, e);
	unlink(p);
	return rc;
}

#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="

static void test_tsig_colon(void **state)
{
	(void)state;
	struct dns_tsig k;
	struct dk_err e;
	assert_int_equal(load("hmac-sha256:dkim-test:" SECRET "\n", &k, &e), 0);
	assert_string_equal(k.algorithm, "hmac-sha256.");
	assert_string_equal(k.name, "dkim-test");
	assert_string_equal(k.secret, SECRET);
	dns_tsig_clear(&k);
	assert_int_equal(k.secret[0], 0);

	assert_int_equal(load("HMAC-SHA512:k2:" SECRET, &k, &e), 0);
	assert_string_equal(k.algorithm, "hmac-sha512.");
	assert_int_equal(load("k3:" SECRET "\n", &k, &e), 0);
	assert_string_equal(k.algorithm, "hmac-sha256.");
	assert_string_equal(k.name, "k3");
}

static void test_tsig_bind(void **state)
{
	(void)state;
	struct dns_tsig k;
	struct dk_err e;
	assert_int_equal(load("# tsig-keygen output\n"
			      "key \"upd.example.\" {\n\talgorithm hmac-sha512; // strong\n"
			      "\t/* the secret */ secret \"" SECRET "\";\n};\n", &k, &e), 0);
	assert_string_equal(k.algorithm, "hmac-sha512.");
	assert_string_equal(k.name, "upd.example.");
	assert_string_equal(k.secret, SECRET);
	assert_int_equal(load("key unquoted { secret \"" SECRET "\"; algorithm hmac-sha256; };", &k, &e), 0);
	assert_string_equal(k.name, "unquoted");

	assert_int_equal(load("key \"x\" { algorithm hmac-sha256; secret \"" SECRET "\";", &k, &e), -1);
	assert_int_equal(e.status, DK_USAGE);
	assert_non_null(strstr(e.msg, "not closed"));
	assert_int_equal(load("key \"x\" { algorithm hmac-sha256; };", &k, &e), -1);
	assert_non_null(strstr(e.msg, "needs 'algorithm' and 'secret'"));
}

static void test_tsig_refused(void **state)
{
	(void)state;
	struct dns_tsig k;
	struct dk_err e;
	assert_int_equal(load("hmac-md5:k:" SECRET, &k, &e), -1);
	assert_int_equal(e.status, DK_USAGE);
	assert_non_null(strstr(e.msg, "hmac-md5 is refused"));
	assert_int_equal(load("key \"k\" { algorithm hmac-md5.sig-alg.reg.int; secret \"" SECRET "\"; };", &k, &e), -1);
	assert_non_null(strstr(e.msg, "hmac-md5 is refused"));
	assert_int_equal(load("hmac-sha384:k:" SECRET, &k, &e), -1);
	assert_non_null(strstr(e.msg, "not supported"));
	assert_int_equal(load("hmac-sha256:k:not base64 !!", &k, &e), -1);
	assert_non_null(strstr(e.msg, "not base64"));
	assert_int_equal(load("just-a-word", &k, &e), -1);
	assert_int_equal(load("hmac-sha256:k:", &k, &e), -1);
	assert_int_equal(k.secret[0], 0);
	dk_err_clear(&e);
	assert_int_equal(dns_tsig_load("/nonexistent/key", &k, &e), -1);
	assert_int_equal(e.status, DK_USAGE);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(dns_status_name(DNS_MATCH), "OK");
	assert_string_equal(dns_status_id(DNS_WRONG_KEY), "wrong_key");
	assert_string_equal(dns_status_id(DNS_MULTIPLE), "multiple");
	assert_string_equal(dns_status_name((enum dns_status)99), "?");
}

/* A UDP socket on 127.0.0.1 that nobody reads: queries to it never get an answer. */
static int silent_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t l = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_watch_stops_mid_query(void **state)
{
	(void)state;
	struct dk_nameserver ns = { .addr = "127.0.0.1" };
	int sfd = silent_socket(&ns.port);
	struct dns_watch_cfg cfg = { .fqdn = "s1._domainkey.example.test", .expect_p = "AAAA",
				     .alg = DK_ALG_RSA, .ns = &ns, .n_ns = 1, .timeout = 2.0 };
	struct dk_err e;
	double t0 = now();
	struct dns_watch *w = dns_watch_start(&cfg, &e);
	assert_non_null(w);
	assert_true(now() - t0 < 0.1);     /* starting does not wait for DNS */
	int fd = dns_watch_fd(w);
	assert_true(fd >= 0);
	/* the server list is published before any answer */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	struct dns_view v;
	assert_int_equal(dns_watch_view(w, &v), 1);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.servers[0].status, DNS_PENDING);
	dns_view_clear(&v);
	assert_int_equal(dns_watch_view(w, &v), 0);   /* nothing new since */
	dns_view_clear(&v);
	/* a query is in flight now (2 s timeout); stopping must not wait for it */
	usleep(200 * 1000);
	dns_watch_check_now(w);
	t0 = now();
	dns_watch_stop(w);
	assert_true(now() - t0 < 0.2);
	close(sfd);
}

static void test_watch_sees_error_then_check_now(void **state)
{
	(void)state;
	/* a port where nothing listens: ECONNREFUSED at once */
	struct dk_nameserver ns = { .addr = "127.0.0.1" };
	int sfd = silent_socket(&ns.port);
	close(sfd);
	struct dns_watch_cfg cfg = { .fqdn = "s1._domainkey.example.test", .alg = DK_ALG_RSA,
				     .ns = &ns, .n_ns = 1 };
	struct dk_err e;
	struct dns_watch *w = dns_watch_start(&cfg, &e);
	assert_non_null(w);
	struct dns_view v = { 0 };
	double t0 = now();
	bool seen = false;
	while (!seen && now() - t0 < 3.0) {
		struct pollfd p = { .fd = dns_watch_fd(w), .events = POLLIN };
		poll(&p, 1, 500);
		dns_view_clear(&v);
		dns_watch_view(w, &v);
		seen = v.n == 1 && v.servers[0].status == DNS_ERROR;
	}
	assert_true(seen);
	assert_non_null(strstr(v.servers[0].detail, "connection refused"));
	unsigned q = v.servers[0].queries;
	dns_view_clear(&v);
	/* check now: a new round well before the 1 s pace would start one */
	dns_watch_check_now(w);
	t0 = now();
	bool asked = false;
	while (!asked && now() - t0 < 0.5) {
		struct pollfd p = { .fd = dns_watch_fd(w), .events = POLLIN };
		poll(&p, 1, 100);
		dns_watch_view(w, &v);
		asked = v.n == 1 && v.servers[0].queries > q;
		dns_view_clear(&v);
	}
	assert_true(asked);
	dns_watch_stop(w);
	dns_watch_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_colon),
		cmocka_unit_test(test_tsig_bind),
		cmocka_unit_test(test_tsig_refused),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_watch_stops_mid_query),
		cmocka_unit_test(test_watch_sees_error_then_check_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
