#!/bin/bash
# make bench: run every benchmark under tests/bench/ (speed and memory are
# measured here, side by side in one run, never in the tests).
set -u
cd "$(dirname "$0")/../.."
export TOP=$PWD
export DKIM_SETUP=${DKIM_SETUP:-$TOP/build/dkim-setup}
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "=== $(basename "$b" .sh)"
	bash "$b" || rc=1
done
exit $rc
