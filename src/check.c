/*
 * check.c: `dkim-setup check` (with --wait N: keep asking until every server
 * matches), and the batch DNS step (--publish, --wait).
 *
 * Exit status of a check (and of a wait that ends):
 *   0  every server serves a record whose p= is the local key
 *   1  some server serves no record, another key, a revoked or an invalid
 *      record, or several records
 *   3  the servers could not be asked (none found, or every server that is
 *      not OK failed: timeout, REFUSED, SERVFAIL, not authoritative)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "dns.h"
#include "keygen.h"
#include "mta.h"
#include "proof.h"
#include "record.h"

#define PUBLISH_DEFAULT_WAIT 60

/* The status a view stands for (see the top of this file). */
static int view_status(const struct dns_view *v)
{
	if (v->n == 0)
		return DK_SYSERR;
	if (v->all_match)
		return DK_OK;
	for (size_t i = 0; i < v->n; i++)
		if (v->servers[i].status != DNS_MATCH && v->servers[i].status != DNS_ERROR &&
		    v->servers[i].status != DNS_PENDING)
			return DK_MISMATCH;
	return DK_SYSERR;   /* only errors (or nothing) stand between us and OK */
}

static void server_addr(const struct dns_server_view *sv, char *out, size_t outlen)
{
	bool v6 = strchr(sv->addr, ':') != NULL;
	if (sv->port == 53)
		snprintf(out, outlen, "%s", sv->addr);
	else
		snprintf(out, outlen, v6 ? "[%s]:%u" : "%s:%u", sv->addr, (unsigned)sv->port);
}

/* The per-server table, for 80 columns. */
static void print_view(FILE *out, const char *fqdn, const struct dns_view *v)
{
	char pb[300];
	fprintf(out, "\nDKIM record %s TXT", fqdn);
	if (v->zone[0] != '\0')
		fprintf(out, " (zone %s)", v->zone);
	fputc('\n', out);
	if (v->error[0] != '\0')
		fprintf(out, "  %s\n", dk_printable(v->error, pb, sizeof pb));
	if (v->n > 0)
		fprintf(out, "  %-24s %-24s %-10s %s\n", "SERVER", "ADDRESS", "SERIAL", "STATUS");
	for (size_t i = 0; i < v->n; i++) {
		const struct dns_server_view *sv = &v->servers[i];
		char addr[96], serial[16] = "-";
		server_addr(sv, addr, sizeof addr);
		if (sv->have_serial)
			snprintf(serial, sizeof serial, "%u", (unsigned)sv->serial);
		fprintf(out, "  %-24s %-24s %-10s %s%s\n", dk_printable(sv->name, pb, sizeof pb), addr,
			serial, dns_status_name(sv->status), sv->tcp ? " (TCP)" : "");
		if (sv->detail[0] != '\0')
			fprintf(out, "      %s\n", dk_printable(sv->detail, pb, sizeof pb));
	}
	if (v->resolver_asked) {
		const struct dns_server_view *r = &v->resolver;
		if (r->status == DNS_MATCH)
			fprintf(out, "\nYour resolver (%s) sees the record too.\n", r->addr);
		else
			fprintf(out, "\nYour resolver (%s) does not see it yet: %s%s%s%s\n", r->addr,
				dns_status_name(r->status), r->detail[0] ? ": " : "",
				dk_printable(r->detail, pb, sizeof pb),
				r->status == DNS_ABSENT ? "\n(it remembers an earlier \"missing\" until the "
				"negative-caching time below runs out)" : "");
	}
	if (v->have_neg_ttl) {
		char neg[300];
		dns_neg_caching_text(v->neg_ttl, neg, sizeof neg);
		fprintf(out, "\nNegative caching: %s\n", neg);
		if (!v->all_match)
			fprintf(out, "Do not test through a resolver before every server above says OK.\n");
	}
}


static void json_view(struct json *j, const char *fqdn, const struct dns_view *v)
{
	json_string(j, "name", fqdn);
	json_string(j, "zone", v->zone[0] ? v->zone : NULL);
	if (v->have_neg_ttl)
		json_int(j, "negative_ttl", v->neg_ttl);
	else
		json_null(j, "negative_ttl");
	json_bool(j, "all_match", v->all_match);
	if (v->error[0] != '\0')
		json_string(j, "lookup_error", v->error);
	json_array_begin(j, "servers");
	for (size_t i = 0; i < v->n; i++) {
		const struct dns_server_view *sv = &v->servers[i];
		json_object_begin(j, NULL);
		json_string(j, "name", sv->name);
		json_string(j, "address", sv->addr);
		json_int(j, "port", sv->port);
		json_string(j, "status", dns_status_id(sv->status));
		json_string(j, "status_text", dns_status_name(sv->status));
		json_string(j, "detail", sv->detail);
		json_string(j, "diagnosis", dns_diag_id(sv->diag));
		if (sv->have_serial)
			json_int(j, "serial", sv->serial);
		else
			json_null(j, "serial");
		json_bool(j, "tcp", sv->tcp);
		json_bool(j, "testing", sv->testing);
		json_int(j, "queries", sv->queries);
		json_bool(j, "unreachable", sv->unreachable);
		json_object_end(j);
	}
	json_array_end(j);
	if (v->resolver_asked) {
		json_object_begin(j, "resolver");
		json_string(j, "address", v->resolver.addr);
		json_string(j, "status", dns_status_id(v->resolver.status));
		json_string(j, "detail", v->resolver.detail);
		json_object_end(j);
	}
}

/* A key file the admin names (anywhere: it is only read). Wiped by the
 * caller with keygen_secret_free. */
static int read_small_file(const char *path, char **buf, size_t *len, struct dk_err *err)
{
	char pb[200];
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return dk_fail_errno(err, DK_USAGE, errno, "--key %s", dk_printable(path, pb, sizeof pb));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KEYGEN_FILE_MAX) {
		close(fd);
		return dk_fail(err, DK_USAGE, "--key %s: not a key file (not a regular file, or too large)",
			       dk_printable(path, pb, sizeof pb));
	}
	char *b = calloc(1, KEYGEN_FILE_MAX + 1);
	if (b == NULL) {
		close(fd);
		return dk_fail(err, DK_SYSERR, "out of memory");
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, b + n, KEYGEN_FILE_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == KEYGEN_FILE_MAX)
			break;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

/* check --key FILE: a private or public PEM. */
static int load_key_file(const char *path, struct dk_keyjob *key, struct dk_err *err)
{
	char *pem;
	size_t len;
	EVP_PKEY *pk = NULL;
	char pb[200];
	if (read_small_file(path, &pem, &len, err) < 0)
		return -1;
	struct dk_err e2;
	dk_err_clear(&e2);
	int rc = keygen_load_public(pem, len, &pk, &e2);
	if (rc < 0)
		rc = keygen_load_private(pem, len, &pk, &e2);
	/* The buffer is KEYGEN_FILE_MAX + 1 bytes; keygen_secret_free wipes len + 1. */
	keygen_secret_free(pem, KEYGEN_FILE_MAX);
	if (rc < 0)
		return dk_fail(err, DK_USAGE, "--key %s: not a PEM public or private key",
			       dk_printable(path, pb, sizeof pb));
	rc = keygen_describe(pk, &key->alg, &key->bits, err);
	if (rc == 0)
		rc = keygen_p_value(pk, &key->p, err);
	EVP_PKEY_free(pk);
	if (rc == 0)
		snprintf(key->paths.pub, sizeof key->paths.pub, "%s", path);
	return rc;
}

static void fill_cfg(struct dns_watch_cfg *cfg, const struct options *opt, const char *fqdn,
		     const struct dk_keyjob *key)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->fqdn = fqdn;
	cfg->expect_p = key->p;
	cfg->alg = key->alg;
	cfg->ns = opt->ns;
	cfg->n_ns = opt->n_ns;
	cfg->timeout = 2.0;
}

/* Print what changed between two views of the same watch, one line each. */
static void print_changes(FILE *out, const struct dns_view *old, const struct dns_view *v, double t0)
{
	char pb[300], addr[96];
	for (size_t i = 0; i < v->n; i++) {
		const struct dns_server_view *sv = &v->servers[i];
		enum dns_status before = DNS_PENDING;
		const char *bdetail = "";
		for (size_t k = 0; k < old->n; k++)
			if (strcmp(old->servers[k].addr, sv->addr) == 0 && old->servers[k].port == sv->port) {
				before = old->servers[k].status;
				bdetail = old->servers[k].detail;
			}
		if (before == sv->status && strcmp(bdetail, sv->detail) == 0)
			continue;
		server_addr(sv, addr, sizeof addr);
		char db[300];
		fprintf(out, "  [%5.1f s] %s (%s): %s%s%s\n", dns_now() - t0,
			dk_printable(sv->name, pb, sizeof pb), addr, dns_status_name(sv->status),
			sv->detail[0] ? ": " : "", dk_printable(sv->detail, db, sizeof db));
	}
	if (v->error[0] != '\0' && strcmp(v->error, old->error) != 0)
		fprintf(out, "  [%5.1f s] %s\n", dns_now() - t0, dk_printable(v->error, pb, sizeof pb));
}

/*
 * Watch until every server matches or `secs` pass. Returns the final view
 * in *v. 0 when all match; otherwise the view's status.
 */
static int wait_for_record(FILE *out, const struct dns_watch_cfg *cfg, long secs, struct dns_view *v,
			   double *confirmed_at, struct dk_err *err)
{
	double t0 = dns_now(), deadline = t0 + (double)secs;
	memset(v, 0, sizeof *v);
	struct dns_watch *w = dns_watch_start(cfg, err);
	if (w == NULL)
		return -1;
	fprintf(out, "Waiting up to %ld s for every authoritative server to serve the record...\n", secs);
	fflush(out);
	int fd = dns_watch_fd(w);
	for (;;) {
		double left = deadline - dns_now();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, (int)(left * 1000.0) + 1);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		struct dns_view nv;
		if (dns_watch_view(w, &nv) == 0) {
			dns_view_clear(&nv);
			continue;
		}
		print_changes(out, v, &nv, t0);
		fflush(out);
		dns_view_clear(v);
		*v = nv;
		if (v->all_match) {
			*confirmed_at = dns_now();
			break;
		}
	}
	dns_watch_stop(w);
	/* A wait that ends with the record missing somewhere: one full look,
	 * so that the report names every mistake it can (a watch asks for the
	 * likely wrong names only now and then, to keep its pace). */
	bool absent = false;
	for (size_t i = 0; i < v->n; i++)
		absent |= v->servers[i].status == DNS_ABSENT && v->servers[i].diag == DIAG_NONE;
	if (absent) {
		struct dns_view last;
		struct dk_err e2;
		dk_err_clear(&e2);
		if (dns_check(cfg, &last, &e2) == 0 && last.n > 0) {
			dns_view_clear(v);
			*v = last;
		} else {
			dns_view_clear(&last);
		}
	}
	return v->all_match ? 0 : 1;
}

/* The signers' copies must be the key the record was made from
 * (DESIGN.md): a stale copy signs mail that the record does not verify.
 * Prints (or adds to the JSON) each copy found; returns the worst status. */
static int check_copies(const struct options *opt, const struct dk_keyjob *key, struct json *j, int status)
{
	struct mta_copy *copies = NULL;
	struct dk_err cerr;
	int n = mta_compare_copies(opt->root, key->domain, key->selector, key->p, &copies, &cerr);
	if (n < 0) {
		fprintf(stderr, "dkim-setup: %s\n", cerr.msg);
		return DK_SYSERR;
	}
	bool stale = false;
	if (j != NULL)
		json_array_begin(j, "signer_copies");
	else
		printf("\n");
	for (int i = 0; i < n; i++) {
		const struct mta_copy *c = &copies[i];
		stale |= c->state == MTA_COPY_DIFFERENT;
		if (j != NULL) {
			json_object_begin(j, NULL);
			json_string(j, "path", c->path);
			json_string(j, "signer", c->signer);
			if (c->state == MTA_COPY_UNREADABLE)
				json_null(j, "same");
			else
				json_bool(j, "same", c->state == MTA_COPY_SAME);
			json_string(j, "detail", c->detail[0] ? c->detail : NULL);
			json_object_end(j);
		} else {
			printf("Signer's copy %s: %s.\n", c->path,
			       c->state == MTA_COPY_SAME ? "the same key" : c->detail);
		}
	}
	if (j != NULL)
		json_array_end(j);
	else if (n == 0)
		printf("Signer's copy: none (no mail server was set up for this key by dkim-setup).\n");
	else if (stale)
		printf("Run dkim-setup --batch -d %s -s %s again to refresh the copy.\n", key->domain,
		       key->selector);
	free(copies);
	return stale && status == DK_OK ? DK_MISMATCH : status;
}

/* check --prove: through the running signer (mta_prove), even when DNS
 * did not match (the proof then names the cause); the worse status wins. */
static int check_prove(const struct options *opt, const struct dk_keyjob *key, struct json *j, int status)
{
	struct mta_request req = {
		.root = opt->root, .domain = opt->domain, .selector = opt->selector,
		.priv_path = key->paths.priv, .mta = opt->mta[0] ? opt->mta : NULL,
	};
	struct mta_proof p;
	struct dk_err err;
	dk_err_clear(&err);
	int rc = mta_prove(&req, opt->ns, opt->n_ns, &p, &err);
	proof_report(j != NULL ? NULL : stdout, j, &p);
	mta_proof_clear(&p);
	if (rc == 0)
		return status;
	return err.status > status ? err.status : status;
}

int cmd_check(const struct options *opt)
{
	struct dk_keyjob key;
	struct dk_err err;
	char fqdn[DK_DOMAIN_MAX + 2];
	struct json json, *j = NULL;
	int status;

	dk_err_clear(&err);
	if (opt->publish) {
		fprintf(stderr, "dkim-setup: --publish goes with --batch or the wizard; check only looks\n");
		return DK_USAGE;
	}
	memset(&key, 0, sizeof key);
	key.root = opt->root;
	snprintf(key.domain, sizeof key.domain, "%s", opt->domain);
	snprintf(key.selector, sizeof key.selector, "%s", opt->selector);
	if (opt->json) {
		json_init(&json, stdout);
		j = &json;
		json_object_begin(j, NULL);
		json_string(j, "domain", opt->domain);
		json_string(j, "selector", opt->selector);
	}
	int rc = opt->key_file != NULL ? load_key_file(opt->key_file, &key, &err)
				       : setup_load_key(&key, &err);
	if (rc < 0 || record_fqdn(opt->domain, opt->selector, fqdn, sizeof fqdn) < 0) {
		if (rc == 0)
			dk_fail(&err, DK_USAGE, "the record name is too long");
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		status = err.status;
		if (j != NULL)
			json_string(j, "error", err.msg);
		goto out;
	}
	/* RFC 8301: signers SHOULD use 2048 bits; receivers may count less as weak */
	bool short_key = key.alg == DK_ALG_RSA && key.bits < 2048;
	if (j != NULL) {
		json_string(j, "algorithm", keygen_alg_name(key.alg));
		if (key.alg == DK_ALG_RSA)
			json_int(j, "bits", key.bits);
		json_string(j, "key_file", key.paths.pub[0] ? key.paths.pub : key.paths.priv);
		json_string(j, "key_diagnosis", short_key ? "rsa_too_short" : NULL);
	} else {
		printf("Local key: %s (%s", key.paths.pub[0] ? key.paths.pub : key.paths.priv,
		       key.alg == DK_ALG_RSA ? "RSA" : "Ed25519");
		if (key.alg == DK_ALG_RSA)
			printf("-%d", key.bits);
		printf(")\n");
		if (short_key)
			printf("  RSA-%d is too short for large receivers: RFC 8301 asks signers for\n"
			       "  2048 bits, and so do Gmail's sender guidelines; a receiver may count a\n"
			       "  shorter key as weak. Make a 2048-bit key under a new selector.\n", key.bits);
	}

	struct dns_watch_cfg cfg;
	struct dns_view v;
	fill_cfg(&cfg, opt, fqdn, &key);
	if (opt->wait_secs > 0) {
		/* check --wait N: keep asking until every server matches */
		double confirmed = 0;
		if (wait_for_record(j != NULL ? stderr : stdout, &cfg, opt->wait_secs, &v, &confirmed, &err) < 0) {
			fprintf(stderr, "dkim-setup: %s\n", err.msg);
			status = err.status;
			if (j != NULL)
				json_string(j, "error", err.msg);
			goto out;
		}
	} else if (dns_check(&cfg, &v, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		status = DK_SYSERR;
		if (j != NULL) {
			json_view(j, fqdn, &v);
			json_string(j, "error", err.msg);
		}
		dns_view_clear(&v);
		goto out;
	}
	status = view_status(&v);
	if (j != NULL) {
		json_view(j, fqdn, &v);
	} else {
		print_view(stdout, fqdn, &v);
		size_t ok = 0, unreachable = 0;
		for (size_t i = 0; i < v.n; i++) {
			ok += v.servers[i].status == DNS_MATCH;
			unreachable += v.servers[i].unreachable;
		}
		if (status == DK_OK && unreachable > 0)
			printf("\nOK: all %zu servers this host can reach serve the record, and it matches "
			       "the key (%zu address%s not reachable from here).\n", v.n - unreachable,
			       unreachable, unreachable == 1 ? "" : "es");
		else if (status == DK_OK)
			printf("\nOK: all %zu servers serve the record, and it matches the key.\n", v.n);
		else if (status == DK_MISMATCH)
			printf("\nNot ready: %zu of %zu servers serve the right record.\n", ok, v.n);
		else
			printf("\nCould not ask every server: %zu of %zu answered with the right record.\n",
			       ok, v.n);
	}
	dns_view_clear(&v);
	status = check_copies(opt, &key, j, status);
	if (opt->prove)
		status = check_prove(opt, &key, j, status);
out:
	if (j != NULL) {
		json_int(j, "status", status);
		json_object_end(j);
		json_finish(j);
	}
	setup_keyjob_clear(&key);
	return status;
}

int batch_dns_precheck(const struct options *opt, struct dk_err *err)
{
	if (!opt->publish || opt->tsig_key_file == NULL)
		return 0;
	struct dns_tsig tsig;
	int rc = dns_tsig_load(opt->tsig_key_file, &tsig, err);
	dns_tsig_clear(&tsig);
	return rc;
}

int batch_step_dns(struct batch_ctx *b, struct dk_err *err)
{
	const struct options *opt = b->opt;
	const struct dk_keyjob *key = b->key;
	FILE *out = b->out;
	if (opt->wait_secs <= 0 && !opt->publish)
		return 0;
	struct json *j = b->json;
	struct dns_watch_cfg cfg;
	fill_cfg(&cfg, opt, key->fqdn, key);
	long secs = opt->wait_secs > 0 ? opt->wait_secs : PUBLISH_DEFAULT_WAIT;

	if (j != NULL)
		json_object_begin(j, "dns");
	int rc = 0;
	struct dns_publish_info info;
	memset(&info, 0, sizeof info);
	if (opt->dry_run) {
		fprintf(out, "Dry run: %s; the key was not saved, so there is nothing to wait for.\n",
			opt->publish ? "would publish the record by RFC 2136 UPDATE" : "not waiting for DNS");
		if (j != NULL) {
			json_bool(j, "published", false);
			json_bool(j, "dry_run", true);
			json_object_end(j);
		}
		return 0;
	}
	if (opt->publish) {
		struct dns_tsig tsig;
		char keyname[256] = "";
		if (dns_tsig_load(opt->tsig_key_file, &tsig, err) < 0) {
			rc = -1;
		} else {
			snprintf(keyname, sizeof keyname, "%s", tsig.name);
			rc = dns_publish_ex(&cfg, key->value, &tsig, &info, err);
			dns_tsig_clear(&tsig);
		}
		if (j != NULL)
			json_bool(j, "published", rc == 0);
		if (rc < 0) {
			if (j != NULL)
				json_object_end(j);
			return -1;
		}
		fprintf(out, "Published: %s accepted the update of %s in zone %s (TSIG key %s).\n",
			info.server, key->fqdn, info.zone, keyname);
		if (j != NULL) {
			json_string(j, "update_server", info.server);
			json_int(j, "update_port", info.port);
		}
	}

	struct dns_view v;
	double confirmed = 0;
	double started = dns_now();
	int w = wait_for_record(out, &cfg, secs, &v, &confirmed, err);
	if (w < 0) {
		if (j != NULL)
			json_object_end(j);
		return -1;
	}
	print_view(out, key->fqdn, &v);
	if (j != NULL) {
		json_view(j, key->fqdn, &v);
		json_int(j, "wait_seconds", secs);
	}
	if (w == 0) {
		b->dns_confirmed = true;
		double base = opt->publish ? info.acked_at : started;
		long ms = (long)((confirmed - base) * 1000.0 + 0.5);
		fprintf(out, "\nEvery server serves the record: confirmed %ld ms after %s.\n", ms,
			opt->publish ? "the server acknowledged the update" : "the wait began");
		if (j != NULL) {
			json_int(j, opt->publish ? "confirmed_ms_after_ack" : "confirmed_ms", ms);
			json_int(j, opt->publish ? "confirmed_us_after_ack" : "confirmed_us",
				 (long long)((confirmed - base) * 1e6 + 0.5));
			struct timespec rt;
			clock_gettime(CLOCK_REALTIME, &rt);
			/* wall-clock instant of the confirmation, for benchmarks */
			json_int(j, "confirmed_at_us", (long long)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 -
				 (long long)((dns_now() - confirmed) * 1e6));
			json_object_end(j);
		}
		dns_view_clear(&v);
		return 0;
	}
	int st = view_status(&v);
	if (j != NULL)
		json_object_end(j);
	if (st == DK_OK)
		st = DK_MISMATCH;
	dk_fail(err, st, "after %ld s the record is still not served right by every server%s", secs,
		st == DK_SYSERR ? " (DNS unreachable: see the errors above)" : " (see the table above)");
	dns_view_clear(&v);
	return -1;
}
