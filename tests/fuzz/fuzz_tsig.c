/* fuzz_tsig.c: TSIG key files (--tsig-key FILE): "algorithm:name:secret" or
 * BIND's `key "name" { algorithm ...; secret "..."; };`, any bytes. The
 * input is written to a temp file and read by dns_tsig_load(), as the
 * program does. (Until src/dns.c lands the stub refuses everything.) */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "dns.h"
#include "fuzz_check.h"

static char path[512];   /* $TMPDIR/fuzz_tsig.XXXXXX (run.sh: build/fuzz/tmp) */
static int fd = -1;

static void remove_tmp(void)
{
	unlink(path);
}

static int strz(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/fuzz_tsig.XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
		fd = mkstemp(path);
		FUZZ_ASSERT(fd >= 0);
		atexit(remove_tmp);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);

	struct dns_tsig key;
	struct dk_err err;
	dk_err_clear(&err);
	if (dns_tsig_load(path, &key, &err) == 0) {
		FUZZ_ASSERT(strz(key.name, sizeof key.name) && key.name[0] != '\0');
		FUZZ_ASSERT(strz(key.algorithm, sizeof key.algorithm));
		FUZZ_ASSERT(strz(key.secret, sizeof key.secret) && key.secret[0] != '\0');
		/* hmac-md5 is refused, whatever its spelling. */
		for (char *c = key.algorithm; *c != '\0'; c++)
			FUZZ_ASSERT(strncasecmp(c, "md5", 3) != 0);
	} else {
		FUZZ_ASSERT(err.status == DK_USAGE || err.status == DK_SYSERR);
		FUZZ_ASSERT(err.msg[0] != '\0' && fuzz_one_printable_line(err.msg, sizeof err.msg));
	}
	dns_tsig_clear(&key);
	for (size_t i = 0; i < sizeof key.secret; i++)
		FUZZ_ASSERT(key.secret[i] == '\0');
	return 0;
}
