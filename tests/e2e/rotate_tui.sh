# Rotation in the wizard, in a real terminal (tmux, 80x24), against Knot:
# the first screen shows the keys of the host and offers "rotate" as the
# default for the host's domain; the same steps follow with a new selector
# and the same kind of key; the DNS step cannot be skipped; the mail server
# switches only after every server serves the new record; the old selector's
# stop is recorded and the summary says when to retire it and how to enable
# the timer. (A --root sandbox with Debian Exim's files.)
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/tui.sh"
command -v knotd >/dev/null || skip_all "knotd missing"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
R=$(t_tmpdir)
NS=127.0.0.1@$KNOT_PORT
NEW=$(date -u +%Y%m)
mkdir -p "$R/etc/exim4" "$R/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$R/etc/exim4/update-exim4.conf.conf"
: >"$R/usr/sbin/exim4"
printf 'root:x:0:\nDebian-exim:x:107:\n' >"$R/etc/group"
echo shop.example.test >"$R/etc/mailname"
for d in other.example.test shop.example.test; do
	"$DKIM_SETUP_PLAIN" --batch --root "$R" -d $d -s 202601 --mta exim --nameserver "$NS" \
		--publish --tsig-key "$KNOT_DIR/tsig.key" >/dev/null 2>&1 || not_ok "setup of $d"
done
served() { kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" "$1" TXT | sed 's/" "//g; s/"//g'; }

tui_run --root "$R" --nameserver "$NS" --tsig-key "$KNOT_DIR/tsig.key"
tui_wait 'Step 1 of 8' && ok "the wizard starts with the overview" || not_ok "survey step"
scr=$(tui_screen)
check_match "overview: a line per key" "shop\.example\.test +202601 +RSA-2048 +0d +yes +same" "$scr"
check_match "overview: the other domain too" "other\.example\.test +202601" "$scr"
check_match "rotate is offered, and the default for the host's domain" "> Rotate shop\.example\.test \(now 202601, 0 days old\)" "$scr"
check_match "add a domain is offered" "Add a domain" "$scr"
tui_keys Enter
tui_wait 'Step 2 of 8' && tui_wait '^  shop\.example\.test' 2 && ok "domain filled in" || not_ok "domain step"
tui_keys Enter
tui_wait 'Step 3 of 8' && tui_wait "^  $NEW *$" 2 && ok "a new selector, $NEW" || not_ok "selector step"
tui_keys Enter
tui_wait '> RSA 2048' && ok "the same kind of key" || not_ok "key step"
tui_keys Enter
tui_wait 'Step 5 of 8' 20 && ok "record step" || not_ok "record step"
check_match "the rotation under way is recorded (rotate -d continues it)" "stage keys.*new $NEW .*old 202601" "$(tr '\n' ' ' <"$R/var/lib/dkim-setup/shop.example.test.state" 2>&1)"
tui_keys Enter
tui_wait 'Step 6 of 8' && ok "DNS step" || not_ok "DNS step"
tui_wait 'missing' 10
check "  ... no skip offered while rotating" bash -c "! tmux -L '$TUI_SOCK' capture-pane -p -t t | grep -q 's skip'"
tui_keys s
sleep 0.5
check_match "  ... s does not skip" "Step 6 of 8" "$(tui_screen)"
check_eq "  ... the mail server still signs with 202601" "shop.example.test: 202601" "$(grep '^shop' "$R/etc/exim4/dkim/domains")"
tui_keys u
tui_wait 'Every server serves the' 15 && ok "published by RFC 2136 and served" || not_ok "publish"
tui_keys Enter
tui_wait 'Step 7 of 8' && ok "mail server step" || not_ok "mail step"
tui_keys Enter
tui_wait 'Enter goes on' 20 && ok "  ... applied" || not_ok "mail server step applies"
tui_keys Enter
tui_wait 'Step 8 of 8' 20 && tui_wait 'Press Enter to finish' 30 && ok "summary" || not_ok "summary"
check_eq "the mail server signs with $NEW" "shop.example.test: $NEW|other.example.test: 202601" \
	"$(grep '^shop' "$R/etc/exim4/dkim/domains")|$(grep '^other' "$R/etc/exim4/dkim/domains")"
check_match "the old record is still served" "^v=DKIM1; k=rsa; p=." "$(served 202601._domainkey.shop.example.test)"
check_match "the old selector's stop is recorded, the rotation done" "stage idle.*stopped 202601 [0-9]+" "$(tr '\n' ' ' <"$R/var/lib/dkim-setup/shop.example.test.state" 2>&1)"
tui_keys End 2>/dev/null
all=""
for i in 1 2 3 4 5; do all="$all$(tui_screen)"; tui_keys NPage; done
check_match "the summary says when to retire" "dkim-setup retire -d shop\.example\.test -s 202601" "$all"
check_match "the summary says how to enable the timer" "systemctl enable --now dkim-setup-rotate\.timer" "$all"
tui_keys Enter
tui_wait_exit 10
check_eq "the wizard exits 0" 0 "$TUI_STATUS"
tui_no_asan
