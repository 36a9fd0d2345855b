/*
 * spawn.h: starting other programs, cleanly and with a deadline.
 *
 * Every child starts the same way, whatever the caller's thread had set:
 * default signal dispositions and an empty signal mask, stdin from
 * /dev/null, stdout and stderr into one pipe that we read, no other
 * descriptor, its own process group, and (for programs) a fixed
 * environment. A child that has not finished by the deadline (running,
 * stopped, or hung) is killed with its whole process group and the result
 * says so: a probe that was killed or timed out never reads as an answer.
 */
#ifndef DKIM_SPAWN_H
#define DKIM_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The environment every program we start gets, and nothing else. */
#define SPAWN_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define SPAWN_ENV_LANG "LC_ALL=C"

#define SPAWN_TIMEOUT_MS (120 * 1000)   /* an MTA tool or systemctl */
#define SPAWN_PROBE_TIMEOUT_MS (10 * 1000)

enum spawn_end {
	SPAWN_EXITED,     /* status is the exit code */
	SPAWN_SIGNALED,   /* killed by signal `sig` (not by us) */
	SPAWN_TIMEOUT,    /* still there at the deadline: we killed its group */
	SPAWN_FAILED,     /* could not be started (fork, pipe): errno in `err` */
};

struct spawn_result {
	enum spawn_end end;
	int status;        /* SPAWN_EXITED: exit code */
	int sig;           /* SPAWN_SIGNALED: the signal */
	int err;           /* SPAWN_FAILED: errno */
	bool stopped;      /* SPAWN_TIMEOUT: it was stopped (SIGSTOP) when killed */
	char why[160];     /* one line for messages, e.g. "killed after 120 s ..." */
};

/* Run argv (argv[0] an absolute path; never a shell, never PATH search)
 * with the fixed environment; its stdout and stderr go into out (at most
 * outlen-1 bytes kept, NUL-terminated; out may be NULL). timeout_ms <= 0
 * means SPAWN_TIMEOUT_MS. Returns the exit code when it exited, else -1
 * (res->why says what happened). res may be NULL. */
int spawn_run(const char *const argv[], char *out, size_t outlen, int timeout_ms,
	      struct spawn_result *res);

/* Try to open `path` (O_RDONLY|O_NOFOLLOW) as uid/gid with no
 * supplementary groups, in a clean child, the way a signing daemon would.
 * Returns 0 when it could, the errno when it could not, or -1 when the
 * child did not answer (switching users failed, it was killed or stopped,
 * the deadline passed): then res->why says why, and nothing is known. */
int spawn_probe_open(const char *path, uid_t uid, gid_t gid, int timeout_ms,
		     struct spawn_result *res);

#endif
