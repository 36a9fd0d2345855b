/* spawn.c: starting other programs cleanly and with a deadline. See spawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

/* Exit codes of a child that never reached its program or probe. */
#define CHILD_NOEXEC 127
#define CHILD_NOSWITCH 250

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * In the child, before anything else: its own process group (so a
 * deadline kills what it started too), every signal back to its default
 * action, /dev/null as stdin, `out` as stdout and stderr, no other
 * descriptor, and last an empty signal mask. Only async-signal-safe calls:
 * the parent may have other threads.
 */
static void child_setup(int out)
{
	setpgid(0, 0);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);   /* SIGKILL, SIGSTOP, libc's own: refused, fine */
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(CHILD_NOEXEC);
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* What a spawn does in its child once it is clean. Never returns. */
struct child_job {
	const char *const *argv;   /* a program, or ... */
	const char *path;          /* ... a probe: open this as uid/gid */
	uid_t uid;
	gid_t gid;
};

static void child_run(const struct child_job *job)
{
	if (job->argv != NULL) {
		char *const envp[] = { SPAWN_ENV_PATH, SPAWN_ENV_LANG, NULL };
		execve(job->argv[0], (char *const *)job->argv, envp);
		_exit(CHILD_NOEXEC);
	}
	if (setgroups(0, NULL) < 0 || setgid(job->gid) < 0 || setuid(job->uid) < 0)
		_exit(CHILD_NOSWITCH);
	int fd = open(job->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	_exit(fd >= 0 ? 0 : (errno > 0 && errno < CHILD_NOSWITCH ? errno : CHILD_NOSWITCH - 1));
}

/* Wait for pid until the deadline, tracking whether it is stopped. */
static int wait_until(pid_t pid, long long deadline, int *wst, bool *stopped)
{
	for (;;) {
		pid_t r = waitpid(pid, wst, WNOHANG | WUNTRACED | WCONTINUED);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == pid) {
			if (WIFSTOPPED(*wst)) {
				*stopped = true;
				continue;
			}
			if (WIFCONTINUED(*wst)) {
				*stopped = false;
				continue;
			}
			return 1;
		}
		if (now_ms() >= deadline)
			return 0;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static int spawn_job(const struct child_job *job, char *out, size_t outlen, int timeout_ms,
		     struct spawn_result *res)
{
	memset(res, 0, sizeof *res);
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (timeout_ms <= 0)
		timeout_ms = SPAWN_TIMEOUT_MS;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		res->end = SPAWN_FAILED;
		res->err = errno;
		snprintf(res->why, sizeof res->why, "cannot start it: %s", strerror(errno));
		return -1;
	}
	/* Nothing of ours may run in the child before it is clean: hold every
	 * signal across fork; the child resets dispositions, then unblocks. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		child_setup(fds[1]);
		child_run(job);
	}
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		res->end = SPAWN_FAILED;
		res->err = fork_errno;
		snprintf(res->why, sizeof res->why, "cannot start it: %s", strerror(fork_errno));
		return -1;
	}
	setpgid(pid, pid);   /* also here: no window before the child's own call */

	long long deadline = now_ms() + timeout_ms;
	size_t used = 0;
	bool timed_out = false;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pr == 0)
			continue;
		char sink[512];
		bool keep = out != NULL && used + 1 < outlen;
		char *dst = keep ? out + used : sink;
		size_t room = keep ? outlen - used - 1 : sizeof sink;
		ssize_t n = read(fds[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* EOF: every writer has gone */
		if (keep)
			used += (size_t)n;
	}
	close(fds[0]);
	if (out != NULL && outlen > 0)
		out[used] = '\0';

	int wst = 0;
	int w = wait_until(pid, timed_out ? 0 : deadline, &wst, &res->stopped);
	if (w <= 0) {
		/* Still there at the deadline (or waitpid failed): end its group. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			;
		res->end = SPAWN_TIMEOUT;
		snprintf(res->why, sizeof res->why, "no answer after %d s%s: killed", (timeout_ms + 999) / 1000,
			 res->stopped ? " (it was stopped)" : "");
		return -1;
	}
	if (WIFSIGNALED(wst)) {
		res->end = SPAWN_SIGNALED;
		res->sig = WTERMSIG(wst);
		snprintf(res->why, sizeof res->why, "killed by signal %d (%s)", res->sig, strsignal(res->sig));
		return -1;
	}
	res->end = SPAWN_EXITED;
	res->status = WEXITSTATUS(wst);
	snprintf(res->why, sizeof res->why, "exit status %d", res->status);
	return res->status;
}

int spawn_run(const char *const argv[], char *out, size_t outlen, int timeout_ms,
	      struct spawn_result *res)
{
	struct spawn_result local;
	struct child_job job = { .argv = argv };
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		res = res != NULL ? res : &local;
		memset(res, 0, sizeof *res);
		res->end = SPAWN_FAILED;
		res->err = EINVAL;
		snprintf(res->why, sizeof res->why, "not an absolute program path");
		return -1;
	}
	return spawn_job(&job, out, outlen, timeout_ms, res != NULL ? res : &local);
}

int spawn_probe_open(const char *path, uid_t uid, gid_t gid, int timeout_ms,
		     struct spawn_result *res)
{
	struct spawn_result local;
	res = res != NULL ? res : &local;
	struct child_job job = { .path = path, .uid = uid, .gid = gid };
	if (timeout_ms <= 0)
		timeout_ms = SPAWN_PROBE_TIMEOUT_MS;
	int rc = spawn_job(&job, NULL, 0, timeout_ms, res);
	if (rc == CHILD_NOSWITCH) {
		snprintf(res->why, sizeof res->why, "could not switch to uid %u", (unsigned)uid);
		return -1;
	}
	if (rc == CHILD_NOEXEC) {
		snprintf(res->why, sizeof res->why, "could not set up the test process");
		return -1;
	}
	return rc;
}
