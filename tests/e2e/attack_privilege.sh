#!/bin/bash
# attack_privilege: run as an unprivileged user (nobody, via setpriv).
# Without --root: one clear line saying what needs root, exit 3, nothing
# written. With a --root sandbox of its own: works, and asks for no
# privilege it lacks (no chown to root or to groups it is not in).
. "$TOP/tests/lib/lib.sh"
need_root
command -v setpriv >/dev/null || skip_all "setpriv missing"
T=$(t_tmpdir)
chmod 0755 "$T"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody test -x "$DKIM_SETUP" || skip_all "nobody cannot run $DKIM_SETUP"

for mode in "--batch" "--batch --force" "--batch --json" "--batch -m exim" "--batch -a ed25519"; do
	# shellcheck disable=SC2086
	(cd "$T" && as_nobody "$DKIM_SETUP" $mode -d example.com -s s1 >"$T/out" 2>"$T/err" </dev/null)
	rc=$?
	check_eq "nobody, $mode, no --root: exit 3" 3 "$rc"
	check "  ... exactly one line on stderr, nothing on stdout" \
		eval '[ "$(wc -l <"$T/err")" = 1 ] && [ ! -s "$T/out" ]'
	check_match "  ... saying what needs root and how" \
		'writing keys to /etc/ssl/private.*needs root.*sudo.*--root' "$(cat "$T/err")"
done
check "  ... and nothing was written in the working directory" test -z "$(ls "$T" | grep -v -e '^out$' -e '^err$')"

# A sandbox nobody owns: the whole run works without privilege.
SB=$T/nobody-root
mkdir -p "$SB"
chown nobody:nogroup "$SB"
as_nobody "$DKIM_SETUP" --batch --root "$SB" -d example.com -s s1 -a ed25519 >"$T/out" 2>"$T/err" </dev/null
rc=$?
check_eq "nobody with its own --root sandbox: exit 0" 0 "$rc"
check_eq "  ... key 0600 owned by nobody" "600 nobody" \
	"$(stat -c '%a %U' "$SB/etc/ssl/private/example.com-s1-private.pem" 2>/dev/null)"
as_nobody "$DKIM_SETUP" --root "$SB" record -d example.com -s s1 >"$T/out" 2>"$T/err" </dev/null
check "  ... and 'record' reads it back (exit $?)" grep -q 'v=DKIM1; k=ed25519; p=' "$T/out"

# A sandbox owned by root: refused with the reason, no crash, nothing written.
SB=$T/root-root
mkdir -p "$SB/etc/ssl/private" "$SB/etc/ssl/certs"
chmod 0710 "$SB/etc/ssl/private"
as_nobody "$DKIM_SETUP" --batch --root "$SB" -d example.com -s s1 -a ed25519 >"$T/out" 2>"$T/err" </dev/null
rc=$?
check_eq "nobody with a root-owned --root: exit 3" 3 "$rc"
check_match "  ... one line with the reason" '^dkim-setup: .*(Permission denied|root)' "$(cat "$T/err")"
check "  ... nothing written" test -z "$(find "$SB" -type f)"

# --dry-run as nobody on the real system: writes nothing, whatever it can see.
(cd "$T" && as_nobody "$DKIM_SETUP" --batch --dry-run -d example.com -s s1 -a ed25519 >"$T/out" 2>"$T/err" </dev/null)
rc=$?
diag "nobody --dry-run on the real system: exit $rc: $(head -n 1 "$T/err")"
check "nobody --dry-run: exit 0 or 3, and the system's key directory gained nothing" \
	eval '{ [ "$rc" = 0 ] || [ "$rc" = 3 ]; } && [ ! -e /etc/ssl/private/example.com-s1-private.pem ]'
if [ "$rc" = 3 ]; then
	check_match "  ... and when it cannot look, it says why and that sudo is the way" \
		'^dkim-setup: cannot look into /etc/ssl/private as this user.*run it with sudo' "$(head -n 1 "$T/err")"
fi
