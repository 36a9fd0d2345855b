#!/bin/bash
# Run every test: C unit tests (plain and ASan/UBSan builds), then the
# end-to-end scripts tests/e2e/*.sh against the sanitizer build.
# Output is TAP-like; the last line is "N passed, N failed".
# Around them, as root: the host's packages, /etc and daemons are
# snapshotted before and compared after (tests/lib/snapshot.sh), and nothing
# the tests started may still run; any difference is a failure, printed.
# Usage: tests/run.sh [PATTERN]   (only tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
top=$PWD
pattern=${1:-}
skip=${SKIP_TESTS:-}   # space-separated name parts to leave out
passed=0 failed=0 skipped=0 skipped_checks=0
failures=()
export DKIM_SETUP=${DKIM_SETUP:-$top/build/asan/dkim-setup}
export DKIM_SETUP_PLAIN=$top/build/dkim-setup
export TOP=$top
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
logdir=$top/build/test-logs
mkdir -p "$logdir"
# Every process a test starts carries this in its environment.
export DKIM_TEST_RUN=dkim-test-run-$$-$RANDOM
# What a test killed by SIGKILL (an OOM, a dropped session) left behind:
# its directory names the shell that made it (lib.sh); that shell is gone.
for d in "${TMPDIR:-/tmp}"/dkim-test.*; do
	[ -d "$d" ] && [ -f "$d/.owner" ] || continue
	owner=$(cat "$d/.owner" 2>/dev/null)
	case $owner in '' | *[!0-9]*) continue ;; esac
	kill -0 "$owner" 2>/dev/null || [ -d "/proc/$owner" ] ||
		{ echo "# removing $d (left by test process $owner, gone)"; rm -rf --one-file-system "$d"; }
done
. tests/lib/snapshot.sh
snapdir=$(mktemp -d "${TMPDIR:-/tmp}/dkim-snapshot.XXXXXX")
trap 'rm -rf "$snapdir"' EXIT
[ "$(id -u)" = 0 ] && host_snapshot "$snapdir/before"

# count the "ok"/"not ok" lines of one test's output; a test that exits
# non-zero (not 77 = skipped) without a "not ok" line still counts a failure.
# A line with a TAP "# SKIP" directive is a skipped check, not a failure
# (cmocka writes a skipped test as "not ok N # SKIP name").
run_one() {
	local name=$1; shift
	local log=$logdir/$name.log
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local ok nok nskip
	ok=$(grep '^ok ' "$log" | grep -vc '# SKIP')
	nok=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
	nskip=$(grep -E '^(not )?ok ' "$log" | grep -c '# SKIP')
	skipped_checks=$((skipped_checks + nskip))
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
		echo "# SKIP $name: $(tail -n 1 "$log")"
		return
	fi
	if [ "$rc" != 0 ] && [ "$nok" = 0 ]; then
		nok=1
		echo "not ok - $name exited with status $rc"
	fi
	grep -E '^(not ok|# )' "$log" | sed "s|^|  [$name] |" | head -n 40
	passed=$((passed + ok))
	failed=$((failed + nok))
	[ "$nok" != 0 ] && failures+=("$name (log: $log)")
	echo "# $name: $ok passed, $nok failed$([ "$nskip" != 0 ] && echo ", $nskip skipped") ($((SECONDS - start)) s)"
}

# The network rule, enforced: every end-to-end test runs in a network
# namespace of its own with only loopback, so nothing it starts can reach
# another address. The MTA tests and deb.sh build their Debian roots from the mirror
# first (tests/lib/troot.sh), so they isolate themselves instead: their
# bodies run in a root with its own network namespace.
isolated() {
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		unshare -n bash -c 'ip link set lo up && exec "$@"' isolated "$@"
	else
		"$@"
	fi
}

# The MTA tests' roots (a few minutes the first time) are built while the
# other tests run; the tests wait for them (flock).
selected() {  # NAME: chosen by PATTERN and not in SKIP_TESTS
	local s
	[ -n "$pattern" ] && [[ $1 != *"$pattern"* ]] && return 1
	for s in $skip; do [[ $1 == *"$s"* ]] && return 1; done
	return 0
}
roots_pid=
# Runs in an MTA root (mta_in_root, or the lab's signer scenarios): an
# isolated test (no network) cannot build one, so it waits for the build.
in_mta_root() { grep -q 'mta_in_root\|troot_ensure mta-' "$1"; }
if [ "$(id -u)" = 0 ]; then
	# every test that runs in an MTA root (mta_in_root, or the lab's
	# signer scenarios): the isolated ones (no network) cannot build one
	for t in tests/e2e/*.sh; do
		selected "$(basename "$t" .sh)" || continue
		in_mta_root "$t" || continue
		bash -c '. tests/lib/lib.sh; . tests/lib/mta.sh; mta_prepare_roots' >"$logdir/roots.log" 2>&1 &
		roots_pid=$!
		break
	done
fi

export CMOCKA_MESSAGE_OUTPUT=TAP
for t in build/tests/test_* build/asan/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(echo "$t" | sed 's|build/||; s|tests/||; s|/|-|g')
	[ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && continue
	run_one "$name" "$t"
done
for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" || continue
	if [ -n "$roots_pid" ] && in_mta_root "$t"; then
		wait "$roots_pid"
		[ -s "$logdir/roots.log" ] && sed 's/^# //; s/^/# roots: /' "$logdir/roots.log"
		roots_pid=
	fi
	case $name in
	mta_* | deb) run_one "$name" bash "$t" ;;
	*) run_one "$name" isolated bash "$t" ;;
	esac
done

[ -n "$roots_pid" ] && wait "$roots_pid"
[ -s "$logdir/roots.log" ] && sed 's/^# //; s/^/# roots: /' "$logdir/roots.log"

# The host as the suite found it: same packages, same /etc, same daemons, and
# nothing the tests started still running.
if [ "$(id -u)" = 0 ]; then
	host_snapshot "$snapdir/after"
	left=$(host_leftovers "DKIM_TEST_RUN=$DKIM_TEST_RUN")
	if diff=$(host_compare "$snapdir/before" "$snapdir/after") && [ -z "$left" ]; then
		echo "ok - host_snapshot: packages, /etc and daemons as before; nothing left running"
		passed=$((passed + 1))
	else
		{
			echo "not ok - host_snapshot: the tests changed the host"
			[ -n "$diff" ] && printf '%s\n' "$diff" | head -n 60 | sed 's/^/#   /'
			[ -n "$left" ] && printf '%s\n' "$left" | head -n 20 | sed 's/^/#   /'
		} | tee "$logdir/host_snapshot.log"
		failed=$((failed + 1))
		failures+=("host_snapshot (log: $logdir/host_snapshot.log)")
	fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
	# The end of each failed test's log, so a CI transcript that keeps only
	# its last lines still says what went wrong.
	for f in "${failures[@]}"; do
		echo
		echo "--- last lines of ${f%% *} ---"
		tail -n 25 "$logdir/${f%% *}.log" | cut -c 1-300
	done
	echo
	printf 'Failed: %s\n' "${failures[@]%% *}"
fi
[ "$skipped" != 0 ] && echo "($skipped test files skipped)"
if [ "$skipped_checks" != 0 ]; then
	echo "$passed passed, $failed failed, $skipped_checks skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
