#!/bin/bash
# tests/fresh.sh: the README's commands on a fresh Debian 12 machine, as
# root, in a clean clone of the committed HEAD; prints what they did.
#
# The "machine" is a root made with mmdebstrap --variant=important (what a
# Debian 12 server install has, no desktop, no build tools) plus git and make
# to clone and type the README's commands; FRESH_VARIANT=exim or postfix
# preinstalls that mail server as an admin's machine would have it. It shares
# the host's network only for the Debian mirror (apt); its tests isolate
# themselves as everywhere (unshare -n), and everything started inside dies
# with its pid namespace. The root is removed afterwards (FRESH_KEEP=1
# keeps it under build/fresh/). The root's apt sources are the host's.
#
# Inside: `make check` (installs the build and test dependencies with apt,
# builds, runs every test, including e2e/demo, which drives `make demo`'s
# script in tmux), then `make demo`'s own non-interactive part (`make deps
# all`: nothing left to install or build).
#   Usage: [FRESH_VARIANT=none|exim|postfix] tests/fresh.sh    (make fresh)
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
export TOP
. tests/lib/lib.sh
. tests/lib/troot.sh
need_root

variant=${FRESH_VARIANT:-none}
case $variant in
none) extra= ;;
exim) extra=exim4-daemon-light ;;
postfix) extra=postfix ;;
*) echo "fresh: FRESH_VARIANT is none, exim or postfix" >&2; exit 2 ;;
esac
commit=$(git rev-parse --short HEAD) || exit 2
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	echo "fresh: note: uncommitted changes are not tested (the clone is of HEAD $commit)"

# The one host tool this needs beyond git: mmdebstrap (a fresh host lacks it).
if ! command -v mmdebstrap >/dev/null; then
	echo "fresh: installing mmdebstrap on this host (apt)"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null ||
		{ echo "fresh: could not install mmdebstrap" >&2; exit 1; }
fi

log=${FRESH_LOG:-$TOP/build/fresh-$variant.log}
mkdir -p build
start=$SECONDS
echo "fresh: a Debian 12 root (variant important + git make${extra:+ + $extra}), cached in build/roots/"
TROOT_VARIANT=important TROOT_BASE_PKGS="git make" troot_ensure "fresh-$variant" "$extra" ||
	{ echo "fresh: building the root failed (build/roots/fresh-$variant.log)"; exit 1; }
echo "fresh: root ready ($((SECONDS - start)) s, $(($(stat -c %s "$TROOT_TAR") / 1048576)) MB)"
troot_new "fresh-$variant" || exit 1
echo "fresh: extracted in $TROOT_EXTRACT_SECS s"
if [ "${FRESH_KEEP:-0}" = 1 ]; then
	keep=$TOP/build/fresh/$variant
	rm -rf --one-file-system "$keep" && mkdir -p "$(dirname "$keep")" && mv "$TROOT" "$keep" && TROOT=$keep
fi
git bundle create -q "$TROOT/root/src.bundle" HEAD || exit 1

# The README: "On a fresh Debian 12 machine, as root, in a clone of this
# repository: make demo; make check". A login shell, no terminal, no input.
cat >"$TROOT/root/fresh-run.sh" <<'EOF'
set -u
cd /root
git clone -q src.bundle dkim-setup || exit 2
cd dkim-setup
echo "fresh: testing $(git log -1 --format='%h %s')"
s=$SECONDS
make check </dev/null
rc=$?
echo "fresh: make check: exit $rc, $((SECONDS - s)) s"
s=$SECONDS
make deps all </dev/null >/dev/null
drc=$?
echo "fresh: make demo's non-interactive part (make deps all): exit $drc, $((SECONDS - s)) s"
[ "$rc" = 0 ] && [ "$drc" = 0 ]
EOF
run_start=$SECONDS
TROOT_SHARE_NET=1 TROOT_BIND= troot_run /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TERM=dumb bash /root/fresh-run.sh >"$log" 2>&1
rc=$?
wall=$((SECONDS - run_start))
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
grep -E '^fresh: |^Failed: |^# SKIP ' "$log"
echo "fresh: variant $variant, commit $commit: ${summary:-no test summary} (exit $rc); make check and demo part in $wall s; whole run $((SECONDS - start)) s"
echo "fresh: log: $log"
[ "$rc" = 0 ]
