#!/bin/bash
# The wizard's mail-server step on Debian's Exim: detected, the change
# previewed as a diff, applied with the checker's verdict, reload on consent,
# then the proof against the record Knot serves. Runs on the real /etc (as
# the admin would) of a throwaway Debian root with exim4-daemon-light
# (tests/lib/troot.sh: its own mount, network and pid namespaces, only lo):
# the host's packages and /etc are never touched.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root exim

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/tui.sh"
DOM=dkim-tui.test
knot_start "$DOM" "$(knot_basic_zone "$DOM")" || { not_ok "knot starts"; exit 1; }
NS=127.0.0.1@$KNOT_PORT

# The packaged Debian config, unsplit, as an internet site.
sed -i -e "s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='internet'/" \
	-e "s/^dc_use_split_config=.*/dc_use_split_config='false'/" /etc/exim4/update-exim4.conf.conf
update-exim4.conf

publish() {  # selector
	mapfile -t strs < <("$DKIM_SETUP_PLAIN" record -d "$DOM" -s "$1" --json | mta_json_strings)
	knot_set_txt "$1._domainkey" "${strs[@]}"
}

tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
tui_run --mta exim --nameserver "$NS" -d "$DOM" -s tui1
tui_wait 'Step 2 of 8' && tui_keys Enter Enter Enter
tui_wait 'Step 5 of 8' 30 || not_ok "record step"
tui_keys Enter
tui_wait 'Step 6 of 8' || not_ok "wait step"
publish tui1
tui_wait 'Every server serves the' 20 && ok "the record is seen" || not_ok "record seen"
tui_keys Enter
tui_wait 'Step 7 of 8' && ok "mail server step" || not_ok "mail step"
scr=$(tui_screen)
check_match "Exim detected" 'Mail server: .*Exim' "$scr"
sed "s/^/   preview| /" <<<"$scr"
check "the change is shown as a diff before anything is written" grep -q "^  +" <<<"$scr"
check_match "Enter applies, s skips" 'Enter applies the changes below' "$scr"
check_match "the footer says Enter applies" 'Enter apply' "$scr"
check "nothing written before Enter" bash -c "! grep -qs 'dkim-setup' /etc/exim4/exim4.conf.localmacros"
tui_keys Enter
tui_wait 'Applied' 90 && ok "applied" || not_ok "applied"
scr=$(tui_screen)
sed 's/^/   mta| /' <<<"$scr"
check_match "the checker's verdict is shown" 'Applied and checked' "$scr"
if [ -d /run/systemd/system ]; then
	check_match "reload asked for" 'Enter reloads the mail server' "$(tui_screen | tr -s '\n ' '  ')"
else
	check_match "no systemd: no reload offered; the command to run is shown instead" \
		'Nothing is reloaded: systemd is not running here.*invoke-rc\.d exim4 reload.*Enter goes on' \
		"$(tui_screen | tr -s '\n ' '  ')"
	check_match "  ... and the footer says next, not reload" 'Enter next' "$(tui_screen)"
fi
check "the block is in exim4.conf.localmacros" grep -q '^# BEGIN dkim-setup' /etc/exim4/exim4.conf.localmacros
check "the signer's copy exists" test -s "/etc/exim4/dkim/$DOM-tui1-private.pem"
tui_keys Enter
tui_wait 'Press Enter to finish' 60 && ok "summary" || not_ok "summary"
FINAL=$(tui_screen)
sed 's/^/   final| /' <<<"$FINAL"
check_match "summary: mail server configured" 'Mail server: configured' "$FINAL"
# No Exim daemon runs yet (no systemd here): the proof says so, how to
# start it, and offers to prove again.
check_match "summary: Exim not running, named" 'Proof FAILED through Exim: Exim is not running' "$(tr -s '\n ' '  ' <<<"$FINAL")"
check_match "summary: how to start it" 'invoke-rc\.d exim4 start' "$FINAL"
check_match "summary: r proves again" 'press r to prove again' "$(tr -s '\n ' '  ' <<<"$FINAL")"
mkdir -p /run/exim4 && chown Debian-exim:Debian-exim /run/exim4
/usr/sbin/exim4 -bdf -q30m >/dev/null 2>&1 &
EXIM_PID=$!
at_exit "mta_stop_pids $EXIM_PID"
for ((i = 0; i < 100; i++)); do (exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && break; sleep 0.1; done
tui_keys r
tui_wait 'Proof: Verified through Exim' 60 && ok "summary: after starting Exim, r proves through it" ||
	not_ok "summary: proved through Exim after r"
FINAL=$(tui_screen)
sed 's/^/   proved| /' <<<"$FINAL"
tui_keys Enter
tui_wait_exit 20 && check_eq "exit status 0" 0 "$TUI_STATUS" || not_ok "the wizard ends"

# Again: already configured, nothing to apply.
tui_run --mta exim --nameserver "$NS" -d "$DOM" -s tui1
tui_wait 'Step 2 of 8' && tui_keys Enter Enter Enter
tui_wait 'Step 5 of 8' 30 && tui_keys Enter
tui_wait 'Every server serves the' 20 && tui_keys Enter
tui_wait 'configured for this key already' 30 && ok "a re-run has nothing to change" || not_ok "re-run"
tui_keys q
tui_wait 'Quit\?' && tui_keys y
tui_wait_exit 20
check "terminal usable" tui_term_sane
check "no sanitizer reports" tui_no_asan
if ! tui_no_asan; then cat "$TUI_DIR"/asan.* "$TUI_DIR"/ubsan.* 2>/dev/null | head -40 | sed 's/^/# /'; fi
