#!/bin/sh
# Install the Debian packages that building and testing dkim-setup need.
# Idempotent: does nothing when everything is there already.
set -eu

PKGS="gcc make pkg-config libncurses-dev libssl-dev libldns-dev ldnsutils libcmocka-dev libidn2-dev
      knot knot-dnsutils python3 python3-dkim python3-dnspython tmux mandoc iproute2
      util-linux procps time hyperfine valgrind clang libclang-rt-14-dev strace
      opendkim python3-nacl mmdebstrap openssl bc"
# The MTA tests (tests/e2e/mta_*.sh) run in throwaway Debian roots that
# mmdebstrap makes (tests/lib/troot.sh): the host gets no mail server.

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root (sudo make deps) to install them" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
