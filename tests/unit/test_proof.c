/* The proof step's signer and verifier, with the checked-in keys; every
 * signed message is also verified by dkimpy (an independent verifier) with
 * the key lookup answered from the record text: no DNS at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keygen.h"
#include "proof.h"

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	const char *top = getenv("TOP");
	snprintf(path, sizeof path, "%s/tests/data/%s", top ? top : ".", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	if (n > 0 && buf[n - 1] == '\n' && strstr(name, ".pem") == NULL)
		buf[--n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* dkimpy's verdict on msg with `record` served for every key lookup. */
static int dkimpy(const char *msg, const char *record)
{
	char mpath[] = "/tmp/test_proof_msg.XXXXXX", rpath[] = "/tmp/test_proof_rec.XXXXXX";
	int mfd = mkstemp(mpath), rfd = mkstemp(rpath);
	assert_true(mfd >= 0 && rfd >= 0);
	assert_int_equal(write(mfd, msg, strlen(msg)), (ssize_t)strlen(msg));
	assert_int_equal(write(rfd, record, strlen(record)), (ssize_t)strlen(record));
	close(mfd);
	close(rfd);
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import dkim,sys; m=open(sys.argv[1],\"rb\").read(); "
		 "r=open(sys.argv[2],\"rb\").read(); "
		 "sys.exit(0 if dkim.verify(m, dnsfunc=lambda n, timeout=5: r) else 1)' %s %s",
		 mpath, rpath);
	int rc = system(cmd);
	unlink(mpath);
	unlink(rpath);
	return rc;
}

static void sign_verify(const char *keyfile, const char *recfile, const char *alg)
{
	size_t len;
	char *pem = slurp(keyfile, &len), *rec = slurp(recfile, NULL), *msg = NULL;
	struct dk_err err;
	char detail[512];
	assert_int_equal(proof_sign_message(pem, len, "example.com", "sel1", &msg, &err), 0);
	assert_non_null(strstr(msg, alg));
	assert_int_equal(proof_verify_message(msg, rec, detail, sizeof detail, &err), 0);
	assert_non_null(strstr(detail, "verifies"));
	assert_int_equal(dkimpy(msg, rec), 0);
	/* A changed body fails dkimpy too: the check is not vacuous. */
	char *bad = strdup(msg);
	char *p = strstr(bad, "never sent");
	assert_non_null(p);
	p[0] = 'N';
	assert_int_not_equal(dkimpy(bad, rec), 0);
	free(bad);
	free(msg);
	free(pem);
	free(rec);
}

static void test_rsa(void **state)
{
	(void)state;
	sign_verify("rsa2048.pem", "rsa2048.record", "a=rsa-sha256");
}

static void test_ed25519(void **state)
{
	(void)state;
	sign_verify("ed25519.pem", "ed25519.record", "a=ed25519-sha256");
}

/* The published key differs: loud failure, DK_MISMATCH. */
static void test_other_key(void **state)
{
	(void)state;
	size_t len;
	char *pem = slurp("rsa2048.pem", &len), *msg = NULL, *p = NULL;
	struct dk_err err;
	char detail[512], rec[1024];
	EVP_PKEY *other;
	assert_int_equal(keygen_generate(DK_ALG_RSA, 2048, &other, &err), 0);
	assert_int_equal(keygen_p_value(other, &p, &err), 0);
	snprintf(rec, sizeof rec, "v=DKIM1; k=rsa; p=%s", p);
	assert_int_equal(proof_sign_message(pem, len, "example.com", "sel1", &msg, &err), 0);
	assert_int_equal(proof_verify_message(msg, rec, detail, sizeof detail, &err), -1);
	assert_int_equal(err.status, DK_MISMATCH);
	assert_non_null(strstr(detail, "does NOT verify"));
	assert_int_not_equal(dkimpy(msg, rec), 0);
	/* wrong type, revoked, garbage */
	char *edrec = slurp("ed25519.record", NULL);
	assert_int_equal(proof_verify_message(msg, edrec, detail, sizeof detail, &err), -1);
	assert_non_null(strstr(detail, "ed25519"));
	assert_int_equal(proof_verify_message(msg, "v=DKIM1; k=rsa; p=", detail, sizeof detail, &err), -1);
	assert_non_null(strstr(detail, "revoked"));
	assert_int_equal(proof_verify_message(msg, "hello", detail, sizeof detail, &err), -1);
	assert_int_equal(err.status, DK_MISMATCH);
	free(edrec);
	free(msg);
	free(p);
	free(pem);
	EVP_PKEY_free(other);
}

/* proof_verify_record reads the key from under a --root. */
static void test_verify_record_root(void **state)
{
	(void)state;
	char root[] = "/tmp/test_proof_root.XXXXXX";
	assert_non_null(mkdtemp(root));
	chmod(root, 0755);
	char path[1024];
	snprintf(path, sizeof path, "%s/etc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/etc/ssl", root);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/etc/ssl/private", root);
	mkdir(path, 0700);
	size_t len;
	char *pem = slurp("rsa2048.pem", &len), *rec = slurp("rsa2048.record", NULL);
	snprintf(path, sizeof path, "%s/etc/ssl/private/k.pem", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(pem, 1, len, f);
	fclose(f);
	chmod(path, 0600);
	struct proof_request req = { .root = root, .domain = "example.com", .selector = "s1",
				     .priv_path = "/etc/ssl/private/k.pem" };
	struct proof_result res;
	struct dk_err err;
	assert_int_equal(proof_verify_record(&req, rec, &res, &err), 0);
	assert_true(res.signed_ok && res.verified);
	char *edrec = slurp("ed25519.record", NULL);
	assert_int_equal(proof_verify_record(&req, edrec, &res, &err), -1);
	assert_true(res.signed_ok && !res.verified);
	unlink(path);
	char cmd[1100];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(edrec);
	free(pem);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_verify_record_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
