# tests/lib/rotate.sh: for the rotation tests with real daemons
# (tests/e2e/rotate_mta_*.sh). Needs lib.sh, mta.sh and knot.sh, and DOM,
# W, NS and KNOT_PORT set (mta_mail_env).
#  rot_paused_start MOMENT   dkim-setup rotate -d $DOM --publish, through the
#                            test build, paused at the fsutil MOMENT; returns
#                            once it is paused there (status 1 if it never is)
#  rot_release               let it go on; returns its exit status
#  rot_sels MESSAGE          dkimpy's verdicts, "pass:s=SEL ..." sorted
#  rot_served NAME           the TXT strings Knot serves at NAME, joined
HOOK=${DKIM_SETUP_HOOK:-$TOP/build/tests/dkim-setup-hook}
[ -x "$HOOK" ] || skip_all "test build missing: make unit"

rot_paused_start() {
	rm -f "$W/go" "$W/hook.log"
	mkfifo "$W/go"
	DKIM_SETUP_TEST_PAUSE="$1" DKIM_SETUP_TEST_FIFO="$W/go" DKIM_SETUP_TEST_LOG="$W/hook.log" \
		"$HOOK" rotate -d "$DOM" --nameserver "$NS" --publish --tsig-key "$KNOT_DIR/tsig.key" \
		>"$W/rot.out" 2>&1 &
	ROT_PID=$!
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q "^paused $1" "$W/hook.log" 2>/dev/null && return 0
		kill -0 "$ROT_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

rot_release() {
	echo go >"$W/go"
	wait "$ROT_PID"
}

rot_sels() { mta_verify "$1" | awk '{ print $1 ":" $3 }' | sort | tr '\n' ' '; }
rot_served() { kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" "$1" TXT | sed 's/" "//g; s/"//g'; }

# Exim: a message from user@$DOM submitted with exim4 -odf (delivered at
# once); prints the path of what the sink got.
rot_send_exim() {
	local id="t$(date +%s%N).$$"
	printf 'From: Test <user@%s>\nTo: <rcpt@sink.test>\nSubject: rotation %s\nMessage-ID: <%s@%s>\n\nHello %s.\n' \
		"$DOM" "$id" "$id" "$DOM" "$id" | exim4 -odf -f "user@$DOM" rcpt@sink.test
	mta_wait_msg "$id"
}
