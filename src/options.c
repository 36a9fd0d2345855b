/* options.c: the command line of DESIGN.md. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "options.h"
#include "signer.h"
#include "validate.h"

/* Untrusted text in messages goes through dk_printable(). */
static char qbuf[96];
#define P(s) dk_printable((s), qbuf, sizeof qbuf)

enum {
	OPT_BATCH = 256, OPT_ROOT, OPT_NAMESERVER, OPT_RESOLVER, OPT_WAIT, OPT_PUBLISH, OPT_TSIG_KEY,
	OPT_FORCE, OPT_DRY_RUN, OPT_JSON, OPT_TRAINING, OPT_KEY, OPT_PROVE,
	OPT_AUTO, OPT_MAX_AGE, OPT_GRACE, OPT_PURGE,
};

static const struct option long_opts[] = {
	{ "domain", required_argument, NULL, 'd' },
	{ "selector", required_argument, NULL, 's' },
	{ "algorithm", required_argument, NULL, 'a' },
	{ "bits", required_argument, NULL, 'b' },
	{ "mta", required_argument, NULL, 'm' },
	{ "batch", no_argument, NULL, OPT_BATCH },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "nameserver", required_argument, NULL, OPT_NAMESERVER },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "publish", no_argument, NULL, OPT_PUBLISH },
	{ "tsig-key", required_argument, NULL, OPT_TSIG_KEY },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "prove", no_argument, NULL, OPT_PROVE },
	{ "training", no_argument, NULL, OPT_TRAINING },
	{ "auto", no_argument, NULL, OPT_AUTO },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "purge", no_argument, NULL, OPT_PURGE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void options_usage(FILE *out)
{
	fputs("Usage:\n"
	      "  dkim-setup [OPTIONS]                     the wizard (needs a terminal)\n"
	      "  dkim-setup --batch [OPTIONS]             the same steps without questions\n"
	      "  dkim-setup check -d DOMAIN -s SELECTOR   is the record published everywhere, and right?\n"
	      "  dkim-setup record -d DOMAIN -s SELECTOR  print the DNS record of an existing key\n"
	      "  dkim-setup status [-d DOMAIN]            every key of this host, and what to do next\n"
	      "  dkim-setup rotate -d DOMAIN [-s NEW]     new key, publish, wait, switch, prove\n"
	      "  dkim-setup rotate --auto                 for a timer: rotate old keys, retire old selectors\n"
	      "  dkim-setup retire -d DOMAIN -s OLD       revoke (p=), remove the signer's copy\n"
	      "\n"
	      "Options:\n"
	      "  -d, --domain DOMAIN        signing domain (d=); default from /etc/mailname\n"
	      "  -s, --selector NAME        selector (s=); default YYYYMM of today\n"
	      "  -a, --algorithm rsa|ed25519  key type (default rsa)\n"
	      "  -b, --bits N               RSA size: 1024, 2048 (default), 3072, 4096\n"
	      "  -m, --mta exim|postfix|rspamd|none\n"
	      "                          the signer to configure (postfix: Postfix + OpenDKIM;\n"
	      "                          rspamd: Postfix + rspamd; default: detected)\n"
	      "      --root DIR             treat DIR as / for every file; change nothing outside\n"
	      "      --nameserver ADDR[@PORT]  ask this server instead (repeatable)\n"
	      "      --resolver ADDR[@PORT]  find the zone's servers through this resolver, not\n"
	      "                             /etc/resolv.conf's (repeatable)\n"
	      "      --wait SECONDS         batch: wait up to SECONDS for the record (default 0)\n"
	      "      --publish              publish the record by RFC 2136 UPDATE, then wait\n"
	      "      --tsig-key FILE        TSIG key: algorithm:name:secret, or a BIND key file\n"
	      "      --key FILE             check: compare with this key instead of the installed one\n"
	      "      --prove                check: also prove signing through the running signer\n"
	      "      --force                replace an existing key (the old one is kept as a backup)\n"
	      "      --dry-run              show what would be written and run; write nothing\n"
	      "      --json                 batch, check, record: one JSON object on stdout\n"
	      "      --training             wizard: explain every step\n"
	      "      --auto                 rotate: every domain, as a daily timer would\n"
	      "      --max-age DAYS         rotate --auto: rotate keys older than this (default 180)\n"
	      "      --grace DAYS           retire, rotate --auto: days an old selector's record stays\n"
	      "                             after it stopped signing (default 7)\n"
	      "      --purge                retire: delete the master key instead of keeping a backup\n"
	      "  -h, --help                 this text\n"
	      "  -V, --version              the version\n"
	      "\n"
	      "Exit status: 0 done; 1 record missing or mismatched, or the wait timed out;\n"
	      "2 bad usage or invalid input (nothing written); 3 system error.\n",
	      out);
}

/* Strict decimal in [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
	if (s[0] == '\0' || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ADDR or ADDR@PORT, numeric addresses only (a name would need the very
 * resolver the tests must never reach). IPv6 may be written [::1]@53. */
static int parse_server(const char *opt, const char *arg, struct dk_nameserver *ns, struct dk_err *err)
{
	char buf[DK_ADDR_MAX + 16];
	if (strlen(arg) >= sizeof buf)
		return dk_fail(err, DK_USAGE, "%s '%s': too long", opt, P(arg));
	strcpy(buf, arg);
	ns->port = 53;
	char *at = strrchr(buf, '@');
	if (at != NULL) {
		long port;
		if (parse_long(at + 1, 1, 65535, &port) < 0)
			return dk_fail(err, DK_USAGE, "%s '%s': port must be 1-65535", opt, P(arg));
		ns->port = (uint16_t)port;
		*at = '\0';
	}
	char *addr = buf;
	size_t alen = strlen(addr);
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
		addr[alen - 1] = '\0';
		addr++;
	}
	unsigned char tmp[16];
	if (inet_pton(AF_INET, addr, tmp) != 1 && inet_pton(AF_INET6, addr, tmp) != 1)
		return dk_fail(err, DK_USAGE,
			       "%s '%s': give a numeric IPv4 or IPv6 address, optionally @PORT", opt,
			       P(arg));
	snprintf(ns->addr, sizeof ns->addr, "%s", addr);
	return 0;
}

static int set_root(struct options *o, const char *arg, struct dk_err *err)
{
	if (arg[0] == '\0')
		return dk_fail(err, DK_USAGE, "--root: empty directory name");
	if (arg[0] != '/')
		return dk_fail(err, DK_USAGE, "--root '%s': give an absolute path", P(arg));
	char real[PATH_MAX];
	if (realpath(arg, real) == NULL)
		return dk_fail_errno(err, DK_USAGE, errno, "--root '%s'", P(arg));
	struct stat st;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return dk_fail(err, DK_USAGE, "--root '%s': not a directory", P(arg));
	if (strcmp(real, "/") == 0)
		real[0] = '\0';   /* --root / is the real system */
	if (strlen(real) >= sizeof o->root)
		return dk_fail(err, DK_USAGE, "--root '%s': path too long", P(arg));
	strcpy(o->root, real);
	return 0;
}

int options_parse(int argc, char **argv, struct options *o, struct dk_err *err)
{
	memset(o, 0, sizeof *o);
	o->mode = MODE_WIZARD;
	o->alg = DK_ALG_RSA;
	o->bits = DK_RSA_DEFAULT_BITS;
	o->mta[0] = '\0';
	const char *domain = NULL, *selector = NULL, *root = NULL;
	bool batch = false;
	char why[DK_ERRMSG_MAX];
	long v;

	/* 0, not 1: glibc then forgets the state of an earlier parse (a
	 * half-read "-hV" cluster would otherwise point into the old argv). */
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":d:s:a:b:m:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 's': selector = optarg; break;
		case 'a':
			if (strcmp(optarg, "rsa") == 0)
				o->alg = DK_ALG_RSA;
			else if (strcmp(optarg, "ed25519") == 0)
				o->alg = DK_ALG_ED25519;
			else
				return dk_fail(err, DK_USAGE, "--algorithm '%s': use rsa or ed25519", P(optarg));
			o->alg_given = true;
			break;
		case 'b':
			if (parse_long(optarg, 0, 1L << 20, &v) < 0 || !keygen_bits_allowed((int)v))
				return dk_fail(err, DK_USAGE,
					       "--bits '%s': RSA sizes are 1024, 2048, 3072 or 4096", P(optarg));
			o->bits = (int)v;
			o->bits_given = true;
			break;
		case 'm':
			if (strcmp(optarg, "none") != 0 && signer_by_name(optarg) == NULL) {
				char words[128] = "";   /* "exim|postfix" -> "exim, postfix" */
				for (const char *n = signer_names(); *n; n++) {
					size_t u = strlen(words);
					snprintf(words + u, sizeof words - u, "%s", *n == '|' ? ", " : (char[]){ *n, 0 });
				}
				return dk_fail(err, DK_USAGE, "--mta '%s': use %s or none", P(optarg), words);
			}
			snprintf(o->mta, sizeof o->mta, "%s", optarg);
			break;
		case OPT_BATCH: batch = true; break;
		case OPT_ROOT: root = optarg; break;
		case OPT_NAMESERVER:
			if (o->n_ns == DK_MAX_NAMESERVERS)
				return dk_fail(err, DK_USAGE, "--nameserver: at most %d servers", DK_MAX_NAMESERVERS);
			if (parse_server("--nameserver", optarg, &o->ns[o->n_ns], err) < 0)
				return -1;
			o->n_ns++;
			break;
		case OPT_RESOLVER:
			if (o->n_resolvers == DK_MAX_NAMESERVERS)
				return dk_fail(err, DK_USAGE, "--resolver: at most %d resolvers", DK_MAX_NAMESERVERS);
			if (parse_server("--resolver", optarg, &o->resolvers[o->n_resolvers], err) < 0)
				return -1;
			o->n_resolvers++;
			break;
		case OPT_WAIT:
			if (parse_long(optarg, 0, 86400, &v) < 0)
				return dk_fail(err, DK_USAGE, "--wait '%s': give whole seconds from 0 to 86400", P(optarg));
			o->wait_secs = v;
			break;
		case OPT_PUBLISH: o->publish = true; break;
		case OPT_TSIG_KEY: o->tsig_key_file = optarg; break;
		case OPT_KEY: o->key_file = optarg; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_DRY_RUN: o->dry_run = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_PROVE: o->prove = true; break;
		case OPT_TRAINING: o->training = true; break;
		case OPT_AUTO: o->auto_mode = true; break;
		case OPT_PURGE: o->purge = true; break;
		case OPT_MAX_AGE:
		case OPT_GRACE:
			if (parse_long(optarg, c == OPT_GRACE ? 0 : 1, 3650, &v) < 0)
				return dk_fail(err, DK_USAGE, "--%s '%s': give whole days from %d to 3650",
					       c == OPT_GRACE ? "grace" : "max-age", P(optarg), c == OPT_GRACE ? 0 : 1);
			*(c == OPT_GRACE ? &o->grace_days : &o->max_age_days) = v;
			if (c == OPT_GRACE && v == 0)
				o->grace_days = -1;   /* given as 0: no grace */
			break;
		case 'h': o->mode = MODE_HELP; return 0;
		case 'V': o->mode = MODE_VERSION; return 0;
		case ':':
			return dk_fail(err, DK_USAGE, "option '%s' needs a value", P(argv[optind - 1]));
		default:
			if (optopt > 0x20 && optopt < 0x7f)
				return dk_fail(err, DK_USAGE, "unknown option '-%c' (see --help)", optopt);
			if (optopt != 0)   /* a control or non-ASCII byte: never echoed raw */
				return dk_fail(err, DK_USAGE, "unknown option '-\\x%02x' (see --help)",
					       (unsigned)(unsigned char)optopt);
			return dk_fail(err, DK_USAGE, "unknown option '%s' (see --help)", P(argv[optind - 1]));
		}
	}

	/* GNU getopt moves the command word behind the options, wherever it stood. */
	if (optind < argc) {
		const char *cmd = argv[optind];
		const struct cmd_entry *entry = cmd_by_word(cmd);
		if (entry == NULL)
			return dk_fail(err, DK_USAGE, "unknown command '%s': use %s (see --help)", P(cmd), cmd_words());
		o->mode = entry->mode;
		if (optind + 1 < argc)
			return dk_fail(err, DK_USAGE, "unexpected argument '%s' (see --help)", P(argv[optind + 1]));
		if (batch)
			return dk_fail(err, DK_USAGE, "--batch does not go with '%s'", P(cmd));
		if (entry->needs_domain && (domain == NULL || selector == NULL))
			return dk_fail(err, DK_USAGE, "%s needs -d DOMAIN and -s SELECTOR", P(cmd));
	} else if (batch) {
		o->mode = MODE_BATCH;
	}

	if (domain != NULL && validate_domain(domain, o->domain, sizeof o->domain, why, sizeof why) < 0)
		return dk_fail(err, DK_USAGE, "domain '%s': %s", P(domain), why);
	if (selector != NULL &&
	    validate_selector(selector, o->selector, sizeof o->selector, why, sizeof why) < 0)
		return dk_fail(err, DK_USAGE, "selector '%s': %s", P(selector), why);
	if (root != NULL && set_root(o, root, err) < 0)
		return -1;

	if (o->alg == DK_ALG_ED25519) {
		if (o->bits_given)
			return dk_fail(err, DK_USAGE, "--bits is for RSA keys; Ed25519 keys have one size");
		o->bits = 0;
	}
	if (o->domain[0] != '\0' && o->selector[0] != '\0' &&
	    validate_record_name(o->domain, o->selector, why, sizeof why) < 0)
		return dk_fail(err, DK_USAGE, "%s", why);
	if (o->json && o->mode == MODE_WIZARD)
		return dk_fail(err, DK_USAGE, "--json goes with --batch, check or record");
	if (o->wait_secs > 0 && o->mode == MODE_WIZARD)
		return dk_fail(err, DK_USAGE, "--wait goes with --batch (the wizard waits on screen)");
	if (o->tsig_key_file != NULL && !o->publish && o->mode != MODE_WIZARD)
		return dk_fail(err, DK_USAGE, "--tsig-key goes with --publish");
	if (o->publish && o->tsig_key_file == NULL)
		return dk_fail(err, DK_USAGE, "--publish needs --tsig-key FILE");
	if (o->key_file != NULL && o->mode != MODE_CHECK)
		return dk_fail(err, DK_USAGE, "--key goes with check");
	if ((o->auto_mode || o->max_age_days) && o->mode != MODE_ROTATE)
		return dk_fail(err, DK_USAGE, "--auto and --max-age go with rotate");
	if (o->max_age_days && !o->auto_mode)
		return dk_fail(err, DK_USAGE, "--max-age goes with rotate --auto");
	if (o->grace_days && o->mode != MODE_RETIRE && !o->auto_mode)
		return dk_fail(err, DK_USAGE, "--grace goes with retire or rotate --auto");
	if (o->purge && o->mode != MODE_RETIRE)
		return dk_fail(err, DK_USAGE, "--purge goes with retire");
	if (o->prove && o->mode != MODE_CHECK)
		return dk_fail(err, DK_USAGE, "--prove goes with check (--batch and the wizard prove anyway)");
	if (o->prove && o->key_file != NULL)
		return dk_fail(err, DK_USAGE, "--prove proves the installed key, not --key FILE");
	return 0;
}

static void add_servers(char *buf, size_t len, const char *opt, const struct dk_nameserver *ns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, strchr(ns[i].addr, ':') ? " %s [%s]@%u" : " %s %s@%u", opt, ns[i].addr,
			 (unsigned)ns[i].port);
	}
}

void options_dns_args(const struct options *o, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	add_servers(buf, len, "--nameserver", o->ns, o->n_ns);
	add_servers(buf, len, "--resolver", o->resolvers, o->n_resolvers);
}
