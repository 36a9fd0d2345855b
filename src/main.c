/* main.c: options, mode dispatch (wizard / batch / check / record). The only
 * place besides the UI that exits or prints fatal errors. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "dns.h"
#include "options.h"
#include "wizard.h"

int main(int argc, char **argv)
{
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
	switch (opt.mode) {
	case MODE_HELP:
		options_usage(stdout);
		return DK_OK;
	case MODE_VERSION:
		printf("dkim-setup %s\n", DK_VERSION);
		return DK_OK;
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
