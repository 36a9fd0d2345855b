# Leaving the wizard at every step: Ctrl-C asks first; SIGTERM and SIGHUP
# end it at once. Each time the terminal must be usable afterwards, and the
# sandbox must hold no temporary file and no key without its public half.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/tui.sh"

tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
NS=127.0.0.1@$(t_free_port)   # nobody answers there: the wait step is skipped

# Start a fresh run and walk to step N (2..8).
goto_step() {
	local n=$1 root=$2 sel=$3
	tui_run --root "$root" --nameserver "$NS" -d example.test -s "$sel"
	tui_wait 'Step 2 of 8' || return 1
	[ "$n" -ge 3 ] && { tui_keys Enter; tui_wait 'Step 3 of 8' || return 1; }
	[ "$n" -ge 4 ] && { tui_keys Enter; tui_wait 'Step 4 of 8' || return 1; }
	[ "$n" -ge 5 ] && { tui_keys Enter; tui_wait 'Step 5 of 8' 30 || return 1; }
	[ "$n" -ge 6 ] && { tui_keys Enter; tui_wait 'Step 6 of 8' || return 1; }
	[ "$n" -ge 7 ] && { tui_keys s; tui_wait 'Step 7 of 8' || return 1; }
	[ "$n" -ge 8 ] && { tui_keys Enter; tui_wait 'Press Enter to finish' 20 || return 1; }
	return 0
}

after() {
	local what=$1 root=$2
	check "$what: terminal usable" tui_term_sane
	check "$what: no partial files" tui_no_partial "$root"
}

for step in 2 3 4 5 6 7 8; do
	# Ctrl-C (a kill -INT, and the key itself) asks; n stays, y quits.
	root=$(t_tmpdir)
	goto_step "$step" "$root" "int$step" || not_ok "reach step $step"
	kill -INT "$TUI_PID"
	tui_wait 'Quit' 5 && ok "step $step: SIGINT asks before quitting" || not_ok "step $step: SIGINT asks"
	tui_keys n
	sleep 0.3
	check "step $step: n stays in the wizard" kill -0 "$TUI_PID"
	tui_keys C-c
	tui_wait 'Quit' 5 && ok "step $step: Ctrl-C asks" || not_ok "step $step: Ctrl-C asks"
	tui_keys y
	tui_wait_exit 15 && ok "step $step: y quits (status $TUI_STATUS)" || not_ok "step $step: y quits"
	after "step $step SIGINT" "$root"

	for sig in TERM HUP; do
		root=$(t_tmpdir)
		goto_step "$step" "$root" "${sig,,}$step" || not_ok "reach step $step"
		kill -"$sig" "$TUI_PID"
		tui_wait_exit 15 && ok "step $step: SIG$sig ends the wizard" || not_ok "step $step: SIG$sig"
		check_eq "step $step: died of SIG$sig after cleaning up" "$((128 + $(kill -l "$sig")))" "$TUI_STATUS"
		after "step $step SIG$sig" "$root"
	done
done

# SIGTERM while a large key is being written: the key is finished first.
for i in 1 2 3; do
	root=$(t_tmpdir)
	tui_run --root "$root" --nameserver "$NS" -d example.test -s big -b 4096
	tui_wait 'Step 2 of 8' && tui_keys Enter Enter
	tui_wait '> RSA 4096' || not_ok "4096 preselected by -b"
	tmux_ send-keys -t t Enter
	sleep 0.$((i * 2))
	kill -TERM "$TUI_PID"
	tui_wait_exit 30 && ok "SIGTERM during key generation ($i) ends the wizard" || not_ok "SIGTERM during keygen"
	after "SIGTERM during key generation ($i)" "$root"
done

# SIGTERM while the record is printed outside curses.
root=$(t_tmpdir)
goto_step 5 "$root" print1 || not_ok "reach step 5"
tui_keys p
tui_wait 'Press Enter (for the next page|to go back)' || not_ok "plain print"
kill -TERM "$TUI_PID"
tui_wait_exit 15 && check_eq "SIGTERM during the plain print ends it" 143 "$TUI_STATUS" || not_ok "SIGTERM in print"
after "SIGTERM during the plain print" "$root"

# A server that never answers: the keyboard still answers at once, and
# leaving the wait step does not wait for DNS timeouts.
SILENT=$(t_free_port)
/usr/bin/python3 -c '
import socket, sys, time
p = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", p)); t.listen(8)
time.sleep(300)' "$SILENT" &
SILENT_PID=$!
at_exit "kill $SILENT_PID 2>/dev/null"
root=$(t_tmpdir)
NS_SAVED=$NS
NS=127.0.0.1@$SILENT
goto_step 6 "$root" slow1 || not_ok "reach the wait step with a silent server"
ms() { date +%s%3N; }
# Not a speed measurement: a UI that waited on DNS would take the whole 2 s
# query timeout; the bound sits below that, with room for a loaded machine.
for i in 1 2 3; do
	t0=$(ms)
	tmux_ send-keys -t t r F1
	tui_wait 'asks the domain.s authoritative name servers' 5
	t1=$(ms)
	check "silent server, try $i: keys answered before a DNS timeout could pass ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1900
	tmux_ send-keys -t t x
	sleep 0.2
done
t0=$(ms)
tmux_ send-keys -t t Escape
tui_wait 'Step 5 of 8' 5
t1=$(ms)
check "leaving the wait step does not wait for DNS ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1900
tui_keys q
tui_wait 'Quit\?' && tui_keys y
tui_wait_exit 10
NS=$NS_SAVED

# --dry-run: the whole way through, nothing written; the mail server's
# change (a Debian Exim's files in the sandbox) is shown, not applied.
root=$(t_tmpdir)
mkdir -p "$root/etc/exim4" "$root/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$root/etc/exim4/update-exim4.conf.conf"
: >"$root/usr/sbin/exim4"
before=$(find "$root" | sort)
tui_run --dry-run --root "$root" --nameserver "$NS" -d example.test -s dry1
tui_wait 'Step 2 of 8' && tui_keys Enter Enter Enter
tui_wait 'Dry run: not saved' 30 && ok "dry run: the record is shown, marked not saved" || not_ok "dry run record"
tui_keys Enter
tui_wait 'Dry run' && tui_keys Enter
tui_wait 'Step 7 of 8' && ok "dry run: mail step" || not_ok "dry run mail step"
scr=$(tui_screen | tr -s '\n ' '  ')
check_match "dry run: the change a real run would make is shown" \
	'Dry run: this is the change a real run would make; nothing is written.*The changes.*new directory /etc/exim4/dkim' "$scr"
check_match "  ... Enter goes on (no apply)" 'Enter next' "$(tui_screen)"
tui_keys Enter
tui_wait 'Press Enter to finish' 20 && ok "dry run: summary" || not_ok "dry run summary"
check_match "  ... the summary says it was not written" 'Mail server: dry run, the change shown was not written' \
	"$(tui_screen | tr -s '\n ' '  ')"
tui_keys Enter
tui_wait_exit 10 && check_eq "dry run: exit 0" 0 "$TUI_STATUS" || not_ok "dry run ends"
check_eq "dry run: nothing written" "$before" "$(find "$root" | sort)"

# A dropped session: the terminal itself goes away (tmux kills the pane).
root=$(t_tmpdir)
goto_step 5 "$root" drop || not_ok "reach step 5"
pid=$TUI_PID
tmux_ kill-server
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "hangup: the wizard is gone" bash -c "! kill -0 $pid 2>/dev/null"
check "hangup: no partial files" tui_no_partial "$root"
check "no sanitizer reports" tui_no_asan
if ! tui_no_asan; then cat "$TUI_DIR"/asan.* "$TUI_DIR"/ubsan.* 2>/dev/null | head -40 | sed 's/^/# /'; fi
