#!/bin/bash
# attack_swap: a user swaps the --root sandbox (or a directory above it) for
# a symlink to another tree while dkim-setup works in it (issue 17).
#
# The attacker is tests/lib/swapper.py run as nobody: it waits with inotify
# for the moment (the sandbox opened, the macros file renamed into place,
# the key copy removed by a rollback), renames the sandbox away and links
# it to a target tree. Nothing outside the sandbox may change: the target
# tree is compared entry by entry (type, mode, owner, size, sha256).
#
# A. As root, with the sandbox below a directory nobody owns (the manual's
#    /tmp/u/sb): refused before anything is opened, with the reason and
#    what to do; the attacker never gets its moment.
# B. As the owner (nobody) of the sandbox and of the target, through the
#    test build (build/tests/dkim-setup-hook) that pauses at the named
#    moment until the attacker has swapped: the run goes on in the tree it
#    opened, because the root is held as a descriptor.
. "$TOP/tests/lib/lib.sh"
need_root
command -v setpriv >/dev/null || skip_all "setpriv missing"
HOOK=${DKIM_SETUP_HOOK:-$TOP/build/tests/dkim-setup-hook}
SWAP=$TOP/tests/lib/swapper.py
T=$(t_tmpdir)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody test -x "$DKIM_SETUP" || skip_all "nobody cannot run $DKIM_SETUP"

# every entry of a tree: path, type, mode, owner, size, and file checksums
snap() {
	(cd "$1" && find . -printf '%p %y %m %u:%g %s\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}

# A Debian Exim's files (one-file layout), as make demo has them.
exim_tree() {
	mkdir -p "$1/etc/exim4" "$1/usr/sbin" "$1/etc/ssl"
	echo example.com >"$1/etc/mailname"
	cat >"$1/etc/exim4/update-exim4.conf.conf" <<'X'
dc_eximconfig_configtype='internet'
dc_other_hostnames='example.com'
dc_local_interfaces='127.0.0.1 ; ::1'
dc_smarthost=''
dc_use_split_config='false'
X
	printf '#!/bin/sh\nexit 1\n' >"$1/usr/sbin/exim4"
	chmod 0755 "$1/usr/sbin/exim4"
}

# The tree the attacker points the sandbox at: an admin's Exim with its own
# macros file and key directory.
target_tree() {
	exim_tree "$1"
	mkdir -p "$1/etc/exim4/dkim" "$1/etc/ssl/private"
	chmod 0750 "$1/etc/exim4/dkim"
	chmod 0710 "$1/etc/ssl/private"
	echo "# the admin's own macros" >"$1/etc/exim4/exim4.conf.localmacros"
}

start_swapper() {   # watch_dir event name sandbox target [fifo]
	# (not through the as_nobody function: $! must be the attacker itself)
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$SWAP" "$@" \
		>"$T/swapper.out" 2>&1 &
	SWAPPER=$!
	at_exit "kill $SWAPPER 2>/dev/null || true"
	for _ in $(seq 1 100); do grep -q watching "$T/swapper.out" 2>/dev/null && break; sleep 0.05; done
}
stop_swapper() {
	kill "$SWAPPER" 2>/dev/null || true
	wait "$SWAPPER" 2>/dev/null || true
}

# ---- A: root, sandbox below a directory another user owns ----
A=$T/a
mkdir -p "$A/u"
target_tree "$A/target"
chown nobody:nogroup "$A/u"
as_nobody mkdir "$A/u/sb"
as_nobody mkdir -p "$A/u/sb/etc"
before=$(snap "$A/target")
start_swapper "$A/u/sb" open - "$A/u/sb" "$A/target"
"$DKIM_SETUP" --batch --root "$A/u/sb" -b 4096 -d example.com -s s1 -m exim >"$T/out" 2>"$T/err" </dev/null
rc=$?
sleep 0.3
stop_swapper
check_eq "A: root, --root below a directory nobody owns: exit 2" 2 "$rc"
check_match "  ... one line: who owns what, and what to do instead" \
	'^dkim-setup: refusing --root .*/a/u/sb as root: .*/a/u belongs to user nobody .*run dkim-setup as that user' \
	"$(cat "$T/err")"
check_eq "  ... the target tree is untouched" "$before" "$(snap "$A/target")"
check "  ... the attacker never got its moment: the sandbox was not even opened" \
	eval '! grep -q swapped "$T/swapper.out"'
check "  ... nothing was written in the sandbox" test -z "$(find "$A/u/sb" -mindepth 1 -not -name etc 2>&1)"

# The same as root, with a parent writable by its group (not root's).
mkdir -p "$A/g/sb"
chgrp nogroup "$A/g"
chmod 0775 "$A/g"
"$DKIM_SETUP" --batch --root "$A/g/sb" -d example.com -s s1 >"$T/out" 2>"$T/err" </dev/null
rc=$?
check_eq "A: root, --root below a group-writable directory: exit 2" 2 "$rc"
check_match "  ... saying so" 'a/g is writable by its group' "$(cat "$T/err")"
check "  ... nothing written" test -z "$(find "$A/g/sb" -mindepth 1)"

# ---- B: the owner's own run, swapped at each stage ----
[ -x "$HOOK" ] || { not_ok "the test build $HOOK exists (make unit)"; exit 1; }
stage() {   # name pause-list watch-subdir event entry [harness-action]
	local name=$1 pause=$2 sub=$3 event=$4 entry=$5 action=${6:-}
	local B=$T/b-$name
	mkdir -p "$B"
	chown nobody:nogroup "$B"
	as_nobody bash -c "$(declare -f exim_tree target_tree); exim_tree '$B/sb'; target_tree '$B/target'"
	as_nobody mkdir -p "$B/sb/etc/exim4/dkim"
	as_nobody chmod 0700 "$B/sb/etc/exim4/dkim"
	mkfifo -m 0666 "$B/go"
	: >"$B/hook.log"
	chmod 0666 "$B/hook.log"
	local before
	before=$(snap "$B/target")
	start_swapper "$B/sb$sub" "$event" "$entry" "$B/sb" "$B/target" "$B/go"
	if [ -n "$action" ]; then
		# the harness's own part at the first pause, then the attacker's
		(
			for _ in $(seq 1 400); do grep -q '^paused' "$B/hook.log" && break; sleep 0.05; done
			eval "$action"
			echo x >"$B/go"
		) &
		local helper=$!
	fi
	as_nobody env DKIM_SETUP_TEST_PAUSE="$pause" DKIM_SETUP_TEST_FIFO="$B/go" \
		DKIM_SETUP_TEST_LOG="$B/hook.log" \
		"$HOOK" --batch --root "$B/sb" -d example.com -s s1 -m exim >"$B/out" 2>&1 </dev/null
	B_RC=$?
	[ -n "$action" ] && wait "$helper"
	sleep 0.2
	stop_swapper
	check_contains "B/$name: the attacker swapped the sandbox" "swapped" "$(cat "$T/swapper.out")"
	check_eq "B/$name: the target tree is untouched" "$before" "$(snap "$B/target")"
	B_DIR=$B
}

stage root-opened "root-opened:$T/b-root-opened/sb" "" open -
check_eq "  ... the run finished (exit $B_RC) in the tree it opened" 0 "$B_RC"
check "  ... whose key is there" test -f "$B_DIR/sb.old/etc/ssl/private/example.com-s1-private.pem"

stage macros-renamed "renamed:/etc/exim4/exim4.conf.localmacros" /etc/exim4 moved_to exim4.conf.localmacros
check_eq "  ... the run finished (exit $B_RC), its key check looked at its own copy" 0 "$B_RC"
check "  ... the admin's macros file in the target is still there" \
	grep -q "the admin's own macros" "$B_DIR/target/etc/exim4/exim4.conf.localmacros"
check "  ... our block is in the sandbox it opened" \
	grep -q '^# BEGIN dkim-setup' "$B_DIR/sb.old/etc/exim4/exim4.conf.localmacros"

# The harness makes the key check fail (the copy readable by all) so that
# the run rolls back; the attacker swaps when the rollback removes the copy,
# before the key directory gets its old mode back.
copy=/etc/exim4/dkim/example.com-s1-private.pem
stage rollback "renamed:$copy,mkdir:/etc/exim4/dkim@2" /etc/exim4/dkim delete example.com-s1-private.pem \
	"chmod 0644 '$T/b-rollback/sb$copy'"
check_eq "  ... the run failed its key check and rolled back (exit 3)" 3 "$B_RC"
check_eq "  ... the sandbox it opened got its key directory's mode back" 700 \
	"$(stat -c %a "$B_DIR/sb.old/etc/exim4/dkim" 2>/dev/null)"
check "  ... and its macros file is gone again (it was new)" test ! -e "$B_DIR/sb.old/etc/exim4/exim4.conf.localmacros"
diag "rollback run: $(grep -m1 'dkim-setup:' "$B_DIR/out")"
