/* main.c: options, mode dispatch (wizard / batch / check / record). The only
 * place besides the UI that exits or prints fatal errors. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "dns.h"
#include "fsutil.h"
#include "options.h"
#include "wizard.h"

/* Variables that make a library load code or read other files than the
 * ones we mean. Whoever sets them (sudo -E, an env_keep rule) is not
 * trusted with root's process. (Those the dynamic loader and glibc read
 * before main, LD_* and GLIBC_TUNABLES, are for sudo and ld.so to drop.) */
static const char *const steering_env[] = {
	"OPENSSL_CONF", "OPENSSL_CONF_INCLUDE", "OPENSSL_MODULES", "OPENSSL_ENGINES",
	"OPENSSL_TRACE", "OPENSSL_ia32cap", "SSL_CERT_FILE", "SSL_CERT_DIR", "CTLOG_FILE",
	"RANDFILE", "GCONV_PATH", "LOCPATH", "NLSPATH", "HOSTALIASES", "LOCALDOMAIN",
	"RES_OPTIONS", "RESOLV_HOST_CONF", "TMPDIR", "TZDIR", "MALLOC_CHECK_", "MALLOC_PERTURB_",
};
/* Only root's terminal is worth protecting from a user's terminfo. */
static const char *const steering_env_root[] = { "TERMINFO", "TERMINFO_DIRS", "TERMCAP" };

/* Before anything else: OpenSSL initialised without any configuration
 * file (OPENSSL_CONF could name a provider module to load into root's
 * process; the first init wins, so later implicit inits load none
 * either), and the steering variables gone for us and every library. */
static void clean_process(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	for (size_t i = 0; i < sizeof steering_env / sizeof steering_env[0]; i++)
		unsetenv(steering_env[i]);
	if (geteuid() == 0)
		for (size_t i = 0; i < sizeof steering_env_root / sizeof steering_env_root[0]; i++)
			unsetenv(steering_env_root[i]);
}

int main(int argc, char **argv)
{
	clean_process();
	struct options opt;
	struct dk_err err;
	dk_err_clear(&err);

	/* We hold private keys in memory: no core file may ever contain one. */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
#ifndef __SANITIZE_ADDRESS__
	/* (LeakSanitizer must ptrace us at exit, so the sanitizer test build
	 * keeps the process dumpable; RLIMIT_CORE still applies.) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif

	if (options_parse(argc, argv, &opt, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	if (dns_set_resolvers(opt.resolvers, opt.n_resolvers, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return DK_USAGE;
	}
	if (opt.mode == MODE_HELP) {
		options_usage(stdout);
		return DK_OK;
	}
	if (opt.mode == MODE_VERSION) {
		printf("dkim-setup %s\n", DK_VERSION);
		return DK_OK;
	}
	/* The root is opened here, once; from now on it is a descriptor. */
	if (fs_root_open(opt.root, &err) < 0) {
		fprintf(stderr, "dkim-setup: %s\n", err.msg);
		return err.status;
	}
	switch (opt.mode) {
	case MODE_HELP:
	case MODE_VERSION:
		break;
	case MODE_CHECK:
		return cmd_check(&opt);
	case MODE_RECORD:
		return cmd_record(&opt);
	case MODE_BATCH:
		break;
	case MODE_WIZARD:
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			fprintf(stderr, "dkim-setup: the wizard needs a terminal; "
				"for scripts use --batch (see --help)\n");
			return DK_USAGE;
		}
		break;
	}

	/* Writing to the real system needs root; say so before any question. */
	if (opt.root[0] == '\0' && !opt.dry_run && geteuid() != 0) {
		fprintf(stderr, "dkim-setup: writing keys to /etc/ssl/private and changing the mail "
			"server's configuration needs root: run it with sudo (or use --root DIR "
			"for a sandbox, or --dry-run)\n");
		return DK_SYSERR;
	}
	return opt.mode == MODE_BATCH ? batch_run(&opt) : wizard_run(&opt);
}
