#!/bin/bash
# A full rotation on Debian's real Postfix + rspamd (dual-signed: RSA +
# Ed25519 from one configuration), records published by RFC 2136 to Knot:
# a message before, during (the rotation paused between publishing and
# switching) and after, each signed by the running rspamd and verified by
# dkimpy against Knot; then retire (clock moved past the grace period)
# publishes p= and removes rspamd's copies. status is checked at each stage.
# Runs inside a throwaway Debian root (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root rspamd

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/rotate.sh"
mta_mail_env rot-e2e.test
TSIG=$KNOT_DIR/tsig.key
. "$TOP/tests/lib/rspamd.sh"

ds() { "$DKIM_SETUP" "$@" --nameserver "$NS"; }

reset_postfix
ds --batch -d "$DOM" -s 202601 --publish --tsig-key "$TSIG" >"$W/s1.out" 2>&1
check_eq "setup: RSA selector 202601 (rspamd detected): written; the proof says the signer is not running yet (exit 1)" "1 not_running" "$? $(grep -o -m1 -i 'not.running' "$W/s1.out" | head -n 1 | tr ' ' _ | tr A-Z a-z)"
ds --batch -d "$DOM" -s 202601-ed -a ed25519 --publish --tsig-key "$TSIG" >"$W/s2.out" 2>&1
check_eq "setup: Ed25519 selector 202601-ed next to it: written; the proof says the signer is not running yet (exit 1)" "1 not_running" "$? $(grep -o -m1 -i 'not.running' "$W/s2.out" | head -n 1 | tr ' ' _ | tr A-Z a-z)"
start_daemons || { not_ok "postfix and rspamd start"; exit 1; }
ds check -d "$DOM" -s 202601 --prove >"$W/p1.out" 2>&1
check_eq "with the signer started: check --prove verifies through it" "0" "$?"
check_match "  ... said so" "Verified through rspamd" "$(cat "$W/p1.out")"
before=$(mta_send_smtp "user@$DOM")
check_eq "before: rspamd signs with both old selectors, dkimpy verifies both" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$before")"
out=$(ds status); rc=$?
check_eq "status before: exit 0" 0 "$rc"
check_match "status before: rspamd, both old selectors sign, copies the same key" "Signer: Postfix.* with rspamd.*202601 +RSA-2048 .* yes +same OK .*202601-ed +Ed25519 .* yes +same OK" "$(tr '\n' ' ' <<<"$out")"

NEW=$(date -u +%Y%m)
check "rotation paused after publishing" rot_paused_start "renamed:/var/lib/dkim-setup/$DOM.state@2"
during=$(mta_send_sendmail "user@$DOM")
check_eq "during: still the old selectors, both verify" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$during")"
rot_release
check_eq "rotation finishes: exit 1, the signer not reloaded yet (no systemd here)" 1 $?
check_match "  ... the proof names the cause: the running signer still signs with the old selector" \
	"Proof: FAILED.*signs mail from $DOM with selector 202601" "$(tr '\n' ' ' <"$W/rot.out")"
check_match "  ... rspamd's configuration lists the new selectors" "selector = \"$NEW\".*selector = \"$NEW-ed\"" "$(tr '\n' ' ' </etc/rspamd/local.d/dkim_signing.conf)"
start_daemons || not_ok "daemons restart"
ds check -d "$DOM" -s "$NEW" --prove >"$W/p2.out" 2>&1
check_eq "after the restart: check --prove verifies the new selector through rspamd" 0 $?
after=$(mta_send_smtp "user@$DOM")
check_eq "after: the new selectors sign, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$after")"
check_eq "after: the messages signed before and during still verify" "pass:s=202601 pass:s=202601-ed |pass:s=202601 pass:s=202601-ed " \
	"$(rot_sels "$before")|$(rot_sels "$during")"
out=$(ds status)
check_match "status after: the old selectors wait, the new ones sign" "202601 +RSA-2048 .* no +same OK +retire in 7d.*$NEW +RSA-2048 .* yes +same OK" "$(tr '\n' ' ' <<<"$out")"

for s in 202601 202601-ed; do
	DKIM_SETUP_TEST_NOW=+8d "$HOOK" retire -d "$DOM" -s "$s" --nameserver "$NS" --publish --tsig-key "$TSIG" >"$W/ret-$s.out" 2>&1
	check_eq "retire $s 8 days later: exit 0" 0 $?
	check_eq "  ... Knot serves the revoked record" "v=DKIM1; p=" "$(rot_served "$s._domainkey.$DOM")"
	check "  ... rspamd's copy is gone" test ! -e "/etc/rspamd/dkim/$DOM.$s.key"
done
check "rspamadm configtest still passes" rspamadm configtest
start_daemons || not_ok "daemons restart after retire"
last=$(mta_send_sendmail "user@$DOM")
check_eq "after retire: the new selectors sign, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$last")"
check_match "the message signed before no longer verifies: its key is revoked" "^fail" "$(mta_verify "$before" 2>&1)"
stop_daemons
