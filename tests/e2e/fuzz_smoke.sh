#!/bin/bash
# fuzz_smoke: build the libFuzzer harnesses (clang, ASan+UBSan), replay every
# checked-in seed (crash inputs found earlier are kept there as regression
# tests), then fuzz each harness briefly (FUZZ_SMOKE_SECONDS, default 10)
# with a fixed seed (FUZZ_SEED, default 1), so a finding is reproducible.
# The long runs are `make fuzz` (FUZZ_SECONDS, default 60).
. "$TOP/tests/lib/lib.sh"
command -v clang >/dev/null || skip_all "clang not installed (tests/install-deps.sh)"
cd "$TOP" || exit 1
secs=${FUZZ_SMOKE_SECONDS:-10}

if make -s -f tests/fuzz/fuzz.mk build >build/fuzz-build.log 2>&1; then
	ok "fuzz harnesses build with clang -fsanitize=fuzzer,address,undefined"
else
	not_ok "fuzz harnesses build (see build/fuzz-build.log)"
	tail -n 20 build/fuzz-build.log | sed 's/^/# /'
	exit 1
fi
n=0
for h in build/fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	name=${h##*/fuzz_}
	n=$((n + 1))
	seeds=$(find "tests/fuzz/corpus/$name" -type f 2>/dev/null | wc -l)
	check "fuzz_$name has a checked-in seed corpus ($seeds seeds)" test "$seeds" -gt 0
	out=$(tests/fuzz/run.sh replay "$name")
	check "fuzz_$name: every seed replays clean ($out)" test $? = 0 -a -n "$out"
	# A scratch corpus, so `make fuzz`'s build/fuzz/corpus is not touched.
	# A fixed seed: what this gate finds, anyone can reproduce with the same
	# seed (the random exploration is `make fuzz`'s job).
	out=$(FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_CORPUS_DIR=$(t_tmpdir) tests/fuzz/run.sh fuzz "$secs" "$name")
	rc=$?
	diag "$out"
	check "fuzz_$name: $secs s of fuzzing, no crash, leak or UB" test "$rc" = 0
done
check "at least 3 harnesses ($n)" test "$n" -ge 3
