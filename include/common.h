/*
 * common.h: exit statuses, the error record every layer fills in, and size
 * limits shared by the whole program.
 *
 * Layers below main() never exit and never print: they fill a struct dk_err
 * and return -1, and the front end (batch or curses) decides what to show.
 */
#ifndef DKIM_COMMON_H
#define DKIM_COMMON_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses, as DESIGN.md defines them. */
enum dk_status {
	DK_OK = 0,        /* done; for check: published everywhere and matching */
	DK_MISMATCH = 1,  /* record missing or mismatched, or the wait timed out */
	DK_USAGE = 2,     /* bad usage or invalid input; nothing written */
	DK_SYSERR = 3,    /* permissions, I/O, DNS unreachable, MTA check failed */
};

#define DK_DOMAIN_MAX 253   /* presentation form, no trailing dot */
#define DK_LABEL_MAX 63
#define DK_ERRMSG_MAX 512

struct dk_err {
	int status;                /* one of enum dk_status */
	char msg[DK_ERRMSG_MAX];   /* one line, no trailing newline */
};

/* Fill *err (if not NULL) and return -1, so callers can `return dk_fail(...)`. */
int dk_fail(struct dk_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like dk_fail, with ": strerror(errnum)" appended. */
int dk_fail_errno(struct dk_err *err, int status, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void dk_err_clear(struct dk_err *err);

/* A printable, bounded rendering of untrusted text for messages: control
 * and non-ASCII bytes become \xNN, and long input is cut with "...". */
const char *dk_printable(const char *in, char *out, size_t outlen);

/* Block, in the calling thread, the signals that end us (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT), and SIGWINCH too when asked; the old mask goes to *old.
 * fsutil holds them off while a file is half made; threads the wizard starts
 * block them for good so that only the UI loop sees them. */
void dk_block_signals(sigset_t *old, bool and_winch);

#endif
