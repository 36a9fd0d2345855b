/*
 * hook.c: the test build's fs_test_hook (linked only into
 * build/tests/dkim-setup-hook; dkim-setup itself has an empty weak one).
 *
 * DKIM_SETUP_TEST_PAUSE is a comma-separated list of MOMENT:PATH[@N]
 * (the Nth call with that moment and path, default the first). At each,
 * the process appends "paused MOMENT:PATH@N" to DKIM_SETUP_TEST_LOG (every
 * other call "passed MOMENT:PATH@N") and
 * waits (at most 20 s) until something is written to the FIFO
 * DKIM_SETUP_TEST_FIFO: the test, or its attacker, does what it wants
 * meanwhile. Deterministic, and no debugger: the moment is named in
 * fsutil, not found by timing.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "lifecycle.h"

static struct {
	char key[PATH_MAX + 32];
	int n;
} seen[64];

static int count(const char *key)
{
	for (size_t i = 0; i < sizeof seen / sizeof seen[0]; i++) {
		if (seen[i].n == 0)
			snprintf(seen[i].key, sizeof seen[i].key, "%s", key);
		if (strcmp(seen[i].key, key) == 0)
			return ++seen[i].n;
	}
	return 0;
}

static int listed(const char *list, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, want, n) == 0)
			return 1;
		p = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

void fs_test_hook(const char *moment, const char *path)
{
	const char *list = getenv("DKIM_SETUP_TEST_PAUSE");
	const char *fifo = getenv("DKIM_SETUP_TEST_FIFO");
	if (list == NULL || fifo == NULL)
		return;
	char key[PATH_MAX + 32], nth[PATH_MAX + 48];
	snprintf(key, sizeof key, "%s:%s", moment, path);
	int n = count(key);
	snprintf(nth, sizeof nth, "%s@%d", key, n);
	bool pause = listed(list, nth) || (n == 1 && listed(list, key));
	const char *log = getenv("DKIM_SETUP_TEST_LOG");
	FILE *f = log != NULL ? fopen(log, "a") : NULL;
	if (f != NULL) {
		fprintf(f, "%s %s\n", pause ? "paused" : "passed", nth);
		fclose(f);
	}
	if (!pause)
		return;
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	for (int waited = 0; waited < 20000; waited += 100) {
		if (poll(&p, 1, 100) > 0 && (p.revents & POLLIN) && read(fd, &c, 1) == 1)
			break;
	}
	close(fd);
}

/* The test build's clock for rotate --auto and retire (include/
 * lifecycle.h): DKIM_SETUP_TEST_NOW=+Nd moves it N days ahead, =EPOCH
 * sets it. dkim-setup itself has the real clock only. */
time_t lc_test_clock(time_t real)
{
	const char *s = getenv("DKIM_SETUP_TEST_NOW");
	char *end;
	if (s == NULL || *s == '\0')
		return real;
	if (*s == '+') {
		long days = strtol(s + 1, &end, 10);
		return *end == 'd' && end[1] == '\0' ? real + (time_t)days * 86400 : real;
	}
	long long t = strtoll(s, &end, 10);
	return *end == '\0' && t > 0 ? (time_t)t : real;
}
