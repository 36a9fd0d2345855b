# The ten problems a walk through the wizard at 80x24 found (issue 14), each
# checked in a real terminal (tmux) against a real Knot on loopback:
#  P1 müller.de   P2 messages wrap   P3 scrolling reaches the end
#  P4 the record in the DNS host's words   P5 Esc on the first screen
#  P6 a doubled name diagnosed   P7 key step: replace or a fresh selector
#  P8 the keys shown are the keys that work   P9 nothing copied is cut
#  P10 plain words, one SPF/DMARC text, negative caching as resolvers keep it
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/tui.sh"
command -v knotd >/dev/null || skip_all "knotd missing"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
SEL=$(date -u +%Y%m)
NS=127.0.0.1@$KNOT_PORT
DEAD=127.0.0.1@$(t_free_port)    # nobody answers there
export TUI_ENV="LC_ALL=C.UTF-8"

# The zone's NS set: who hosts the zone's DNS, as a recursive lookup would say.
set_ns() {
	knotc_ zone-begin example.test >/dev/null
	knotc_ zone-unset example.test @ NS >/dev/null 2>&1
	local n
	for n in "$@"; do knotc_ zone-set example.test @ 300 NS "$n" >/dev/null; done
	knotc_ zone-commit example.test >/dev/null
}
record_value() {
	"$DKIM_SETUP_PLAIN" record --root "$1" -d example.test -s "$2" --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])'
}
publish() {   # ROOT SELECTOR [NAME]: the record, in strings of <= 255
	local v
	v=$(record_value "$1" "$2")
	mapfile -t parts < <(/usr/bin/python3 -c 'import sys; v=sys.argv[1]; [print(v[i:i+255]) for i in range(0, len(v), 255)]' "$v")
	knot_set_txt "${3:-$2._domainkey}" "${parts[@]}"
}
joined() { tmux_ capture-pane -p -J -t t; }
check_no_match() { if grep -Eq -- "$2" <<<"$3"; then not_ok "$1 (found /$2/)"; else ok "$1"; fi; }
footer() { tui_screen | tail -n 1; }

# ---- P1: an international name, kept and shown in both forms ------------
ROOT_I=$(t_tmpdir)
tui_run --root "$ROOT_I" --nameserver "$DEAD"
tui_wait 'Step 2 of 8' || not_ok "P1: starts"
tui_type 'a♥b.de'
tui_wait 'not a valid international name' && ok "P1: an invalid name is refused with the reason" ||
	not_ok "P1: invalid name reason"
check "P1: the character stays in the field" grep -q '^  a♥b\.de' <<<"$(tui_screen)"
tui_keys C-u
tui_type 'müller.de'
tui_wait 'international name müller.de is xn--mller-kva.de' && ok "P1: müller.de shown in both forms" ||
	not_ok "P1: both forms"
check "P1: the field keeps müller.de" grep -q '^  müller\.de' <<<"$(tui_screen)"
tui_keys Enter
tui_wait '_domainkey\.xn--mller-kva\.de' && ok "P1: the record name uses the A-label" ||
	not_ok "P1: A-label record name"
tui_keys Enter Enter
tui_wait 'Step 5 of 8' 30 || not_ok "P1: record step"
check_match "P1: the record screen shows both forms" 'müller.de is xn--mller-kva.de' "$(joined)"
check "P1: the key file uses the A-label" test -s "$ROOT_I/etc/ssl/private/xn--mller-kva.de-$SEL-private.pem"
tui_keys F10
tui_wait 'Quit\?' && tui_keys y
tui_wait_exit 10

# ---- run A: Route 53, RSA + Ed25519 ---------------------------------------
set_ns ns-1.awsdns-01.org. ns-2.awsdns-02.com.
ROOT=$(t_tmpdir)
tui_run --root "$ROOT" --nameserver "$NS"
tui_wait 'Step 2 of 8' || not_ok "run A starts"
# P5
tui_keys Escape
sleep 0.5
scr=$(tui_screen)
check_match "P5: Esc on the first screen stays there" 'Step 2 of 8' "$scr"
check_no_match "P5: the first screen never says a key from an earlier run is here" 'earlier run' "$scr"
check_no_match "P8: no back key on the first screen" 'Esc back' "$(footer)"
# (where Esc did leave the first screen, come back, so the rest can run)
tui_screen | grep -q 'Step 1 of 8' && { tui_keys Enter; tui_wait 'Step 2 of 8'; }
# P8: help lists the keys that work here
tui_keys F1
tui_wait 'Keys here' || not_ok "P8: help opens"
check_match "P8: help on a text screen says F10/^Q" 'F10/\^Q quit' "$(joined)"
check_no_match "P8: help does not offer back on the first screen" 'Esc/F9' "$(joined)"
tui_keys x
tui_type example.test
tui_keys Enter
tui_wait 'Step 3 of 8' || not_ok "selector step"
tui_keys Enter
tui_wait 'RSA 2048' || not_ok "key step"
tui_keys e Enter
tui_wait 'Step 5 of 8' 30 || not_ok "record step"
# P4: the host named, its Name field, the quoted strings it needs
scr=$(joined)
check_match "P4: the DNS host is recognised from the NS names" 'Your DNS is at Amazon Route 53' "$scr"
check_match "P4: its Name field, in its words" "Record name: +$SEL\\._domainkey" "$scr"
check "P4: the value as quoted strings" grep -Eq '^ +"v=DKIM1; k=rsa; p=' <<<"$scr"
check_match "P4: the TTL to leave" 'TTL: +300' "$scr"
V=$(record_value "$ROOT" "$SEL")
tmux_ delete-buffer 2>/dev/null
tui_keys c
tui_wait 'OSC 52' || not_ok "P4: copy"
chunks=$(/usr/bin/python3 -c 'import sys; v=sys.argv[1]; print(" ".join("\"%s\"" % v[i:i+255] for i in range(0, len(v), 255)))' "$V")
check_eq "P4: c copies the form Route 53 takes, whole" "$chunks" "$(tmux_ show-buffer 2>/dev/null)"
# P9: Ed25519: e copies its value; p shows one record per page
VE=$(record_value "$ROOT" "$SEL-ed")
tmux_ delete-buffer 2>/dev/null
tui_keys e
sleep 0.5
check_eq "P9: e copies the Ed25519 record's value" "$VE" "$(tmux_ show-buffer 2>/dev/null)"
tui_keys p
tui_wait 'Press Enter for the next page' && ok "P9: p shows the record a page at a time" ||
	not_ok "P9: first page"
check "P9: its beginning is still on the screen" grep -qx "DKIM record for example.test, selector $SEL" <<<"$(tui_screen)"
check "P9: the value is one unbroken line" grep -qxF "Value: $V" <<<"$(joined)"
check "P9: the quoted strings, one unbroken line" grep -qxF "$(/usr/bin/python3 -c 'import sys; v=sys.argv[1]; print(" ".join("\"%s\"" % v[i:i+255] for i in range(0, len(v), 255)))' "$V")" <<<"$(joined)"
for i in 1 2 3; do
	tui_screen | grep -q "selector $SEL-ed" && break
	tui_keys Enter
	sleep 0.3
done
tui_wait "selector $SEL-ed" && ok "P9: then the Ed25519 record" || not_ok "P9: second page"
check "P9: its value is one unbroken line" grep -qxF "Value: $VE" <<<"$(joined)"
tui_keys Enter
tui_wait 'Step 5 of 8' || not_ok "back after print"
# P3: the scrolled page reaches its last line
tui_keys NPage NPage NPage NPage NPage NPage
sleep 0.3
scr=$(tui_screen)
range=$(grep -o 'lines [0-9]*-[0-9]* of [0-9]*' <<<"$scr")
check_match "P3: the last page shows the last line ($range)" 'lines [0-9]+-([0-9]+) of \1$' "$range"
check_match "P3: the save path, the record screen's last line, is on screen" "/root/dkim-$SEL\\._domainkey\\.example\\.test\\.txt" "$scr"
# P8: the Ed25519 copy key and the keys of the record step all shown
check_match "P8: the record step's footer offers every key" 'e copy Ed25519' "$(tui_screen | tail -n 2)"
tui_keys Enter
tui_wait 'Step 6 of 8' || not_ok "DNS step"
tui_wait 'missing' 10 || not_ok "DNS: missing"
# P8: no Enter before every server is OK
check_no_match "P8: the DNS step does not offer Enter before the servers are OK" 'Enter next' "$(footer)"
# P10: plain words
scr=$(joined)
check_match "P10: missing said in plain words" 'no such name' "$scr"
check_no_match "P10: no NXDOMAIN on screen" 'NXDOMAIN' "$scr"
check_no_match "P10: no SOA jargon on screen" 'SOA' "$scr"
# P2: a long message wraps into the free rows
tui_keys Enter
tui_wait 'Not every server' || not_ok "P2: message"
check_match "P2: the message is whole (its end is on screen)" 'check later' "$(joined)"
# P6: the name doubled by a panel
publish "$ROOT" "$SEL" "$SEL._domainkey.example.test"      # Knot appends the zone again
tui_wait 'the panel added the domain' 30 && ok "P6: the doubled name is diagnosed in the wizard" ||
	not_ok "P6: doubled name"
check_match "P6: with the fix" "enter only $SEL\\._domainkey" "$(joined)"
check_match "P6: in the words of the DNS host" "At Amazon Route 53: delete the record, and add it again with only $SEL\\._domainkey in the Record name field" "$(tr -s '\n ' '  ' <<<"$(joined)")"
knot_del "$SEL._domainkey.example.test"
publish "$ROOT" "$SEL"
publish "$ROOT" "$SEL-ed"
tui_keys r
tui_wait 'Every server serves the new keys' 30 || not_ok "DNS OK"
sleep 0.5
check_no_match "P8: after OK, no skip or publish key" 's skip|u publish' "$(footer)"
check_match "P8: after OK, Enter goes on" 'Enter next' "$(footer)"
tui_keys Enter
tui_wait 'Step 7 of 8' || not_ok "mail step"
tui_keys Enter
tui_wait 'Press Enter to finish' 60 || not_ok "summary"
check_match "P8: the summary shows that Esc goes back" 'Esc/b back' "$(footer)"
tui_keys NPage NPage
sleep 0.3
scr=$(joined)
check_match "P10: SPF advice warns against a second SPF record" 'instead of adding a second' "$(tr -s '\n ' '  ' <<<"$scr")"
check "P9: the DMARC value on one line" grep -qx '      v=DMARC1; p=none; rua=mailto:postmaster@example.test' <<<"$scr"
check "P10: the training text gives the same advice" grep -q 'exactly one SPF record' "$TOP/assets/training/summary.txt"
check_no_match "P10: the training text gives no other records" 'v=spf1|dmarc@' "$(cat "$TOP/assets/training/summary.txt")"
tui_keys Enter
tui_wait_exit 20 || not_ok "run A ends"

# ---- run B: the same root again; hostile SOA -------------------------------
knotc_ zone-begin example.test >/dev/null
knotc_ zone-set example.test @ 2147483647 SOA ns1.example.test. hostmaster.example.test. 100 3600 600 86400 2147483647 >/dev/null
knotc_ zone-commit example.test >/dev/null
tui_run --root "$ROOT" --nameserver "$NS"
tui_wait 'Step 1 of 8' || not_ok "run B offers the earlier key"
tui_keys Enter                     # "Set up a new key"
tui_wait 'Step 2 of 8' || not_ok "run B domain"
tui_keys C-u
tui_type example.test
tui_keys Enter
tui_wait 'Step 3 of 8' || not_ok "run B selector"
check "P7: a new key gets a fresh default selector, not the old key's" grep -q "^  $SEL-2 *\$" <<<"$(tui_screen)"
tui_keys C-u
tui_type "$SEL"
tui_keys Enter
tui_wait 'has this RSA-2048 key already' || not_ok "P7: the existing key is said"
tui_keys Down Down
tui_wait '> RSA 4096' || not_ok "4096"
tui_keys Enter
tui_wait 'Press r to replace it' && ok "P7: choosing another key says what to do in the wizard" ||
	not_ok "P7: replace offered"
check_no_match "P7: never --force inside the wizard" '--force' "$(joined)"
tui_keys r
tui_wait 'will be replaced' || not_ok "P7: replace chosen"
tui_keys Enter
tui_wait 'Step 5 of 8' 60 || not_ok "P7: replaced"
check_match "P7: the record step says it replaced the key" 'Replaced .old key kept as backup' "$(joined)"
check_match "P7: the key is RSA-4096 now" '4096 bit' "$(openssl pkey -in "$ROOT/etc/ssl/private/example.test-$SEL-private.pem" -noout -text 2>/dev/null | head -1)"
tui_keys Enter
tui_wait 'Step 6 of 8' || not_ok "run B DNS"
tui_wait 'wrong key' 15 || not_ok "run B: wrong key"
tui_wait 'capped|cap it' 15 || true
scr=$(joined)
check_match "P10: negative caching capped as resolvers do" 'for up to 3 hours: the zone allows 24855 days' "$(tr -s '\n ' '  ' <<<"$scr")"
check_no_match "P10: no absurd hours" '596523' "$scr"
tui_keys s
tui_wait 'Step 7 of 8' || not_ok "run B mail"
tui_keys Enter
tui_wait 'Press Enter to finish' 30 || not_ok "run B summary"
# P9: the check command is whole: every option of the run, shell continuations
cmd=$(joined | sed -n '/dkim-setup check/,/[^\\]$/p' | sed 's/ \\$//; s/^ *//' | tr '\n' ' ' | sed 's/ *$//')
check_eq "P9: the check command repeats --root and --nameserver, whole" \
	"dkim-setup check -d example.test -s $SEL --root $ROOT --nameserver $NS" "$cmd"
tui_keys Enter
tui_wait_exit 20

# ---- --training: t is offered wherever an explanation is -------------------
ROOT_T=$(t_tmpdir)
tui_run --training --root "$ROOT_T" --nameserver "$DEAD" -d example.test -s t1
tui_wait 'Step 2 of 8' || not_ok "training run"
for i in 1 2 3 4 5 6; do tui_keys x; done   # close the welcome and explanation
tui_keys Enter
tui_wait 'Step 3 of 8' && tui_keys x Enter
tui_wait 'Step 4 of 8' && tui_keys x e Enter
tui_wait 'Step 5 of 8' 30 && tui_keys x
sleep 0.5
check_match "P8: t explain shown on the record step (even with every record key)" 't explain' "$(tui_screen | tail -n 3)"
tui_keys q
tui_wait 'Quit\?' && tui_keys y
tui_wait_exit 10
check "terminal usable" tui_term_sane
check "no sanitizer reports" tui_no_asan
