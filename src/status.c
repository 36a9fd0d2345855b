/*
 * status.c: `dkim-setup status [--json]`: every domain and selector of this
 * host, one line each, and what to do next.
 *
 * DNS: one dns_check() (every authoritative server of the zone, at once)
 * per selector, run by a bounded pool of threads (STATUS_THREADS), so 100
 * domains cost about as much as a handful (tests/bench/status.sh).
 *
 * Exit status: 0 every signing selector is served right everywhere and its
 * signer copy is the same key; 1 something needs doing (a signing key not
 * served, a stale copy); 3 DNS could not be asked, or nothing to look at.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "json.h"
#include "lifecycle.h"
#include "record.h"
#include "setup.h"

#define STATUS_THREADS 16

struct row {
	struct lc_key *k;
	struct dns_view v;
	bool asked, failed;
	char fqdn[DK_DOMAIN_MAX + 2];
	char dns[16];                /* "OK 2/2", "missing", "wrong key", ... */
	const char *dns_id;          /* JSON: "match", "absent", ..., "mixed", "error" */
	char next[32];               /* the short next action */
	char why[200];               /* ... in words (JSON, and the notes below) */
	int status;
	bool attention;              /* noted below the table */
};

struct pool {
	pthread_mutex_t mu;
	size_t next, n;
	struct row *rows;
	const struct options *opt;
};

static void ask_one(const struct options *opt, struct row *r)
{
	struct dns_watch_cfg cfg = {
		.fqdn = r->fqdn, .expect_p = r->k->p, .alg = r->k->alg, .ns = opt->ns, .n_ns = opt->n_ns,
		.timeout = 2.0,
	};
	struct dk_err e;
	dk_err_clear(&e);
	r->asked = true;
	if (record_fqdn(r->k->domain, r->k->selector, r->fqdn, sizeof r->fqdn) < 0 || dns_check(&cfg, &r->v, &e) < 0)
		r->failed = true;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	sigset_t old;
	dk_block_signals(&old, false);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i == p->n)
			return NULL;
		ask_one(p->opt, &p->rows[i]);
	}
}

static void ask_all(const struct options *opt, struct row *rows, size_t n)
{
	struct pool p = { .mu = PTHREAD_MUTEX_INITIALIZER, .next = 0, .n = n, .rows = rows, .opt = opt };
	pthread_t th[STATUS_THREADS];
	size_t nt = n < STATUS_THREADS ? n : STATUS_THREADS, started = 0;
	for (size_t i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, worker, &p) == 0)
			started++;
	if (started == 0)
		worker(&p);   /* no threads to be had: one after the other */
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* The DNS column: one word when every server agrees, else "OK 1/2". */
static void dns_summary(struct row *r)
{
	const struct dns_view *v = &r->v;
	if (r->failed || v->n == 0) {
		snprintf(r->dns, sizeof r->dns, "error");
		r->dns_id = "error";
		return;
	}
	size_t ok = 0, same = 0;
	for (size_t i = 0; i < v->n; i++) {
		ok += v->servers[i].status == DNS_MATCH;
		same += v->servers[i].status == v->servers[0].status;
	}
	enum dns_status s0 = v->servers[0].status;
	if (same == v->n) {
		snprintf(r->dns, sizeof r->dns, "%s%s", s0 == DNS_MATCH ? "OK" : dns_status_name(s0),
			 s0 == DNS_MATCH && v->n > 1 ? (v->n == 2 ? " 2/2" : " all") : "");
		r->dns_id = dns_status_id(s0);
	} else {
		snprintf(r->dns, sizeof r->dns, "OK %zu/%zu", ok, v->n);
		r->dns_id = "mixed";
	}
}

static bool all_status(const struct dns_view *v, enum dns_status st)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->servers[i].status != st)
			return false;
	return v->n > 0;
}

static void day_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

/* What to do next, from what is true now (and the state's times). */
static void decide(struct row *r, struct lc_state *st, time_t now)
{
	const struct lc_key *k = r->k;
	struct lc_sel_state *ss = lc_state_sel(st, k->selector, false);
	bool served = all_status(&r->v, DNS_MATCH), revoked = all_status(&r->v, DNS_REVOKED);
	char day[16];
	r->status = DK_OK;
	if (k->signing) {
		bool only_errors = r->failed || r->v.n == 0;
		for (size_t i = 0; i < r->v.n; i++)
			only_errors |= r->v.servers[i].status == DNS_ERROR;
		for (size_t i = 0; i < r->v.n; i++)
			if (r->v.servers[i].status != DNS_ERROR && r->v.servers[i].status != DNS_MATCH)
				only_errors = false;
		if (!k->master) {
			snprintf(r->next, sizeof r->next, "no key here");
			snprintf(r->why, sizeof r->why, "the signer uses %s, but " DK_PRIV_DIR " has no key for it "
				 "(dkim-setup cannot rotate it; set up a new key with dkim-setup --batch -d %s)",
				 k->selector, k->domain);
			r->attention = true;
		} else if (!served) {
			snprintf(r->next, sizeof r->next, only_errors ? "check DNS" : "FIX DNS");
			snprintf(r->why, sizeof r->why, "the signer signs with %s, but %s: dkim-setup check -d %s -s %s",
				 k->selector, only_errors ? "not every server could be asked" :
				 "not every server serves its key (mail signed with it fails)", k->domain, k->selector);
			r->status = only_errors ? DK_SYSERR : DK_MISMATCH;
		} else if (k->copy == LC_COPY_DIFFERENT) {
			snprintf(r->next, sizeof r->next, "FIX COPY");
			snprintf(r->why, sizeof r->why, "the signer's copy %s is another key than the master",
				 k->copy_path);
			r->status = DK_MISMATCH;
		} else if (k->created != 0 && now - k->created > (time_t)LC_MAX_AGE_DAYS * LC_DAY) {
			snprintf(r->next, sizeof r->next, "rotate");
			snprintf(r->why, sizeof r->why, "older than %d days: dkim-setup rotate -d %s",
				 LC_MAX_AGE_DAYS, k->domain);
		} else {
			time_t due = k->created + (time_t)LC_MAX_AGE_DAYS * LC_DAY;
			day_text(due, day, sizeof day);
			snprintf(r->next, sizeof r->next, "rotate in %lldd", (long long)((due - now + LC_DAY - 1) / LC_DAY));
			snprintf(r->why, sizeof r->why, "signing; rotate after %s", day);
		}
		return;
	}
	if (ss != NULL && ss->retired != 0) {
		snprintf(r->next, sizeof r->next, revoked ? "retired" : "publish p=");
		snprintf(r->why, sizeof r->why, revoked ? "retired: every server serves the revoked record"
			 : "retired, but not every server serves the revoked record (v=DKIM1; p=) yet");
		return;
	}
	if (st->stage != LC_IDLE && (!strcmp(st->new_rsa, k->selector) || !strcmp(st->new_ed, k->selector))) {
		snprintf(r->next, sizeof r->next, served ? "rotate (go)" : "publish");
		snprintf(r->why, sizeof r->why, "the new key of a rotation under way: dkim-setup rotate -d %s "
			 "continues it", k->domain);
		return;
	}
	if (ss != NULL && ss->stopped != 0) {
		time_t due = ss->stopped + (time_t)LC_GRACE_DAYS * LC_DAY;
		day_text(due, day, sizeof day);
		if (now >= due) {
			snprintf(r->next, sizeof r->next, "retire");
			snprintf(r->why, sizeof r->why, "stopped signing; grace over: dkim-setup retire -d %s -s %s",
				 k->domain, k->selector);
		} else {
			snprintf(r->next, sizeof r->next, "retire in %lldd", (long long)((due - now + LC_DAY - 1) / LC_DAY));
			snprintf(r->why, sizeof r->why, "stopped signing; keep its record until %s (mail in flight)",
				 day);
		}
		return;
	}
	snprintf(r->next, sizeof r->next, "not in use");
	snprintf(r->why, sizeof r->why, "the signer does not use %s: set it up (dkim-setup --batch -d %s -s %s) "
		 "or retire it", k->selector, k->domain, k->selector);
}

static void key_text(const struct lc_key *k, char *out, size_t outlen)
{
	if (!k->master)
		snprintf(out, outlen, "-");
	else if (k->unreadable)
		snprintf(out, outlen, "bad key");
	else if (k->alg == DK_ALG_RSA)
		snprintf(out, outlen, "RSA-%d", k->bits);
	else
		snprintf(out, outlen, "Ed25519");
}

static const char *copy_text(const struct lc_key *k)
{
	switch (k->copy) {
	case LC_COPY_SAME: return "same";
	case LC_COPY_DIFFERENT: return "DIFF";
	case LC_COPY_UNREADABLE: return "?";
	default: return "-";
	}
}

static const char *copy_id(const struct lc_key *k)
{
	switch (k->copy) {
	case LC_COPY_SAME: return "same";
	case LC_COPY_DIFFERENT: return "different";
	case LC_COPY_UNREADABLE: return "unreadable";
	default: return "none";
	}
}

/* Fit s into w columns ("~" marks a cut). */
static const char *fit(const char *s, size_t w, char *buf, size_t blen)
{
	char pb[300];
	dk_printable(s, pb, sizeof pb);
	if (strlen(pb) <= w)
		snprintf(buf, blen, "%s", pb);
	else
		snprintf(buf, blen, "%.*s~", (int)w - 1, pb);
	return buf;
}

/* A note, folded at word boundaries to 80 columns. */
static void print_wrapped(const char *text)
{
	char pb[700];
	const char *p = dk_printable(text, pb, sizeof pb);
	size_t indent = 2, width = 80;
	while (*p) {
		size_t room = width - indent, n = strlen(p);
		if (n > room) {
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = room;
		}
		printf("%*s%.*s\n", (int)indent, "", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
		indent = 4;
	}
}

static void print_rows(const struct lc_inventory *inv, struct row *rows, size_t n, time_t now)
{
	printf("Signer: %s\n", inv->info.summary);
	/* 18+1+10+1+8+1+4+1+4+1+4+1+10+1+14 = 79 */
	printf("%-18s %-10s %-8s %4s %-4s %-4s %-10s %s\n", "DOMAIN", "SELECTOR", "KEY", "AGE", "SIGN", "COPY",
	       "DNS", "NEXT");
	for (size_t i = 0; i < n; i++) {
		const struct lc_key *k = rows[i].k;
		char d[32], s[16], key[16], age[16] = "-", nx[16];
		key_text(k, key, sizeof key);
		if (k->created != 0)
			snprintf(age, sizeof age, "%lldd", (long long)((now - k->created) / LC_DAY));
		printf("%-18s %-10s %-8s %4s %-4s %-4s %-10s %s\n", fit(k->domain, 18, d, sizeof d),
		       fit(k->selector, 10, s, sizeof s), key, age, k->signing ? "yes" : "no", copy_text(k),
		       rows[i].dns, fit(rows[i].next, 14, nx, sizeof nx));
	}
	bool head = false;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].status == DK_OK && !rows[i].attention)
			continue;
		if (!head)
			printf("\nNeeds attention:\n");
		head = true;
		char line[600];
		snprintf(line, sizeof line, "%s/%s: %s", rows[i].k->domain, rows[i].k->selector, rows[i].why);
		print_wrapped(line);
	}
}

static void json_rows(const struct lc_inventory *inv, struct row *rows, size_t n, time_t now, int status)
{
	struct json j;
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "signer", inv->info.name);
	json_string(&j, "signer_summary", inv->info.summary);
	json_int(&j, "now", (long long)now);
	json_array_begin(&j, "keys");
	for (size_t i = 0; i < n; i++) {
		const struct lc_key *k = rows[i].k;
		json_object_begin(&j, NULL);
		json_string(&j, "domain", k->domain);
		json_string(&j, "selector", k->selector);
		json_bool(&j, "master", k->master);
		json_string(&j, "algorithm", k->master && !k->unreadable ? keygen_alg_name(k->alg) : NULL);
		if (k->master && !k->unreadable && k->alg == DK_ALG_RSA)
			json_int(&j, "bits", k->bits);
		else
			json_null(&j, "bits");
		if (k->created != 0) {
			json_int(&j, "created", (long long)k->created);
			json_int(&j, "age_days", (long long)((now - k->created) / LC_DAY));
		} else {
			json_null(&j, "created");
			json_null(&j, "age_days");
		}
		json_bool(&j, "signing", k->signing);
		json_string(&j, "signer_copy", copy_id(k));
		json_string(&j, "signer_copy_path", k->copy_path[0] ? k->copy_path : NULL);
		json_string(&j, "dns", rows[i].dns_id);
		json_array_begin(&j, "servers");
		for (size_t s = 0; s < rows[i].v.n; s++) {
			const struct dns_server_view *sv = &rows[i].v.servers[s];
			json_object_begin(&j, NULL);
			json_string(&j, "name", sv->name);
			json_string(&j, "address", sv->addr);
			json_int(&j, "port", sv->port);
			json_string(&j, "status", dns_status_id(sv->status));
			json_object_end(&j);
		}
		json_array_end(&j);
		json_string(&j, "next", rows[i].next);
		json_string(&j, "next_text", rows[i].why);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_int(&j, "status", status);
	json_object_end(&j);
	json_finish(&j);
}

int cmd_status(const struct options *opt)
{
	struct lc_inventory inv;
	struct dk_err err;
	dk_err_clear(&err);
	if (lc_inventory_load(opt->root, opt->mta, opt->domain[0] ? opt->domain : NULL, &inv, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	time_t now = lc_now();
	struct row *rows = calloc(inv.n + 1, sizeof *rows);
	if (rows == NULL) {
		lc_inventory_free(&inv);
		fprintf(stderr, "dkim-setup: out of memory\n");
		return DK_SYSERR;
	}
	for (size_t i = 0; i < inv.n; i++)
		rows[i].k = &inv.k[i];
	ask_all(opt, rows, inv.n);
	int status = DK_OK;
	struct lc_state st;
	for (size_t i = 0; i < inv.n; i++) {
		if (i == 0 || strcmp(inv.k[i].domain, inv.k[i - 1].domain) != 0)
			lc_state_load(opt->root, inv.k[i].domain, &st);
		dns_summary(&rows[i]);
		decide(&rows[i], &st, now);
		if (rows[i].status > status)
			status = rows[i].status;
	}
	if (inv.n == 0 && !opt->json)
		printf("No DKIM keys here (" DK_PRIV_DIR " has none of dkim-setup's, and the signer signs "
		       "with none).\nSet one up: dkim-setup (the wizard) or dkim-setup --batch -d DOMAIN\n");
	else if (opt->json)
		json_rows(&inv, rows, inv.n, now, status);
	else
		print_rows(&inv, rows, inv.n, now);
	for (size_t i = 0; i < inv.n; i++)
		dns_view_clear(&rows[i].v);
	free(rows);
	lc_inventory_free(&inv);
	return status;
}
