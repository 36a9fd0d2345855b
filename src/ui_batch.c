/* ui_batch.c: the line front end: --batch and `record`. The same core as
 * the wizard, no questions; human text on stdout (stderr with --json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "record.h"
#include "setup.h"
#include "validate.h"

/* The record in both forms, for humans. */
static void print_record(FILE *out, const struct dk_keyjob *k)
{
	char *zone = record_zone(k->fqdn, k->value), *chunks = record_chunks(k->value);
	char u[DK_DOMAIN_MAX * 4 + 1];
	if (validate_domain_unicode(k->domain, u, sizeof u) == 1)
		fprintf(out, "\nDomain %s is %s in DNS and in file names.\n", u, k->domain);
	fprintf(out,
		"\nPublish this TXT record at your DNS provider:\n"
		"  Name:   %s\n"
		"          (most web panels want only \"%s\": they add the domain themselves)\n"
		"  Type:   TXT\n"
		"  Value:  %s\n"
		"\nThe value as quoted strings of at most 255 bytes (Route 53, Google Cloud DNS):\n  %s\n"
		"\nThe same record in zone-file form:\n%s\n",
		k->fqdn, k->relative, k->value, chunks != NULL ? chunks : "(out of memory)",
		zone != NULL ? zone : "(out of memory)");
	free(zone);
	free(chunks);
}

static void json_record(struct json *j, const struct dk_keyjob *k)
{
	char **parts;
	size_t n = record_split(k->value, RECORD_STRING_MAX, &parts);
	json_object_begin(j, "record");
	json_string(j, "name", k->fqdn);
	json_string(j, "relative_name", k->relative);
	json_string(j, "type", "TXT");
	json_string(j, "value", k->value);
	json_array_begin(j, "strings");
	for (size_t i = 0; i < n; i++)
		json_string(j, NULL, parts[i]);
	json_array_end(j);
	json_object_end(j);
	record_strings_free(parts);
}

static void json_key(struct json *j, const struct dk_keyjob *k)
{
	char u[DK_DOMAIN_MAX * 4 + 1];
	json_string(j, "domain", k->domain);
	validate_domain_unicode(k->domain, u, sizeof u);
	json_string(j, "domain_unicode", u);
	json_string(j, "selector", k->selector);
	json_string(j, "algorithm", keygen_alg_name(k->alg));
	if (k->alg == DK_ALG_RSA)
		json_int(j, "bits", k->bits);
	else
		json_null(j, "bits");
	json_string(j, "private_key", k->paths.priv);
	json_string(j, "public_key", k->paths.pub);
}

static const char *outcome_name(const struct dk_keyjob *k)
{
	switch (k->outcome) {
	case KEYJOB_CREATED: return "created";
	case KEYJOB_REUSED: return "unchanged";
	case KEYJOB_REPLACED: return "replaced";
	case KEYJOB_DRY_RUN: return "dry-run";
	}
	return "?";
}

static int finish(struct json *j, int status)
{
	if (j != NULL) {
		json_int(j, "status", status);
		json_object_end(j);
		json_finish(j);
	}
	return status;
}

int batch_run(const struct options *opt)
{
	struct dk_survey sv;
	struct dk_keyjob key;
	struct dk_err err;
	struct json json, *j = NULL;
	char why[DK_ERRMSG_MAX];

	dk_err_clear(&err);
	memset(&key, 0, sizeof key);
	setup_survey(opt->root, &sv);

	/* Defaults: /etc/mailname (else the host's domain), and YYYYMM. */
	snprintf(key.domain, sizeof key.domain, "%s", opt->domain[0] ? opt->domain : sv.default_domain);
	if (key.domain[0] == '\0') {
		fprintf(stderr, "dkim-setup: no domain given and none found in /etc/mailname or the "
			"host name: give -d DOMAIN\n");
		return DK_USAGE;
	}
	if (opt->selector[0] != '\0')
		snprintf(key.selector, sizeof key.selector, "%s", opt->selector);
	else
		setup_default_selector(time(NULL), key.selector, sizeof key.selector);
	if (validate_record_name(key.domain, key.selector, why, sizeof why) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", why);
		return DK_USAGE;
	}
	if (batch_dns_precheck(opt, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	key.root = opt->root;
	key.alg = opt->alg;
	key.bits = opt->bits;
	key.force = opt->force;
	key.dry_run = opt->dry_run;

	struct batch_ctx b = { .opt = opt, .key = &key, .out = opt->json ? stderr : stdout };
	if (opt->json) {
		json_init(&json, stdout);
		j = b.json = &json;
		json_object_begin(j, NULL);
	}

	if (setup_make_key(&key, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		if (j != NULL)
			json_string(j, "error", err.msg);
		setup_keyjob_clear(&key);
		return finish(j, err.status);
	}

	FILE *out = b.out;
	char desc[32];
	snprintf(desc, sizeof desc, key.alg == DK_ALG_RSA ? "RSA-%d" : "Ed25519", key.bits);
	switch (key.outcome) {
	case KEYJOB_CREATED:
		fprintf(out, "Created %s key %s (0600) and %s (0644).\n", desc, key.paths.priv, key.paths.pub);
		break;
	case KEYJOB_REPLACED:
		fprintf(out, "Replaced %s with a new %s key; the old one is kept as %s.\n",
			key.paths.priv, desc, key.priv_backup);
		break;
	case KEYJOB_REUSED:
		fprintf(out, "Key %s (%s) exists already: unchanged.\n", key.paths.priv, desc);
		break;
	case KEYJOB_DRY_RUN:
		fprintf(out, "Dry run: would write %s (0600) and %s (0644); nothing written. "
			"The record below belongs to a key that was not saved.\n",
			key.paths.priv, key.paths.pub);
		break;
	}
	const char *warnings[3];
	size_t nwarn = 0;
	if (key.weak)
		warnings[nwarn++] = "RSA-1024 is weak; some receivers ignore such signatures. "
				    "2048 is the right size for nearly everyone.";
	if (key.big)
		warnings[nwarn++] = "an RSA-4096 record is long: some DNS panels refuse it, and "
				    "answers over 512 bytes need TCP or EDNS.";
	if (key.alg == DK_ALG_ED25519)
		warnings[nwarn++] = "many verifiers still ignore Ed25519: sign with an RSA selector "
				    "as well, never with Ed25519 alone.";
	for (size_t i = 0; i < nwarn; i++)
		fprintf(stderr, "dkim-setup: warning: %s\n", warnings[i]);

	if (j != NULL) {
		json_key(j, &key);
		json_string(j, "key", outcome_name(&key));
		json_string(j, "private_key_backup", key.priv_backup[0] ? key.priv_backup : NULL);
		json_bool(j, "dry_run", opt->dry_run);
		json_array_begin(j, "warnings");
		for (size_t i = 0; i < nwarn; i++)
			json_string(j, NULL, warnings[i]);
		json_array_end(j);
		json_record(j, &key);
	} else {
		print_record(out, &key);
	}

	int status = DK_OK;
	int (*steps[])(struct batch_ctx *, struct dk_err *) = {
		batch_step_dns, batch_step_mta, batch_step_proof,
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		dk_err_clear(&err);
		if (steps[i](&b, &err) < 0) {
			fprintf(stderr, "dkim-setup: %s\n", err.msg);
			if (j != NULL)
				json_string(j, "error", err.msg);
			status = err.status;
			break;
		}
		if (b.status > status)
			status = b.status;
	}
	setup_keyjob_clear(&key);
	return finish(j, status);
}

int cmd_record(const struct options *opt)
{
	struct dk_keyjob key;
	struct dk_err err;
	memset(&key, 0, sizeof key);
	key.root = opt->root;
	snprintf(key.domain, sizeof key.domain, "%s", opt->domain);
	snprintf(key.selector, sizeof key.selector, "%s", opt->selector);
	if (setup_load_key(&key, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	if (opt->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_key(&j, &key);
		json_record(&j, &key);
		json_object_end(&j);
		json_finish(&j);
	} else {
		print_record(stdout, &key);
	}
	setup_keyjob_clear(&key);
	return DK_OK;
}
