#!/bin/bash
# signals_batch: SIGINT, SIGTERM and SIGHUP delivered to --batch
#  (1) exactly inside the write sequence of the private and public key:
#      strace injects the signal on entry to each syscall of fs_write_file
#      (openat of the temp file, fchown, fchmod, write, fsync, the backup's
#      renameat2 into /var/backups/dkim-setup, rename) - the file must still
#      be completed or not begun;
#  (2) at many delays, during RSA-4096 generation and around the writes of
#      fast Ed25519 runs, for a new key and for a --force replacement.
# After every interruption: no .dkim-setup.*.tmp left; every key file present
# is whole (OpenSSL parses it) and 0600; old files are either fully old
# (same bytes) or fully new; a backup holds the old bytes; and a re-run
# leaves no private key without its public half.
. "$TOP/tests/lib/lib.sh"
need_root
# The signals at their default action in the runs: a shell started in the
# background (make check &, nohup) passes SIGINT/SIGHUP on ignored, and
# dkim-setup --batch rightly keeps an inherited "ignore".
DFL=(env --default-signal=INT,TERM,HUP)
T=$(t_tmpdir)
K=etc/ssl/private/example.com-s1-private.pem
P=etc/ssl/certs/example.com-s1-public.pem
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
sum() { md5sum <"$1" | cut -d' ' -f1; }

mk_sandbox() {   # mk_sandbox SB [existing]: with "existing", an Ed25519 key is there
	rm -rf "$1"
	mkdir -p "$1/etc/ssl/private" "$1/etc/ssl/certs"
	chmod 0710 "$1/etc/ssl/private"
	if [ "${2:-}" = existing ]; then
		"$PLAIN" --batch --root "$1" -d example.com -s s1 -a ed25519 >/dev/null 2>&1
		old_k=$(sum "$1/$K"); old_p=$(sum "$1/$P")
	else
		old_k=none; old_p=none
	fi
}

# verify SB WHAT: the invariants after an interruption; one TAP line.
verify() {
	local sb=$1 what=$2 why=""
	[ -z "$(find "$sb" -name '.dkim-setup.*.tmp' -print -quit)" ] || why="$why temp file left;"
	if [ -e "$sb/$K" ]; then
		[ "$(stat -c %a "$sb/$K")" = 600 ] || why="$why key mode $(stat -c %a "$sb/$K");"
		openssl pkey -in "$sb/$K" -noout 2>/dev/null || why="$why private key not whole;"
		[ "$old_k" = none ] || [ "$(sum "$sb/$K")" = "$old_k" ] ||
			[ -n "$(ls "$sb/var/backups/dkim-setup/etc/ssl/private" 2>/dev/null | grep -- -private.pem.2)" ] || why="$why old key replaced without backup;"
	fi
	if [ -e "$sb/$P" ]; then
		openssl pkey -pubin -in "$sb/$P" -noout 2>/dev/null || why="$why public key not whole;"
	fi
	local b
	for b in "$sb"/var/backups/dkim-setup/etc/ssl/private/*-private.pem.2*; do
		[ -e "$b" ] || continue
		[ "$(sum "$b")" = "$old_k" ] || why="$why backup $(basename "$b") is not the old key;"
	done
	# A re-run with what the private key now is completes the pair.
	if [ -e "$sb/$K" ]; then
		local args=(-a ed25519) bits
		bits=$(openssl pkey -in "$sb/$K" -text -noout 2>/dev/null | sed -n 's/^Private-Key: (\([0-9]*\) bit.*/\1/p')
		[ -n "$bits" ] && args=(-a rsa -b "$bits")
		"$DKIM_SETUP" --batch --root "$sb" -d example.com -s s1 "${args[@]}" >/dev/null 2>"$T/rerun.err"
		local rc=$?
		[ "$rc" = 0 ] || why="$why re-run exit $rc ($(head -c 150 "$T/rerun.err"));"
		[ "$(openssl pkey -in "$sb/$K" -pubout 2>/dev/null)" = "$(cat "$sb/$P" 2>/dev/null)" ] ||
			why="$why public half does not match after a re-run;"
	elif [ -e "$sb/$P" ] && [ "$old_p" = none ]; then
		why="$why a public key without its private key;"
	fi
	if [ -z "$why" ]; then ok "$what"; else not_ok "$what:$why"; fi
}

# ---- (1) a signal on entry to each syscall of the write sequence -------------------
if command -v strace >/dev/null; then
	n=0
	SB=$T/inj
	for sig in SIGINT SIGTERM SIGHUP; do
		for kind in new existing; do
			# The calls of fs_write_file for this kind of run: a new file is
			# renamed with RENAME_NOREPLACE, a replaced one is first copied
			# to its backup (renamed into place there), then renamed over.
			if [ "$kind" = new ]; then
				calls="openat fchown fchmod write fsync renameat2"
				args=(-a ed25519)
			else
				calls="openat fchown fchmod write fsync renameat2 renameat"
				args=(--force -a rsa -b 1024)
			fi
			for sc in $calls; do
				# fd-based calls are matched by number (ours are the only
				# ones of their kind before the keys are written);
				# path-based ones by -P.
				filter=()
				case $sc in openat|renameat*) filter=(-P "$SB/etc/ssl/private" -P "$SB/etc/ssl/certs"
						-P "$SB/var/backups/dkim-setup/etc/ssl/private" -P "$SB/var/backups/dkim-setup/etc/ssl/certs") ;; esac
				# #1 is the private key's file, #2 the public key's.
				for when in 1 2; do
					mk_sandbox "$SB" "$kind"
					"${DFL[@]}" strace -f -qq -o /dev/null "${filter[@]}" \
						-e trace="$sc" -e inject="$sc:signal=$sig:when=$when" \
						"$PLAIN" --batch --root "$SB" -d example.com -s s1 "${args[@]}" \
						>/dev/null 2>&1 </dev/null
					rc=$?
					n=$((n + 1))
					# The signal must have ended the run, once the file was done.
					if [ "$rc" -gt 128 ]; then
						verify "$SB" "$sig on entry to $sc #$when ($kind key): killed (exit $rc)"
					else
						not_ok "$sig on entry to $sc #$when ($kind key): not delivered (exit $rc)"
					fi
				done
			done
		done
	done
	diag "$n runs with a signal injected inside the write sequence"
else
	diag "strace missing: injected-signal runs skipped"
fi

# ---- SIGKILL cannot be blocked: what it may leave ------------------------------------
# Killed inside the write sequence, a temp file may stay behind; it must be
# as private as the key (0600 root in /etc/ssl/private), never under the
# final name, and a re-run must still complete the pair.
if command -v strace >/dev/null; then
	SB=$T/kill9
	for sc in fchmod write fsync renameat2; do
		mk_sandbox "$SB" new
		strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=SIGKILL:when=1" \
			"$PLAIN" --batch --root "$SB" -d example.com -s s1 -a ed25519 >/dev/null 2>&1 </dev/null
		left=$(find "$SB/etc/ssl/private" -name '.dkim-setup.*.tmp' -printf '%m %U\n' | sort -u)
		check "SIGKILL on entry to $sc: any temp left is 0600 root (${left:-none}), no key under the final name" \
			eval '{ [ -z "$left" ] || [ "$left" = "600 0" ]; } && [ ! -e "$SB/$K" ]'
		find "$SB" -name '.dkim-setup.*.tmp' -delete
		verify "$SB" "  ... then a re-run completes the pair"
	done
fi

# ---- (2) signals at many delays ----------------------------------------------------
run_killed() {   # run_killed SIG DELAY KIND ARGS...
	local sig=$1 delay=$2 kind=$3; shift 3
	SB=$T/kill
	mk_sandbox "$SB" "$kind"
	"${DFL[@]}" "$DKIM_SETUP" --batch --root "$SB" -d example.com -s s1 "$@" >/dev/null 2>&1 </dev/null &
	local pid=$!
	sleep "$delay"
	kill -s "$sig" "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	verify "$SB" "$sig after ${delay}s, $kind key, $*: exit $rc"
}
RANDOM=6376   # reproducible "random" delays
for sig in INT TERM HUP; do
	# During RSA-4096 generation, new key and --force replacement.
	for delay in 0 0.05 0.3 0.8; do
		run_killed "$sig" "$delay" new -b 4096
		run_killed "$sig" "$delay" existing --force -b 4096
	done
	# Around the writes of fast runs: delays spread over a whole run.
	for i in 1 2 3 4 5 6; do
		d=$(printf '0.%03d' $((RANDOM % 120)))
		run_killed "$sig" "$d" new -a ed25519
		run_killed "$sig" "$d" existing --force -a ed25519
	done
done
