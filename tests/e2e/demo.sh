# make demo end to end in a real terminal (tmux, 80x24): the DNS server comes
# up, the wizard goes through every step in training mode with the record
# published by the key press (RFC 2136 + TSIG), every training text is shown
# by some step, the server is stopped and nothing is left running, and the
# sandbox is left for inspection.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/tui.sh"
command -v knotd >/dev/null || skip_all "knotd missing"

tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
D=$(t_tmpdir)/demo
SEL=$(date -u +%Y%m)
SEEN=$D.screens
mkdir -p "$(dirname "$SEEN")"
: >"$SEEN"
# Wait for a screen, keep what it showed (for the asset check).
see() { tui_wait "$@"; local rc=$?; tui_screen >>"$SEEN"; return $rc; }

tmux_ send-keys -t t "clear; DEMO_DIR='$D' DKIM_SETUP='$DKIM_SETUP' ASAN_OPTIONS=log_path=$TUI_DIR/asan UBSAN_OPTIONS=log_path=$TUI_DIR/ubsan bash '$TOP/tests/demo/demo.sh'; echo \$? >'$TUI_DIR/status'" Enter
see 'Press Enter to start the wizard' 20 && ok "the demo starts and explains itself" || not_ok "demo intro"
port=$(sed -n 's/.*listen: \[ 127\.0\.0\.1@\([0-9]*\),.*/\1/p' "$D/dns/knot.conf")
kpid=$(cat "$D/dns/knot.pid" 2>/dev/null)
check "the demo's DNS server runs (pid $kpid)" kill -0 "$kpid"
check_eq "it serves the demo zone on loopback" "ns1.example.test." \
	"$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" example.test NS)"

# The happy path, counted: an explanation box closes with the key that moves
# on (Enter reads it and does the step's Enter where that only goes on; u on
# the wait step's box publishes). Boxes over a step whose Enter applies or
# finishes are only closed by it: that screen is read first.
K0=$TUI_KEYS
tui_keys Enter                                  # the intro: start the wizard
see 'What DKIM proves' && ok "training: the welcome" || not_ok "welcome"
check_match "the box says Enter goes on" 'Enter: go on' "$(tui_screen)"
tui_keys Enter                                  # the welcome: the domain's box follows
see 'The signing domain' && ok "the domain step's box" || not_ok "domain box"
tui_keys Enter                                  # read, and take the domain
see 'Selectors and key rotation' && tui_keys Enter
see 'Why 2048 bits' && tui_keys Enter           # read, and create the key
see "What a TXT record is" 20 && tui_keys Enter
see 'Authoritative servers, resolvers' && ok "record step read and passed with one key" ||
	not_ok "record step"
check_match "the wait step's box covers a step that waits" 'Step 6 of 8' "$(tui_screen)"
tui_keys u                                      # the box closes, the record is published
see 'Every server serves the new key' 15 && ok "published with one key press; every server OK" || not_ok "publish"
check_match "the update was TSIG-signed and accepted" 'accepted the update' "$(tui_screen | tr -s '\n ' '  ')"
check_contains "Knot serves the record (the domain was the sandbox's /etc/mailname)" "v=DKIM1; k=rsa; p=" \
	"$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" "$SEL._domainkey.example.test" TXT | tr -d '" \n' | sed 's/;/; /g')"
tui_keys Enter
see 'What the mail server change does' && tui_keys Enter   # only closes: the diff is read first
see 'Step 7 of 8' && ok "mail step" || not_ok "mail step"
scr=$(tui_screen | tr -s '\n ' '  ')
check_match "the sandbox's Debian Exim is found" 'Mail server: Exim 4 \(Debian, unsplit config, internet\)' "$scr"
check_match "the change is shown as a diff first" '\+\+\+ /etc/exim4/exim4\.conf\.localmacros' "$scr"
tui_keys Enter
see 'Applied' 30 && ok "applied in the sandbox" || not_ok "applied"
scr=$(tui_screen | tr -s '\n ' '  ')
check_match "the sandbox mail step says the checker did not run (issue 14, P10)" \
	"Applied\. The mail server's own checker was not run: not run under --root" "$scr"
if [[ $scr == *"Applied and checked"* ]]; then not_ok "no \"Applied and checked\" in a sandbox"; else ok "no \"Applied and checked\" in a sandbox"; fi
check_match "a sandbox reloads nothing and says what the server would run" \
	'Nothing is reloaded: this is a sandbox \(--root\).*update-exim4\.conf && invoke-rc\.d exim4 reload' \
	"$(tui_screen | tr -s '\n ' '  ')"
check "the macros block is written in the sandbox" grep -q '^# BEGIN dkim-setup' "$D/root/etc/exim4/exim4.conf.localmacros"
check_eq "the signer's copy of the key: 0640 in the sandbox" 640 \
	"$(stat -c %a "$D/root/etc/exim4/dkim/example.test-$SEL-private.pem" 2>/dev/null)"
tui_keys Enter
see 'Proving it works' 30 && tui_keys Enter     # only closes: the proof is read first
see 'Press Enter to finish' 30 && ok "summary" || not_ok "summary"
check_match "the proof verified against the published record" 'verifies against the' "$(tui_screen | tr -s '\n ' '  ')"
KEYS=$((TUI_KEYS - K0))
check "the demo reaches the proof in at most 12 keys, the publish key and the intro's Enter included ($KEYS)" \
	test "$KEYS" -le 12
# The summary's box is longer than 80x24 shows: it scrolls (PgDn), and the
# last text (keys over time) is read there. (After the count: reading keys.)
tui_keys t
see 'Proving it works' 10 && tui_keys NPage
see 'more .PgDn/PgUp.' 10 && tui_keys NPage NPage
see 'Keys over time' 10 && ok "the summary's explanation scrolls to its last text" || not_ok "explanation scrolls"
tui_keys x
see 'Press Enter to finish' 10
tui_keys Enter
see "Remove it with: rm -rf $D" 20 && ok "the demo ends and says how to clean up" || not_ok "demo end"
tui_wait_exit 10
check_eq "demo exit status" 0 "$TUI_STATUS"
check "the DNS server is stopped" bash -c "! kill -0 $kpid 2>/dev/null"
# (the [d]/[-] brackets keep pgrep from finding the bash -c running it)
check "no process of the demo left" bash -c "! pgrep -f 'knot[d] -c $D' && ! pgrep -f 'dkim[-]setup.*$D'"
check "the sandbox is left: the key" test -f "$D/root/etc/ssl/private/example.test-$SEL-private.pem"
check "the key did not leave the sandbox" test ! -e "/etc/ssl/private/example.test-$SEL-private.pem"
check "the machine's own Exim config was not touched" \
	bash -c "! grep -qs 'example\.test' /etc/exim4/exim4.conf.localmacros /etc/exim4/conf.d/main/000_localmacros"
check "no sanitizer report" tui_no_asan

# Every training text was on screen (its title line, as the popup shows it).
for f in "$TOP"/assets/training/*.txt; do
	title=$(head -n 1 "$f")
	check "asset $(basename "$f") shown by some step" grep -qF -- "$title" "$SEEN"
done

# ---- a trainee without root: the same demo as an ordinary user ------------
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if ! command -v setpriv >/dev/null || ! as_nobody test -x "$DKIM_SETUP" -a -r "$TOP/tests/demo/demo.sh"; then
	diag "skipped the ordinary-user demo: nobody cannot run $DKIM_SETUP here"
else
	U=$(t_tmpdir)/user
	mkdir -p "$U" && chown nobody:nogroup "$U"
	rm -f "$TUI_DIR/status"
	tmux_ send-keys -t t "clear; setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME='$U' DEMO_DIR='$U/demo' DKIM_SETUP='$DKIM_SETUP' ASAN_OPTIONS=log_path=$U/asan UBSAN_OPTIONS=log_path=$U/ubsan bash '$TOP/tests/demo/demo.sh'; echo \$? >'$TUI_DIR/status'" Enter
	tui_wait 'Press Enter to start the wizard' 20 && ok "as an ordinary user: the demo's DNS server starts" ||
		not_ok "ordinary user: demo intro ($(tail -n 3 "$U/demo/dns/knot.log" 2>/dev/null | tr '\n' ' '))"
	upid=$(cat "$U/demo/dns/knot.pid" 2>/dev/null)
	check_eq "  ... it runs as that user" nobody "$(ps -o user= -p "${upid:-0}" 2>/dev/null | tr -d ' ')"
	tui_keys Enter
	tui_wait 'What DKIM proves' && tui_keys x
	tui_wait 'The signing domain' && tui_keys x
	tui_wait 'Step 2 of 8' && ok "  ... and the wizard runs in its sandbox" || not_ok "ordinary user: wizard"
	tui_keys F10
	tui_wait_exit 15 && check_eq "  ... quits (status 1: not finished)" 1 "$TUI_STATUS" || not_ok "ordinary user: quit"
	check "  ... and its DNS server is stopped" bash -c "! kill -0 ${upid:-0} 2>/dev/null"
	check "  ... no sanitizer report" bash -c "! ls '$U'/asan.* '$U'/ubsan.* 2>/dev/null | grep -q ."
fi
