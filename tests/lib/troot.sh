# tests/lib/troot.sh: throwaway Debian roots for tests that need packages
# the host must not get (an MTA, our own .deb, ...). Needs lib.sh; root.
#
#  troot_ensure NAME "PKG ..."  a cached root with PKG... plus what every test
#                               body needs (TROOT_BASE_PKGS), built once with
#                               mmdebstrap into build/roots/NAME.tar and rebuilt
#                               when its package list, suite or TROOT_STAMP
#                               changes. Safe to call from several tests at
#                               once (flock). Sets TROOT_TAR.
#  troot_new NAME               a private copy of that root for this test,
#                               removed at exit. Sets TROOT.
#  troot_run CMD...             CMD inside TROOT: chroot in new mount, network
#                               (only lo, up), pid, IPC and UTS namespaces; the
#                               project tree $TOP bind-mounted read-only at the
#                               same path; a minimal /dev (null, zero, full,
#                               random, urandom, tty, a private devpts). Every
#                               process started inside dies with CMD.
#
# Knobs (set before the call): TROOT_HOOKS (array of extra mmdebstrap
# options, e.g. --customize-hook=..., part of the cache key), TROOT_VARIANT
# (mmdebstrap --variant, default apt), TROOT_BASE_PKGS; for troot_run,
# TROOT_SHARE_NET=1 keeps the host's network (tests/fresh.sh needs the mirror)
# and TROOT_BIND= binds nothing instead of $TOP.
#
# The host is never changed: mmdebstrap runs in a mount namespace of its own
# and starts no daemon while packages install (its own policy-rc.d, removed
# afterwards); inside troot_run there is no init, so invoke-rc.d starts
# nothing either; the copies live under the test's temporary directory.
# Apt sources are the host's Debian ones (apt-get indextargets), so a local
# mirror or proxy the host uses serves the roots too; TROOT_MIRROR overrides.

TROOT_DIR=${TROOT_DIR:-$TOP/build/roots}
TROOT_SUITE=${TROOT_SUITE:-bookworm}
TROOT_VARIANT=${TROOT_VARIANT:-apt}
# Bump to rebuild every cached root (a change to how roots are made).
TROOT_STAMP=1
# What the test bodies use inside: the verifier (dkimpy with Ed25519 through
# nacl), the DNS server, the terminal driver, the tools the scripts call, and
# the run-time libraries of build/asan/dkim-setup (`ldd` it).
TROOT_BASE_PKGS="python3 python3-dkim python3-dnspython python3-nacl knot knot-dnsutils
	iproute2 procps tmux openssl mawk
	libldns3 libssl3 libncursesw6 libtinfo6 libasan8 libubsan1 libstdc++6 libgcc-s1 libopendkim11"

TROOT=${TROOT:-}
TROOT_TAR=${TROOT_TAR:-}

# sources.list lines for the suite, from the host's apt configuration.
_troot_sources() {
	if [ -n "${TROOT_MIRROR:-}" ]; then
		printf 'deb %s %s main\n' "$TROOT_MIRROR" "$TROOT_SUITE" "$TROOT_MIRROR" "$TROOT_SUITE-updates"
		return
	fi
	local lines
	lines=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' 2>/dev/null |
		awk -v s="$TROOT_SUITE" '$2 == s || $2 == s "-updates" || $2 == s "-security" { print "deb " $1 " " $2 " " $3 }' |
		sort -u)
	if [ -n "$lines" ]; then
		echo "$lines"
	else
		printf 'deb http://deb.debian.org/debian %s main\n' "$TROOT_SUITE" "$TROOT_SUITE-updates"
		printf 'deb http://deb.debian.org/debian-security %s-security main\n' "$TROOT_SUITE"
	fi
}

troot_ensure() {
	local name=$1 pkgs want fd start rc
	command -v mmdebstrap >/dev/null || { diag "troot: mmdebstrap is not installed"; return 1; }
	pkgs=$(echo "$TROOT_BASE_PKGS $2" | tr -s ' \t\n' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
	local tar=$TROOT_DIR/$name.tar
	want="stamp=$TROOT_STAMP suite=$TROOT_SUITE variant=$TROOT_VARIANT hooks=${TROOT_HOOKS[*]-} pkgs=${pkgs% }"
	mkdir -p "$TROOT_DIR"
	exec {fd}>"$TROOT_DIR/$name.lock"
	if ! flock -w 1800 "$fd"; then
		exec {fd}>&-
		diag "troot: $name: another run held the lock for 30 minutes"
		return 1
	fi
	if [ -f "$tar" ] && [ "$(cat "$tar.stamp" 2>/dev/null)" = "$want" ]; then
		exec {fd}>&-
		TROOT_TAR=$tar
		return 0
	fi
	rm -f "$tar" "$tar.stamp"
	start=$SECONDS
	# In a mount namespace of its own: whatever mmdebstrap mounts inside the
	# root while it works goes away with it, even if it is killed.
	_troot_sources >"$TROOT_DIR/$name.sources"
	TMPDIR=${TROOT_TMPDIR:-$TROOT_DIR} unshare -m --propagation private \
		mmdebstrap --variant="$TROOT_VARIANT" --mode=root --format=tar \
		--include="$(echo "$pkgs" | tr ' ' ',' | sed 's/,$//')" \
		${TROOT_HOOKS[@]+"${TROOT_HOOKS[@]}"} \
		"$TROOT_SUITE" "$tar.tmp" - <"$TROOT_DIR/$name.sources" >"$TROOT_DIR/$name.log" 2>&1
	rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$tar.tmp" ]; then
		rm -f "$tar.tmp"
		exec {fd}>&-
		diag "troot: building $name failed (mmdebstrap status $rc): $(tail -n 5 "$TROOT_DIR/$name.log" | tr '\n' '|')"
		return 1
	fi
	mv "$tar.tmp" "$tar"
	echo "$want" >"$tar.stamp"
	exec {fd}>&-
	diag "troot: built $name in $((SECONDS - start)) s, $(($(stat -c %s "$tar") / 1048576)) MB: ${pkgs% }"
	TROOT_TAR=$tar
}

# A private copy of the cached root NAME (troot_ensure it first).
troot_new() {
	local name=$1 start=$SECONDS
	local tar=$TROOT_DIR/$name.tar
	[ -f "$tar" ] || { diag "troot: no root $name (troot_ensure first)"; return 1; }
	TROOT=$(t_tmpdir)/root
	mkdir "$TROOT"
	# numeric owners: the root's users (Debian-exim, opendkim, ...) need not
	# exist on the host, and the host's uids need not match the root's.
	tar -C "$TROOT" --numeric-owner -xpf "$tar" || { diag "troot: extracting $tar failed"; return 1; }
	# Removed at exit; nothing is mounted there outside troot_run's namespace,
	# and --one-file-system keeps rm from crossing into anything that is.
	at_exit "rm -rf --one-file-system '$TROOT'"
	TROOT_EXTRACT_SECS=$((SECONDS - start))
}

troot_run() {
	[ -n "$TROOT" ] && [ -d "$TROOT/etc" ] || { diag "troot: no TROOT (troot_new first)"; return 1; }
	local net=-n
	[ "${TROOT_SHARE_NET:-0}" = 1 ] && net=
	unshare -m $net -p -i -u -f --propagation private bash -c '
		set -e
		R=$1 top=$2 net=$3; shift 3
		# the root a mount point of its own, so that `unshare --propagation`
		# and mmdebstrap work inside it too; /proc of the new pid namespace
		mount --bind "$R" "$R"
		mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
		# a minimal /dev: the character devices programs expect, a private devpts
		mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$R/dev"
		for d in null zero full random urandom tty; do
			touch "$R/dev/$d"
			mount --bind "/dev/$d" "$R/dev/$d"
		done
		mkdir "$R/dev/pts" "$R/dev/shm"
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
		ln -s pts/ptmx "$R/dev/ptmx"
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
		ln -s /proc/self/fd "$R/dev/fd"
		ln -s /proc/self/fd/0 "$R/dev/stdin"
		ln -s /proc/self/fd/1 "$R/dev/stdout"
		ln -s /proc/self/fd/2 "$R/dev/stderr"
		mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$R/run"
		mkdir -p "$R/run/lock" && chmod 1777 "$R/run/lock"
		# the project at the same path, read-only: the test scripts, the builds
		if [ -n "$top" ]; then
			mkdir -p "$R$top"
			mount --bind "$top" "$R$top"
			mount -o remount,bind,ro "$R$top"
		fi
		if [ "$net" = -n ]; then
			ip link set lo up
		else
			# TROOT_SHARE_NET (tests/fresh.sh only): apt inside the fresh
			# root reaches the Debian mirrors by name through its own
			# /etc/hosts (their names resolved here, on the host); no
			# resolver is configured there, so nothing inside can fall
			# back to one. The tests there isolate themselves again
			# (unshare -n, only lo).
			rm -f "$R/etc/resolv.conf"
			for h in $(grep -rhoE "https?://[A-Za-z0-9.-]+" "$R/etc/apt/sources.list" \
					"$R/etc/apt/sources.list.d" 2>/dev/null | sed "s|.*://||" | sort -u); do
				getent ahostsv4 "$h" | awk -v h="$h" "NR == 1 { print \$1, h }"
			done >>"$R/etc/hosts"
		fi
		hostname troot
		exec chroot "$R" /usr/bin/env TMPDIR=/tmp HOME=/root "$@"
		' troot "$TROOT" "${TROOT_BIND-$TOP}" "$net" "$@"
}
