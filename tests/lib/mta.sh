# tests/lib/mta.sh: shared by tests/e2e/mta_*.sh (needs lib.sh).
#  mta_in_root exim|postfix   run this test's body (the script itself, with
#                             MTA_INNER=1) inside a throwaway Debian root that
#                             has that MTA (tests/lib/troot.sh), in its own
#                             mount, network (only lo), pid namespaces; the
#                             host's packages and /etc are never touched.
#                             Exits with the body's status.
#  mta_prepare_roots          build (or find cached) every MTA root
#  mta_keep_pristine PATH...  (inside) remember PATHs as the packages left them
#  mta_reset PATH...          (inside) remove PATHs, put back what was kept
#  mta_sink_start DIR         SMTP sink on 127.0.0.2:25 (inside the netns)
#  mta_wait_file FILE SECS    bounded wait for a file to appear
. "$TOP/tests/lib/troot.sh"

# exim4-daemon-light and postfix conflict: one root each, side by side.
MTA_EXIM_PKGS="exim4-daemon-light"
MTA_POSTFIX_PKGS="postfix opendkim"
MTA_RSPAMD_PKGS="postfix rspamd"
MTA_PRISTINE=${MTA_PRISTINE:-}

# The roots built (or found cached) ahead of the tests: tests/run.sh runs
# this in the background while the other tests run.
mta_prepare_roots() {
	troot_ensure mta-exim "$MTA_EXIM_PKGS" && troot_ensure mta-postfix "$MTA_POSTFIX_PKGS" &&
		troot_ensure mta-rspamd "$MTA_RSPAMD_PKGS"
}

mta_in_root() {
	local which=$1 pkgs start=$SECONDS
	case $which in
	exim) pkgs=$MTA_EXIM_PKGS ;;
	postfix) pkgs=$MTA_POSTFIX_PKGS ;;
	*) not_ok "mta_in_root: exim or postfix, not $which"; exit 1 ;;
	esac
	command -v unshare >/dev/null || skip_all "needs unshare"
	troot_ensure "mta-$which" "$pkgs" || { not_ok "a Debian root with $pkgs (see build/roots/mta-$which.log)"; exit 1; }
	troot_new "mta-$which" || { not_ok "a copy of the root mta-$which"; exit 1; }
	diag "root mta-$which ready in $((SECONDS - start)) s (this copy extracted in $TROOT_EXTRACT_SECS s)"
	MTA_INNER=1 troot_run bash "$(realpath "$0")"
	exit $?
}

mta_keep_pristine() {
	MTA_PRISTINE=$(t_tmpdir)/pristine.tar
	local p rel=()
	for p in "$@"; do [ -e "$p" ] && rel+=("${p#/}"); done
	tar -C / -cpf "$MTA_PRISTINE" "${rel[@]}"
}

# Removes every PATH given, then puts back all that mta_keep_pristine kept.
mta_reset() {
	rm -rf "$@"
	tar -C / -xpf "$MTA_PRISTINE"
}

mta_wait_file() {
	local f=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		[ -e "$f" ] && return 0
		sleep 0.05
	done
	return 1
}

mta_sink_start() {
	local dir=$1
	/usr/bin/python3 "$TOP/tests/lib/smtp_sink.py" 127.0.0.2 25 "$dir" >"$dir/sink.log" 2>&1 &
	MTA_SINK_PID=$!
	at_exit "kill $MTA_SINK_PID 2>/dev/null; wait $MTA_SINK_PID 2>/dev/null"
	mta_wait_file "$dir/ready" 10
}

# Inside the root, for a test that sends mail: a Knot serving the domain and
# an SMTP sink on 127.0.0.2:25. Needs knot.sh. Sets DOM, W, SINK and NS.
mta_mail_env() {
	DOM=$1
	W=$(t_tmpdir)
	SINK=$W/sink
	mkdir -p "$SINK"
	knot_start "$DOM" "$(knot_basic_zone "$DOM")" || { not_ok "knot starts"; exit 1; }
	mta_sink_start "$SINK" || { not_ok "SMTP sink starts on 127.0.0.2:25"; exit 1; }
	NS=127.0.0.1@$KNOT_PORT
}

# The record strings of `dkim-setup --json` output on stdin, one per line.
mta_json_strings() {
	/usr/bin/python3 -c 'import json,sys; [print(s) for s in json.load(sys.stdin)["record"]["strings"]]'
}
# A field of the "mta" (or other) member: mta_json_get mta.changed
mta_json_get() {
	/usr/bin/python3 -c '
import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$1"
}

# Mail through the Postfix of a root, for the Postfix signers' tests: a
# message with a unique Message-ID submitted by sendmail (non_smtpd_milters)
# or over SMTP to 127.0.0.1:25 (smtpd_milters); prints the path of what the
# sink got. Nothing within about 15 s: status 1, and mta_diag ID, when the
# test defines it, says what its daemons logged.
mta_wait_msg() {  # id
	local i f
	for ((i = 0; i < 300; i++)); do
		f=$(grep -l "$1@" "$SINK"/*.eml 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.05
	done
	declare -F mta_diag >/dev/null && mta_diag "$1"
	return 1
}

mta_send_sendmail() {  # from
	local id="t$(date +%s%N).$$"
	printf 'From: Test <%s>\nTo: <rcpt@sink.test>\nSubject: dkim e2e %s\nMessage-ID: <%s@%s>\n\nHello %s.\n' \
		"$1" "$id" "$id" "$DOM" "$id" | /usr/sbin/sendmail -f "$1" rcpt@sink.test
	mta_wait_msg "$id"
}

mta_send_smtp() {  # from [port, default 25]
	local id="t$(date +%s%N).$$"
	/usr/bin/python3 - "$1" "$id" "$DOM" "${2:-25}" <<'PY' || return 1
import smtplib, sys
frm, mid, dom, port = sys.argv[1:5]
msg = ("From: Test <%s>\r\nTo: <rcpt@sink.test>\r\nSubject: smtp %s\r\nMessage-ID: <%s@%s>\r\n\r\nHello.\r\n"
       % (frm, mid, mid, dom))
with smtplib.SMTP("127.0.0.1", int(port), timeout=30) as s:
    s.sendmail(frm, ["rcpt@sink.test"], msg)
PY
	mta_wait_msg "$id"
}

# dkimpy's verdict on every signature of a message, keys from the Knot.
mta_verify() {  # message
	/usr/bin/python3 "$TOP/tests/lib/dkim_verify.py" "$1" 127.0.0.1 "$KNOT_PORT"
}

# Stop the daemons a test started, by pid (never by name): SIGTERM to each,
# then up to 10 s each for it to go (opendkim takes about 4.5 s).
mta_stop_pids() {  # pid...
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		wait "$p" 2>/dev/null
	done
}
