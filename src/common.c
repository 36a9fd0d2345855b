/* common.c: the error record. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

__attribute__((format(printf, 4, 0)))
static int vfail(struct dk_err *err, int status, int errnum, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	int saved = errno;   /* callers may still look at errno */
	err->status = status;
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (errnum != 0 && n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
	/* One line: fold any newline a caller let through. */
	for (char *c = err->msg; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	errno = saved;
	return -1;
}

int dk_fail(struct dk_err *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int dk_fail_errno(struct dk_err *err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, status, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

void dk_err_clear(struct dk_err *err)
{
	if (err == NULL)
		return;
	err->status = DK_OK;
	err->msg[0] = '\0';
}

const char *dk_printable(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const size_t room = outlen > 4 ? outlen - 4 : 0;   /* space for "..." and NUL */
	for (const unsigned char *c = (const unsigned char *)in; *c != '\0'; c++) {
		char piece[5];
		if (*c >= 0x20 && *c < 0x7f && *c != '\\')
			piece[0] = (char)*c, piece[1] = '\0';
		else if (*c == '\\')
			strcpy(piece, "\\\\");
		else
			snprintf(piece, sizeof piece, "\\x%02x", *c);
		size_t pl = strlen(piece);
		if (o + pl > room) {
			if (outlen >= 4)
				strcpy(out + (o < outlen - 4 ? o : outlen - 4), "...");
			else if (outlen > 0)
				out[0] = '\0';   /* no room even for "...": empty, but terminated */
			return out;
		}
		memcpy(out + o, piece, pl);
		o += pl;
	}
	if (outlen > 0)
		out[o] = '\0';
	return out;
}

void dk_block_signals(sigset_t *old, bool and_winch)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (and_winch)
		sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, old);
}
