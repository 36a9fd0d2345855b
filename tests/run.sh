#!/bin/bash
# Run every test: C unit tests (plain and ASan/UBSan builds), then the
# end-to-end scripts tests/e2e/*.sh against the sanitizer build.
# Output is TAP-like; the last line is "N passed, N failed".
# Usage: tests/run.sh [PATTERN]   (only tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
top=$PWD
pattern=${1:-}
skip=${SKIP_TESTS:-}   # space-separated name parts to leave out
passed=0 failed=0 skipped=0
failures=()
export DKIM_SETUP=${DKIM_SETUP:-$top/build/asan/dkim-setup}
export DKIM_SETUP_PLAIN=$top/build/dkim-setup
export TOP=$top
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
logdir=$top/build/test-logs
mkdir -p "$logdir"

# count the "ok"/"not ok" lines of one test's output; a test that exits
# non-zero (not 77 = skipped) without a "not ok" line still counts a failure.
run_one() {
	local name=$1; shift
	local log=$logdir/$name.log
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local ok nok
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
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
	echo "# $name: $ok passed, $nok failed ($((SECONDS - start)) s)"
}

# The network rule, enforced: every end-to-end test runs in a network
# namespace of its own with only loopback, so nothing it starts can reach
# another address. The MTA tests swap Debian packages with apt first, so they
# isolate their own mail traffic (unshare -n) instead.
isolated() {
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		unshare -n bash -c 'ip link set lo up && exec "$@"' isolated "$@"
	else
		"$@"
	fi
}

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
	[ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && continue
	skipit=
	for s in $skip; do [[ $name == *"$s"* ]] && skipit=1; done
	[ -n "$skipit" ] && continue
	case $name in
	mta_*) run_one "$name" bash "$t" ;;
	*) run_one "$name" isolated bash "$t" ;;
	esac
done

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
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
