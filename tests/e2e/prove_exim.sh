#!/bin/bash
# The proof through Exim (issue 12): dkim-setup check --prove submits a test
# message to the running Exim on 127.0.0.1:25 for a fresh .invalid domain
# that Debian's hubbed_hosts router sends to a listener dkim-setup opens on
# 127.0.0.2 for the moment; Exim's own remote_smtp transport signs it on the
# way out and the arrival is verified against the record Knot serves. Each
# failure is provoked for real; on the good path dkimpy agrees. Unsplit,
# split, and a smarthost (through remote_smtp, which Debian's hubbed_hosts
# router lends; the smarthost transport must have the same dkim_* options).
# Runs in a throwaway Debian root with exim4-daemon-light (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root exim

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/prove.sh"
mta_mail_env dkim-prove.test
mta_keep_pristine /etc/exim4
EXIM_PID=
stop_exim() {
	# shellcheck disable=SC2086
	mta_stop_pids $EXIM_PID
	EXIM_PID=
}
at_exit stop_exim
start_exim() {
	stop_exim
	mkdir -p /run/exim4 && chown Debian-exim:Debian-exim /run/exim4
	/usr/sbin/exim4 -bdf -q30m >"$W/exim.log" 2>&1 &
	EXIM_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && return 0
		sleep 0.1
	done
	diag "exim did not come up: $(tail -3 "$W/exim.log")"
	return 1
}
reset_exim() {  # split|unsplit [configtype]
	stop_exim
	mta_reset /etc/exim4
	local split=false type=${2:-internet}
	[ "$1" = split ] && split=true
	sed -i -e "s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='$type'/" \
		-e "s/^dc_use_split_config=.*/dc_use_split_config='$split'/" \
		-e "s/^dc_smarthost=.*/dc_smarthost='127.0.0.2'/" /etc/exim4/update-exim4.conf.conf
	# Exim's own log where the test can read it (there is no syslog here)
	update-exim4.conf
}
run_tool() {  # out-file args...
	local out=$1; shift
	"$DKIM_SETUP" --batch --json --mta exim --nameserver "$NS" -d "$DOM" "$@" >"$out" 2>"$out.err"
}

# ---- unsplit, RSA ----
reset_exim unsplit
run_tool "$W/s1.json" -s rsa1
prove_publish "$W/s1.json" rsa1
rc=$(prove_check "$W/n0.json" rsa1)
check_eq "exim not running: exit 1, not_running" "1 failed not_running" "$rc $(prove_outcome "$W/n0.json")"
start_exim || { not_ok "exim starts"; exit 1; }
hubbed_before=$(md5sum /etc/exim4/hubbed_hosts 2>&1)
rc=$(prove_check "$W/g1.json" rsa1)
check_eq "unsplit: exit 0, verified through Exim" "0 verified null Exim" \
	"$rc $(prove_outcome "$W/g1.json") $(mta_json_get proof.through <"$W/g1.json")"
[ "$rc" = 0 ] || diag "g1: $(mta_json_get proof.detail <"$W/g1.json") | $(tail -n 5 /var/log/exim4/mainlog 2>/dev/null | tr '\n' '|')"
v=$(prove_dkimpy "$W/g1.json"); vrc=$?
check_eq "unsplit: dkimpy verifies what arrived (verdicts agree)" "0 pass d=$DOM s=rsa1 a=rsa-sha256" "$vrc $v"
check_eq "unsplit: hubbed_hosts is as it was" "$hubbed_before" "$(md5sum /etc/exim4/hubbed_hosts 2>&1)"
check_eq "unsplit: nothing left in Exim's queue" "0" "$(exim4 -bpc)"

# the key copy unreadable to Debian-exim
COPY=/etc/exim4/dkim/$DOM-rsa1-private.pem
chmod 0600 "$COPY"
rc=$(prove_check "$W/u1.json" rsa1)
check_eq "copy unreadable to Debian-exim: exit 1, key_unreadable" "1 failed key_unreadable" "$rc $(prove_outcome "$W/u1.json")"
chmod 0640 "$COPY"

# the copy replaced by another key
cp -p "$COPY" "$W/copy.bak"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/other.pem" 2>/dev/null
cat "$W/other.pem" >"$COPY"
rc=$(prove_check "$W/k1.json" rsa1)
check_eq "copy replaced by another key: exit 1, other_key" "1 failed other_key" "$rc $(prove_outcome "$W/k1.json")"
cp -p "$W/copy.bak" "$COPY"

# Exim's domain list names another selector
cp -p /etc/exim4/dkim/domains "$W/domains"
sed -i "s/rsa1/other/" /etc/exim4/dkim/domains
cp -p "$COPY" "/etc/exim4/dkim/$DOM-other-private.pem"
rc=$(prove_check "$W/o1.json" rsa1)
check_eq "exim at another selector: exit 1, other_selector" "1 failed other_selector" "$rc $(prove_outcome "$W/o1.json")"
cp -p "$W/domains" /etc/exim4/dkim/domains
rm -f "/etc/exim4/dkim/$DOM-other-private.pem"

# DNS changed after setup
knot_set_txt "rsa1._domainkey" "$(cat "$TOP/tests/data/rsa2048.record")"
rc=$(prove_check "$W/d1.json" rsa1)
check_eq "DNS changed after setup: exit 1, dns_differs" "1 failed dns_differs" "$rc $(prove_outcome "$W/d1.json")"
prove_publish "$W/s1.json" rsa1
check_eq "after the failures: nothing left in Exim's queue" "0" "$(exim4 -bpc)"

# ---- split, RSA + Ed25519 ----
reset_exim split
run_tool "$W/s2.json" -s rsa2
run_tool "$W/s3.json" -s ed2 -a ed25519
prove_publish "$W/s2.json" rsa2
prove_publish "$W/s3.json" ed2
start_exim
rc=$(prove_check "$W/g2.json" rsa2)
check_eq "split dual: exit 0, verified through Exim" "0 verified null" "$rc $(prove_outcome "$W/g2.json")"
[ "$rc" = 0 ] || diag "g2: $(mta_json_get proof.detail <"$W/g2.json")"
v=$(prove_dkimpy "$W/g2.json"); vrc=$?
check_eq "split dual: dkimpy verifies both signatures (verdicts agree)" "0 2" "$vrc $(grep -c '^pass' <<<"$v")"
rc=$(prove_check "$W/g3.json" ed2)
check_eq "split dual: the Ed25519 selector proved" "0 verified" "$rc $(mta_json_get proof.status <"$W/g3.json")"

# ---- smarthost (split): through remote_smtp, which hubbed_hosts lends; the
# smarthost transport must have the same dkim_* options ----
reset_exim split smarthost
run_tool "$W/s4.json" -s rsa3
prove_publish "$W/s4.json" rsa3
start_exim
rc=$(prove_check "$W/m1.json" rsa3)
check_eq "smarthost: exit 0, verified through Exim" "0 verified null" "$rc $(prove_outcome "$W/m1.json")"
check_match "smarthost: says the smarthost transport signs alike" "remote_smtp_smarthost, whose dkim_\* options are the same" \
	"$(mta_json_get proof.detail <"$W/m1.json")"
v=$(prove_dkimpy "$W/m1.json"); vrc=$?
check_eq "smarthost: dkimpy verifies the message Exim signed" "0 pass d=$DOM s=rsa3 a=rsa-sha256" \
	"$vrc $(grep ' s=rsa3 ' <<<"$v")"
# the admin's own smarthost transport without DKIM (Debian's, as shipped)
rm /etc/exim4/conf.d/transport/30_exim4-config_remote_smtp_smarthost.rul
update-exim4.conf
start_exim
rc=$(prove_check "$W/m2.json" rsa3)
check_eq "smarthost transport without dkim_* options: exit 1, not_hooked" "1 failed not_hooked" \
	"$rc $(prove_outcome "$W/m2.json")"
check_match "  ... says mail to the smarthost leaves unsigned" "remote_smtp_smarthost transport, whose dkim_\* options \(no dkim_\* options set\)" \
	"$(mta_json_get proof.detail <"$W/m2.json")"
check_match "  ... the fix runs dkim-setup again" "^dkim-setup --batch -d $DOM -s rsa3 -m exim" "$(mta_json_get proof.fix <"$W/m2.json")"
run_tool "$W/s5.json" -s rsa3
start_exim
rc=$(prove_check "$W/m3.json" rsa3)
check_eq "  ... after it, verified" "0 verified null" "$rc $(prove_outcome "$W/m3.json")"
diag "outcomes: $(for f in n0 g1 u1 k1 o1 d1 g2 g3 m1 m2 m3; do printf '%s=%s/%s ' $f "$(mta_json_get proof.status <"$W/$f.json")" "$(mta_json_get proof.cause <"$W/$f.json")"; done)"
for f in n0 u1 k1 o1 d1 m1 m2; do diag "$f: $(mta_json_get proof.detail <"$W/$f.json") | fix: $(mta_json_get proof.fix <"$W/$f.json")"; done
exit $T_FAILED
