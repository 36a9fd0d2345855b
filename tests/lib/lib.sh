# tests/lib/lib.sh: shared helpers for the end-to-end tests (bash).
# Source it first thing: `. "$TOP/tests/lib/lib.sh"`.
# Output is TAP-like: "ok N - what" / "not ok N - what"; tests/run.sh counts.
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DKIM_SETUP=${DKIM_SETUP:-$TOP/build/asan/dkim-setup}
T_N=0
T_FAILED=0
T_CLEANUPS=()

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# check "what" command...: passes when the command succeeds.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# check_eq "what" expected actual
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
# check_match "what" regex text
check_match() {
	if [[ $3 =~ $2 ]]; then ok "$1"; else not_ok "$1 (no match for /$2/ in: ${3:0:300})"; fi
}

# check_contains "what" needle text (fixed string)
check_contains() {
	if [[ $3 == *"$2"* ]]; then ok "$1"; else not_ok "$1 ('${2:0:80}' not in: ${3:0:300})"; fi
}

# Run something at exit (LIFO), e.g. stopping a server we started.
at_exit() { T_CLEANUPS+=("$*"); }
_t_exit() {
	local rc=$?
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUPS[$i]}" || true; done
	if [ "$T_FAILED" != 0 ]; then exit 1; fi
	exit "$rc"
}
trap _t_exit EXIT

# A fresh directory removed at exit. Made inside one per-test directory that
# the test's own shell removes: `d=$(t_tmpdir)` runs in a subshell, so an
# at_exit registered there would be lost.
T_TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/dkim-test.XXXXXX")
chmod 0755 "$T_TMPROOT"
echo "$$" >"$T_TMPROOT/.owner"  # tests/run.sh removes it if we die unseen (SIGKILL)
at_exit "rm -rf '$T_TMPROOT'"
t_tmpdir() {
	local d
	d=$(mktemp -d "$T_TMPROOT/t.XXXXXX")
	chmod 0755 "$d"
	echo "$d"
}

# A TCP+UDP port on loopback that is free right now.
t_free_port() {
	/usr/bin/python3 - <<'PY'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
}

skip_all() { echo "$*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
