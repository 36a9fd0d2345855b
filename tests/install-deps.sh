#!/bin/sh
# Install the Debian packages that building, testing and packaging dkim-setup
# need. Idempotent: does nothing when everything is there already.
# Works on Debian 12 (bookworm) and later: the one versioned name, clang's
# runtime (ASan/UBSan/libFuzzer for `make fuzz`), is derived from the clang
# that is installed.
set -eu

PKGS="gcc make pkg-config libncurses-dev libssl-dev libldns-dev ldnsutils libcmocka-dev libidn2-dev
      knot knot-dnsutils python3 python3-dkim python3-dnspython tmux mandoc iproute2
      util-linux procps time hyperfine valgrind clang strace
      opendkim libopendkim-dev python3-nacl openssl bc
      mmdebstrap debhelper lintian bash-completion"
# The MTA tests (tests/e2e/mta_*.sh) and the package test (tests/e2e/deb.sh)
# run in throwaway Debian roots (tests/lib/troot.sh, made with mmdebstrap):
# exim4, postfix and our own .deb never touch the host.

missing_of() {
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			printf ' %s' "$p"
		fi
	done
}

updated=
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing Debian packages:$*" >&2
		echo "install-deps: run as root (sudo make deps) to install them" >&2
		exit 1
	fi
	echo "install-deps: installing$*"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$updated" ]; then
		apt-get update -q
		updated=1
	fi
	# No daemon of these packages may start on this host: the tests start
	# their own Knot (and signers in throwaway roots) on private ports. A
	# policy-rc.d refuses starts for the install when the host has none, and
	# the units of daemons this script installs are disabled afterwards (a
	# daemon the admin had installed before is never touched).
	own_rc=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# dkim-setup install-deps: no daemon starts during the install\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_rc=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM HUP
	fi
	# shellcheck disable=SC2068
	apt-get install -y -q --no-install-recommends $@
	if [ -n "$own_rc" ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT INT TERM HUP
	fi
	for unit in knot opendkim; do
		case " $* " in *" $unit "*) ;; *) continue ;; esac
		command -v systemctl >/dev/null 2>&1 || continue
		systemctl disable "$unit.service" >/dev/null 2>&1 || true
		echo "install-deps: $unit is only for the tests: its service stays disabled on this host"
	done
}

# shellcheck disable=SC2086
missing=$(missing_of $PKGS)
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing

# clang's runtime package is named after its major version, which the
# resource directory shows: /usr/lib/llvm-14/lib/clang/14.0.6 on bookworm,
# /usr/lib/llvm-19/lib/clang/19 on trixie.
major=$(clang -print-resource-dir 2>/dev/null | sed -n 's|.*/llvm-\([0-9][0-9]*\)/.*|\1|p')
[ -n "$major" ] || major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
case $major in
'' | *[!0-9]*)
	echo "install-deps: cannot tell clang's version ($(command -v clang || echo 'no clang'))" >&2
	exit 1
	;;
esac
missing=$(missing_of "libclang-rt-$major-dev")
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing
exit 0
