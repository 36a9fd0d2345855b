/* main.c: options, then the command table (include/cmd.h) runs the mode.
 * The only place besides the UI that exits or prints fatal errors. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "common.h"
#include "dns.h"
#include "options.h"

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
	const struct cmd_entry *cmd = cmd_by_mode(opt.mode);
	if (cmd->needs_terminal && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "dkim-setup: the wizard needs a terminal; "
			"for scripts use --batch (see --help)\n");
		return DK_USAGE;
	}
	/* Writing to the real system needs root; say so before any question. */
	if (cmd->writes && opt.root[0] == '\0' && !opt.dry_run && geteuid() != 0) {
		fprintf(stderr, "dkim-setup: writing keys to /etc/ssl/private and changing the mail "
			"server's configuration needs root: run it with sudo (or use --root DIR "
			"for a sandbox, or --dry-run)\n");
		return DK_SYSERR;
	}
	return cmd->exec(&opt);
}
