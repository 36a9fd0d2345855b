#!/bin/bash
# tests/fuzz/run.sh: run the libFuzzer harnesses built by tests/fuzz/fuzz.mk.
#   tests/fuzz/run.sh fuzz SECONDS [PATTERN]    fuzz each harness for SECONDS
#   tests/fuzz/run.sh replay [PATTERN]          run each checked-in seed once
# Prints one summary line per harness:
#   fuzz_<name>: <execs> execs in <s> s, cov <edges>, ft <features>, corpus <n>
# FUZZ_SEED=N fixes the random seed (reproducible runs; default: random).
# FUZZ_CORPUS_DIR (default build/fuzz/corpus) receives what the fuzzer finds,
# and exits non-zero when a harness crashed, leaked or hit UB (the log and the
# crashing input are kept under build/fuzz/).
set -u
cd "$(dirname "$0")/../.."
mode=${1:-fuzz}
if [ "$mode" = fuzz ]; then secs=${2:-60}; pattern=${3:-}; else pattern=${2:-}; fi
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p build/fuzz/artifacts build/fuzz/logs build/fuzz/tmp
# Harnesses that need files make them here (a crash leaves them in build/).
export TMPDIR=$PWD/build/fuzz/tmp
failed=0
for h in build/fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	n=${h##*/fuzz_}
	[ -n "$pattern" ] && [[ $n != *"$pattern"* ]] && continue
	seeds=tests/fuzz/corpus/$n
	work=${FUZZ_CORPUS_DIR:-build/fuzz/corpus}/$n
	mkdir -p "$seeds" "$work"
	log=build/fuzz/logs/$n.$mode.log
	opts=()   # per-harness libFuzzer options
	[ -f "tests/fuzz/$n.dict" ] && opts=(-dict="tests/fuzz/$n.dict")
	# FUZZ_SEED fixes libFuzzer's random seed: the same mutations in the
	# same order, so a finding is reproducible (make check sets it).
	[ -n "${FUZZ_SEED:-}" ] && opts+=(-seed="$FUZZ_SEED")
	if [ "$mode" = fuzz ]; then
		# The first directory receives new inputs; the seeds stay as checked in.
		"$h" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="build/fuzz/artifacts/$n-" \
			"$work" "$seeds" >"$log" 2>&1
	else
		# Every seed once, as a regression test (crash inputs are kept as seeds).
		"$h" -runs=0 -print_final_stats=1 -timeout=10 \
			-artifact_prefix="build/fuzz/artifacts/$n-" "$seeds" >"$log" 2>&1
	fi
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	secs_done=$(sed -n 's/^stat::[a-z_]*time[a-z_]*: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	echo "fuzz_$n: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} ($mode, rc $rc, log $log)"
	if [ "$rc" != 0 ]; then
		failed=1
		# What went wrong, the first frames, and the input itself (hex), so
		# a CI transcript alone is enough to reproduce it.
		grep -m 1 -A 14 -E '^(==[0-9]+==ERROR|.*runtime error|.*ERROR: libFuzzer)' "$log" |
			grep -vE '^ *$' | cut -c 1-200
		grep -E '^(SUMMARY|Test unit written)' "$log" | head -n 3
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		if [ -n "$art" ] && [ -f "$art" ]; then
			echo "input ($(stat -c %s "$art") bytes, hex, first 512):"
			head -c 512 "$art" | od -An -tx1 -v | tr -d ' \n' | fold -w 128
			echo
		fi
	fi
done
exit $failed
