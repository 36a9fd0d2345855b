#!/bin/bash
# A full rotation on Debian's real Postfix + OpenDKIM (dual-signed: a
# second OpenDKIM for Ed25519), records published by RFC 2136 to Knot: a
# message before, during (the rotation paused between publishing and
# switching) and after, over SMTP and through sendmail, each signed by the
# running OpenDKIMs and verified by dkimpy against Knot; then retire (clock
# moved past the grace period) publishes p=, removes the KeyTable lines and
# OpenDKIM's copies, and OpenDKIM restarts and signs with the new keys.
# Runs inside a throwaway Debian root (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/rotate.sh"
mta_mail_env rot-e2e.test
TSIG=$KNOT_DIR/tsig.key
mta_keep_pristine /etc/postfix /etc/opendkim.conf /etc/dkimkeys
. "$TOP/tests/lib/opendkim.sh"

ds() { "$DKIM_SETUP" "$@" --nameserver "$NS"; }

reset_postfix
ds --batch --mta postfix -d "$DOM" -s 202601 --publish --tsig-key "$TSIG" >"$W/s1.out" 2>&1
check_eq "setup: RSA selector 202601: written; the proof says the signer is not running yet (exit 1)" "1 not_running" "$? $(grep -o -m1 -i 'not.running' "$W/s1.out" | head -n 1 | tr ' ' _ | tr A-Z a-z)"
ds --batch --mta postfix -d "$DOM" -s 202601-ed -a ed25519 --publish --tsig-key "$TSIG" >"$W/s2.out" 2>&1
check_eq "setup: Ed25519 selector 202601-ed next to it: written; the proof says the signer is not running yet (exit 1)" "1 not_running" "$? $(grep -o -m1 -i 'not.running' "$W/s2.out" | head -n 1 | tr ' ' _ | tr A-Z a-z)"
start_daemons || { not_ok "postfix and both opendkims start"; exit 1; }
ds check -d "$DOM" -s 202601 --prove >"$W/p1.out" 2>&1
check_eq "with the signer started: check --prove verifies through it" "0" "$?"
check_match "  ... said so" "Verified through OpenDKIM" "$(cat "$W/p1.out")"
before=$(mta_send_smtp "user@$DOM")
check_eq "before (smtp): both old selectors sign, dkimpy verifies both" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$before")"
before2=$(mta_send_sendmail "user@$DOM")
check_eq "before (sendmail): the same" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$before2")"
out=$(ds status); rc=$?
check_eq "status before: exit 0" 0 "$rc"
check_match "status before: Postfix + OpenDKIM, both old selectors sign" "Signer: Postfix.*202601 +RSA-2048 .* yes +same OK .*202601-ed +Ed25519 .* yes +same OK" "$(tr '\n' ' ' <<<"$out")"

NEW=$(date -u +%Y%m)
check "rotation paused after publishing" rot_paused_start "renamed:/var/lib/dkim-setup/$DOM.state@2"
check_match "  ... Knot serves the new Ed25519 record already" "^v=DKIM1; k=ed25519; p=." "$(rot_served "$NEW-ed._domainkey.$DOM")"
during=$(mta_send_smtp "user@$DOM")
check_eq "during: still the old selectors, both verify" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$during")"
rot_release
check_eq "rotation finishes: exit 1, the signer not reloaded yet (no systemd here)" 1 $?
check_match "  ... the proof names the cause (the running signer still signs with the old selector) and what to run after the reload" \
	"Proof: FAILED.*signs mail from $DOM with selector 202601.*prove it again: dkim-setup check -d $DOM -s $NEW --prove" "$(tr '\n' ' ' <"$W/rot.out")"
check_match "  ... says how to reload (no systemd here)" "Reload: systemd is not running here" "$(cat "$W/rot.out")"
check_eq "  ... the signing tables name the new selectors" "*@$DOM $NEW._domainkey.$DOM|*@$DOM $NEW-ed._domainkey.$DOM" \
	"$(grep "$DOM" /etc/opendkim/signing.table)|$(grep "$DOM" /etc/opendkim/signing-ed25519.table)"
check_eq "  ... OpenDKIM's copies of the new keys, 0600 opendkim" "600 opendkim|600 opendkim" \
	"$(stat -c '%a %U' /etc/dkimkeys/$DOM-$NEW.private)|$(stat -c '%a %U' /etc/dkimkeys/$DOM-$NEW-ed.private)"
still=$(mta_send_smtp "user@$DOM")
check_eq "until OpenDKIM restarts it signs with the old keys, which still verify" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$still")"
start_daemons || not_ok "daemons restart"
ds check -d "$DOM" -s "$NEW" --prove >"$W/p2.out" 2>&1
check_eq "after the restart: check --prove verifies the new selector through OpenDKIM" 0 $?
after=$(mta_send_smtp "user@$DOM")
check_eq "after (smtp): the new selectors sign, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$after")"
after2=$(mta_send_sendmail "user@$DOM")
check_eq "after (sendmail): the same" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$after2")"
check_eq "after: the messages signed before and during still verify" "pass:s=202601 pass:s=202601-ed |pass:s=202601 pass:s=202601-ed " \
	"$(rot_sels "$before")|$(rot_sels "$during")"
out=$(ds status)
check_match "status after: the old RSA selector waits for its grace period" "202601 +RSA-2048 .* no +same OK +retire in 7d" "$out"
check_match "status after: the new selectors sign" "$NEW +RSA-2048 .* yes +same OK.*$NEW-ed +Ed25519 .* yes +same OK" "$(tr '\n' ' ' <<<"$out")"

out=$(ds retire -d "$DOM" -s 202601 2>&1); rc=$?
check_eq "retire inside the grace period: refused (exit 2)" 2 "$rc"
out=$(DKIM_SETUP_TEST_NOW=+8d "$HOOK" rotate --auto --nameserver "$NS" --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "rotate --auto 8 days later: exit 0" 0 "$rc"
check_eq "  ... retires exactly the two old selectors" "retired $DOM: 202601-ed:|retired $DOM: 202601:" \
	"$(grep -o "^retired $DOM: [^ ]*" <<<"$out" | LC_ALL=C sort | tr '\n' '|' | sed 's/|$//')"
check_eq "  ... Knot serves p= for both" "v=DKIM1; p=|v=DKIM1; p=" "$(rot_served "202601._domainkey.$DOM")|$(rot_served "202601-ed._domainkey.$DOM")"
check_eq "  ... their KeyTable lines are gone, the new ones stay" "0 0 1 1" \
	"$(grep -c "^202601._domainkey" /etc/opendkim/key.table) $(grep -c "^202601-ed._domainkey" /etc/opendkim/key-ed25519.table) $(grep -c "^$NEW._domainkey" /etc/opendkim/key.table) $(grep -c "^$NEW-ed._domainkey" /etc/opendkim/key-ed25519.table)"
check "  ... OpenDKIM's copies are gone" test ! -e "/etc/dkimkeys/$DOM-202601.private" -a ! -e "/etc/dkimkeys/$DOM-202601-ed.private"
check "  ... opendkim -n accepts its configuration" /usr/sbin/opendkim -n -x /etc/opendkim.conf
start_daemons || not_ok "daemons restart after retire"
last=$(mta_send_sendmail "user@$DOM")
check_eq "after retire: the new selectors sign, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$last")"
check_match "the message signed before no longer verifies: its key is revoked" "^fail" "$(mta_verify "$before" 2>&1)"
stop_daemons
