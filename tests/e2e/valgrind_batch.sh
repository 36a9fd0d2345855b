#!/bin/bash
# valgrind_batch: the batch mode (and record, check) of the plain build under
# valgrind memcheck: no invalid read/write, no use of uninitialised memory,
# no definitely-lost block, on the success paths and on the error paths
# (bad input, an existing key, a symlinked key, an unsafe directory).
. "$TOP/tests/lib/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
[ -x "$PLAIN" ] || skip_all "no plain build at $PLAIN"
T=$(t_tmpdir)
SB=$T/root
mkdir -p "$SB"
n=0

# vg EXPECTED_STATUS WHAT ARGS...
vg() {
	local want=$1 what=$2; shift 2
	n=$((n + 1))
	local log=$T/vg.$n.log
	valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--track-origins=yes --error-exitcode=99 --log-file="$log" \
		"$PLAIN" "$@" >"$T/out" 2>"$T/err" </dev/null
	local rc=$?
	local errs lost
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1)
	if [ "$rc" = "$want" ] && [ "${errs:-x}" = 0 ] && [ "${lost:-0}" = 0 ]; then
		ok "valgrind: $what (exit $rc, 0 errors, definitely lost ${lost:-0})"
	else
		not_ok "valgrind: $what (exit $rc, want $want; errors ${errs:-?}; definitely lost ${lost:-?})"
		grep -E 'Invalid|uninitialised|definitely lost|at 0x|by 0x' "$log" | head -n 30 | sed 's/^/# /'
	fi
}

B=(--batch --root "$SB" -d example.com)
vg 0 "new RSA-2048 key" "${B[@]}" -s s1
vg 0 "the same again (reused)" "${B[@]}" -s s1
vg 0 "--force replacement with backups, --json" "${B[@]}" -s s1 --force --json
vg 0 "new Ed25519 key" "${B[@]}" -s s2 -a ed25519
vg 0 "--dry-run" "${B[@]}" -s s3 -b 1024 --dry-run
vg 0 "record" --root "$SB" record -d example.com -s s1
vg 0 "record --json" --root "$SB" record -d example.com -s s2 --json
vg 2 "another key type without --force" "${B[@]}" -s s1 -a ed25519
vg 2 "hostile domain" --batch --root "$SB" -d $'\e[2J../x' -s s1
vg 2 "hostile option" "${B[@]}" -s s1 $'-\e'
vg 2 "bad --nameserver" "${B[@]}" -s s1 --nameserver 'foo@99999'
vg 2 "record of a missing key" --root "$SB" record -d example.com -s nosuch
# check asks DNS: a loopback port where nothing listens (exit 3, refused).
NS=(--nameserver 127.0.0.1@9)
vg 3 "check with the installed key" --root "$SB" check -d example.com -s s1 "${NS[@]}"
vg 3 "check --key a public PEM" --root "$SB" check -d example.com -s s2 "${NS[@]}" \
	--key "$SB/etc/ssl/certs/example.com-s2-public.pem"
vg 3 "check --key a private PEM" --root "$SB" check -d example.com -s s2 "${NS[@]}" \
	--key "$SB/etc/ssl/private/example.com-s2-private.pem"
vg 2 "check --key not a key" --root "$SB" check -d example.com -s s2 "${NS[@]}" --key /etc/hostname
ln -s /etc/passwd "$SB/etc/ssl/private/example.com-s9-private.pem"
vg 3 "a symlink at the key path" "${B[@]}" -s s9 -a ed25519
chmod 0777 "$SB/etc/ssl/certs"
vg 3 "a directory writable by others" "${B[@]}" -s s8 -a ed25519
chmod 0755 "$SB/etc/ssl/certs"
printf 'not a key\n' >"$SB/etc/ssl/private/example.com-s7-private.pem"
chmod 0600 "$SB/etc/ssl/private/example.com-s7-private.pem"
vg 2 "an unreadable existing key" "${B[@]}" -s s7
