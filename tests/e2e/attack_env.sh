#!/bin/bash
# attack_env: the environment loads no code into a root run (issue 17).
# OPENSSL_CONF names a configuration that loads a provider module whose
# constructor leaves a marker file. A program that honours OPENSSL_CONF
# (python's ssl module, as a control) leaves the marker; dkim-setup, with
# --batch, check and record, and in the sanitizer and plain builds, leaves
# none: OpenSSL is initialised without a configuration file first thing.
. "$TOP/tests/lib/lib.sh"
command -v gcc >/dev/null || skip_all "gcc missing"
T=$(t_tmpdir)
cat >"$T/evil.c" <<C
#include <stdio.h>
__attribute__((constructor)) static void mark(void)
{
	FILE *f = fopen("$T/marker", "w");
	if (f != NULL)
		fclose(f);
}
int OSSL_provider_init(const void *h, const void *in, const void **out, void **ctx)
{
	(void)h; (void)in; (void)out; (void)ctx;
	return 0;
}
C
gcc -shared -fPIC -o "$T/evil.so" "$T/evil.c" || { not_ok "the test provider builds"; exit 1; }
cat >"$T/evil.cnf" <<CNF
openssl_conf = init
[init]
providers = prov
[prov]
evil = evil_sect
default = default_sect
[evil_sect]
module = $T/evil.so
activate = 1
[default_sect]
activate = 1
CNF

OPENSSL_CONF=$T/evil.cnf /usr/bin/python3 -c 'import ssl; ssl.create_default_context()' >/dev/null 2>&1
check "control: a program that honours OPENSSL_CONF loads the module (marker made)" test -e "$T/marker"
rm -f "$T/marker"

SB=$T/sb
mkdir -p "$SB"
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
for prog in "$DKIM_SETUP" "$PLAIN"; do
	[ -x "$prog" ] || continue
	b=$(basename "$(dirname "$prog")")
	OPENSSL_CONF=$T/evil.cnf OPENSSL_MODULES=$T "$prog" --batch --root "$SB" -d example.com -s s1 \
		--mta none --force >"$T/out" 2>&1 </dev/null
	rc=$?
	check_eq "$b: --batch with OPENSSL_CONF set: exit 0" 0 "$rc"
	check "$b:   ... and the module was not loaded (no marker)" test ! -e "$T/marker"
	OPENSSL_CONF=$T/evil.cnf "$prog" --root "$SB" record -d example.com -s s1 >"$T/out" 2>&1 </dev/null
	check "$b: record with OPENSSL_CONF set: no marker" test ! -e "$T/marker"
	OPENSSL_CONF=$T/evil.cnf "$prog" --root "$SB" check -d example.com -s s1 \
		--nameserver 127.0.0.1@9 >"$T/out" 2>&1 </dev/null
	check "$b: check with OPENSSL_CONF set: no marker" test ! -e "$T/marker"
done
