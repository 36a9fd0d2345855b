#!/bin/bash
# Run every benchmark tests/bench/*.sh (except this file) against the
# optimised build; each prints its own figures. `make bench` runs this.
set -u
cd "$(dirname "$0")/../.."
export TOP=$PWD
export DKIM_SETUP=${DKIM_SETUP:-$TOP/build/dkim-setup}
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "=== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b") failed (status $?)"; rc=1; }
	echo
done
exit $rc
