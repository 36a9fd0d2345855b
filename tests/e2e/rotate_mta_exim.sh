#!/bin/bash
# A full rotation on Debian's real Exim (dual-signed: RSA + Ed25519) with
# the records published by RFC 2136 to Knot: a message before, during
# (the rotation paused between publishing and switching) and after, each
# signed by Exim itself and verified by dkimpy against Knot; the messages
# signed before still verify after the switch (the old record stays); then
# retire (clock moved past the grace period) publishes p=, removes Exim's
# copies, and the old messages no longer verify: the key is revoked.
# Runs inside a throwaway Debian root (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root exim

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/rotate.sh"
mta_mail_env rot-e2e.test
TSIG=$KNOT_DIR/tsig.key
mta_keep_pristine /etc/exim4
mta_reset /etc/exim4
sed -i -e "s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='internet'/" \
	-e "s/^dc_use_split_config=.*/dc_use_split_config='false'/" /etc/exim4/update-exim4.conf.conf
echo "sink.test: 127.0.0.2" >/etc/exim4/hubbed_hosts
update-exim4.conf
# the daemon the proof goes through (its deliveries read the regenerated
# configuration: no reload needed)
mkdir -p /run/exim4 && chown Debian-exim:Debian-exim /run/exim4
/usr/sbin/exim4 -bdf -q30m >"$W/exim-daemon.log" 2>&1 &
EXIM_PID=$!
at_exit "mta_stop_pids $EXIM_PID"
for ((i = 0; i < 100; i++)); do (exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && break; sleep 0.1; done

ds() { "$DKIM_SETUP" "$@" --nameserver "$NS"; }

ds --batch --mta exim -d "$DOM" -s 202601 --publish --tsig-key "$TSIG" >"$W/s1.out" 2>&1
check_eq "setup: RSA selector 202601" 0 $?
ds --batch --mta exim -d "$DOM" -s 202601-ed -a ed25519 --publish --tsig-key "$TSIG" >"$W/s2.out" 2>&1
check_eq "setup: Ed25519 selector 202601-ed next to it" 0 $?
before=$(rot_send_exim)
check_eq "before: Exim signs with both old selectors, dkimpy verifies both" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$before")"
out=$(ds status); rc=$?
check_eq "status before: exit 0" 0 "$rc"
check_match "status before: both old selectors sign" "202601 +RSA-2048 .* yes +same OK .*202601-ed +Ed25519 .* yes +same OK" "$(tr '\n' ' ' <<<"$out")"

# The rotation, paused after its publish (state saved: stage published).
NEW=$(date -u +%Y%m)
check "rotation paused after publishing" rot_paused_start "renamed:/var/lib/dkim-setup/$DOM.state@2"
check_match "  ... Knot serves the new RSA record already" "^v=DKIM1; k=rsa; p=." "$(rot_served "$NEW._domainkey.$DOM")"
during=$(rot_send_exim)
check_eq "during: Exim still signs with the old selectors, both verify" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$during")"
rot_release
check_eq "rotation finishes: exit 0" 0 $?
check_match "  ... proved" "Proof: OK" "$(cat "$W/rot.out")"
check_eq "  ... Exim's domains file names the new selectors" "$DOM: $NEW-ed : $NEW" "$(grep "^$DOM" /etc/exim4/dkim/domains)"
after=$(rot_send_exim)
check_eq "after: Exim signs with the new selectors, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$after")"
check_eq "after: the message signed before still verifies (old record kept)" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$before")"
check_eq "after: the message signed during too" "pass:s=202601 pass:s=202601-ed " "$(rot_sels "$during")"
out=$(ds status)
check_match "status after: old selectors wait for their grace period" "202601 +RSA-2048 .* no +same OK +retire in 7d" "$out"
check_match "status after: new selectors sign" "$NEW +RSA-2048 .* yes +same OK" "$out"

out=$(ds retire -d "$DOM" -s 202601 --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "retire inside the grace period: refused (exit 2)" 2 "$rc"
for s in 202601 202601-ed; do
	DKIM_SETUP_TEST_NOW=+8d "$HOOK" retire -d "$DOM" -s "$s" --nameserver "$NS" --publish --tsig-key "$TSIG" >"$W/ret-$s.out" 2>&1
	check_eq "retire $s 8 days later: exit 0" 0 $?
	check_eq "  ... Knot serves the revoked record" "v=DKIM1; p=" "$(rot_served "$s._domainkey.$DOM")"
	check "  ... Exim's copy is gone" test ! -e "/etc/exim4/dkim/$DOM-$s-private.pem"
	check "  ... the master is backed up" test -n "$(ls /var/backups/dkim-setup/etc/ssl/private/$DOM-$s-private.pem.retired-* 2>/dev/null)"
done
check_match "the message signed before no longer verifies: its key is revoked" "^fail" "$(mta_verify "$before" 2>&1)"
last=$(rot_send_exim)
check_eq "Exim still signs with the new selectors, both verify" "pass:s=$NEW pass:s=$NEW-ed " "$(rot_sels "$last")"
check "update-exim4.conf still works" update-exim4.conf
