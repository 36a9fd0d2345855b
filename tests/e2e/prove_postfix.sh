#!/bin/bash
# The proof through the running OpenDKIM (issue 12): dkim-setup check --prove
# hands a test message to the milter at the socket opendkim.conf names, after
# checking that Postfix sends smtpd and non_smtpd mail there (and every
# master.cf service with milter lists of its own), and verifies
# the signature OpenDKIM returns (libopendkim) against the record Knot
# serves. Each failure admins hit is provoked for real and must end in
# exit 1 with its cause; on the good path dkimpy verifies the same message.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/prove.sh"
mta_mail_env dkim-prove.test
# the OpenDKIMs alone (start_signers, stop_signers at exit): the proof
# speaks to the milter itself, no Postfix daemon needed
. "$TOP/tests/lib/opendkim.sh"
postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "myhostname = mail.$DOM"

run_tool() {  # out-file args...
	local out=$1; shift
	"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" "$@" >"$out" 2>"$out.err"
}

# ---- RSA: the good path ----
run_tool "$W/s1.json" -s rsa1
prove_publish "$W/s1.json" rsa1
# OpenDKIM not started yet: exactly the case the issue reported
rc=$(prove_check "$W/n0.json" rsa1)
check_eq "opendkim never started: exit 1, not_running" "1 failed not_running" "$rc $(prove_outcome "$W/n0.json")"
check_match "not running: the fix starts it" "opendkim" "$(mta_json_get proof.fix <"$W/n0.json")"
# the issue's report: --batch --wait with OpenDKIM not running said "Proof: OK"
run_tool "$W/b0.json" -s rsa1 --wait 5; rc=$?
check_eq "batch --wait, opendkim not running: exit 1, proof failed: not_running" "1 failed not_running" \
	"$rc $(prove_outcome "$W/b0.json")"
check_match "batch: said in words, with the fix" "Proof: FAILED through OpenDKIM: OpenDKIM \(opendkim\) is not running.*To fix: invoke-rc.d opendkim start" \
	"$(tr '\n' ' ' <"$W/b0.json.err")"
start_signers || { not_ok "opendkim starts"; exit 1; }
t0=$(date +%s%N)
rc=$(prove_check "$W/g1.json" rsa1)
diag "proof through OpenDKIM took $(( ($(date +%s%N) - t0) / 1000000 )) ms (dkim-setup's own figure: $(mta_json_get proof.milliseconds <"$W/g1.json") ms)"
check_eq "rsa: exit 0, verified through OpenDKIM" "0 verified null OpenDKIM" \
	"$rc $(prove_outcome "$W/g1.json") $(mta_json_get proof.through <"$W/g1.json")"
v=$(prove_dkimpy "$W/g1.json"); vrc=$?
check_eq "rsa: dkimpy verifies the message OpenDKIM signed (verdicts agree)" "0 pass d=$DOM s=rsa1 a=rsa-sha256" "$vrc $v"
out=$("$DKIM_SETUP" check --prove --nameserver "$NS" -d "$DOM" -s rsa1 2>&1)
check_match "rsa: said in words" "Proof: Verified through OpenDKIM" "$out"

# ---- not hooked into non_smtpd (sendmail) mail ----
cp /etc/postfix/main.cf "$W/main.cf"
postconf -e "non_smtpd_milters ="
rc=$(prove_check "$W/h1.json" rsa1)
check_eq "milter removed from non_smtpd_milters: exit 1, not_hooked" "1 failed not_hooked" "$rc $(prove_outcome "$W/h1.json")"
check_match "not hooked: the fix puts it back" "postconf -e 'non_smtpd_milters = .*8891" "$(mta_json_get proof.fix <"$W/h1.json")"
cp "$W/main.cf" /etc/postfix/main.cf

# ---- smtpd_milter_maps (per client) overriding smtpd_milters for localhost ----
printf '127.0.0.0/8 DISABLE\n' >/etc/postfix/milter_map
postconf -e "smtpd_milter_maps = cidr:/etc/postfix/milter_map"
rc=$(prove_check "$W/mm1.json" rsa1)
check_eq "smtpd_milter_maps disables milters for 127.0.0.1: exit 1, not_hooked" "1 failed not_hooked" \
	"$rc $(prove_outcome "$W/mm1.json")"
check_match "  ... names the map and its result" "smtpd_milter_maps \(cidr:/etc/postfix/milter_map\) gives \"DISABLE\"" \
	"$(mta_json_get proof.detail <"$W/mm1.json")"
printf '127.0.0.0/8 inet:127.0.0.1:11332\n' >/etc/postfix/milter_map
rc=$(prove_check "$W/mm2.json" rsa1)
check_eq "  ... another milter list for it: not_hooked" "1 failed not_hooked" "$rc $(prove_outcome "$W/mm2.json")"
printf '127.0.0.0/8 DUNNO\n10.0.0.0/8 DISABLE\n' >/etc/postfix/milter_map
rc=$(prove_check "$W/mm3.json" rsa1)
check_eq "  ... DUNNO for it (smtpd_milters applies): verified" "0 verified null" "$rc $(prove_outcome "$W/mm3.json")"
cp "$W/main.cf" /etc/postfix/main.cf
rm /etc/postfix/milter_map

# ---- a master.cf service with milters of its own (submission, as guides set it) ----
cp /etc/postfix/master.cf "$W/master.cf"
cat >>/etc/postfix/master.cf <<'MC'
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_milters=inet:127.0.0.1:11332
MC
rc=$(prove_check "$W/sv1.json" rsa1)
check_eq "submission's own smtpd_milters without OpenDKIM: exit 1, not_hooked" "1 failed not_hooked" \
	"$rc $(prove_outcome "$W/sv1.json")"
check_match "  ... names the service" "master.cf service submission/inet .*sets its own smtpd_milters" \
	"$(mta_json_get proof.detail <"$W/sv1.json")"
fix=$(mta_json_get proof.fix <"$W/sv1.json")
check_match "  ... the fix adds it there" "^postconf -P 'submission/inet/smtpd_milters=inet:127.0.0.1:11332,.*8891' && postfix reload$" "$fix"
bash -c "${fix%% && *}"   # its postconf part (no Postfix daemon here to reload)
check_match "  ... which postconf -P then shows" "^submission/inet/smtpd_milters = inet:127.0.0.1:11332,.*8891" \
	"$(postconf -P submission/inet/smtpd_milters)"
rc=$(prove_check "$W/sv2.json" rsa1)
check_eq "  ... after it, verified through OpenDKIM" "0 verified null" "$rc $(prove_outcome "$W/sv2.json")"
sed -i 's/^  -o smtpd_milters=.*/  -o smtpd_milters=/' /etc/postfix/master.cf
rc=$(prove_check "$W/sv3.json" rsa1)
check_eq "a service that turns milters off (empty list) is left to the admin: verified" "0 verified null" \
	"$rc $(prove_outcome "$W/sv3.json")"
cp "$W/master.cf" /etc/postfix/master.cf

# ---- SigningTable pointing at another selector ----
cp /etc/opendkim/signing.table /etc/opendkim/key.table "$W/"
echo "other._domainkey.$DOM $DOM:other:/etc/dkimkeys/$DOM-rsa1.private" >>/etc/opendkim/key.table
sed -i "s/rsa1._domainkey.$DOM/other._domainkey.$DOM/" /etc/opendkim/signing.table
start_signers
rc=$(prove_check "$W/o1.json" rsa1)
check_eq "SigningTable at another selector: exit 1, other_selector" "1 failed other_selector" "$rc $(prove_outcome "$W/o1.json")"
check_match "other selector: named" "selector other" "$(mta_json_get proof.detail <"$W/o1.json")"
cp "$W/signing.table" "$W/key.table" /etc/opendkim/
start_signers

# ---- the key copy unreadable to opendkim ----
COPY=/etc/dkimkeys/$DOM-rsa1.private
chown root:root "$COPY"
rc=$(prove_check "$W/u1.json" rsa1)
check_eq "copy unreadable to opendkim: exit 1, key_unreadable" "1 failed key_unreadable" "$rc $(prove_outcome "$W/u1.json")"
check_match "unreadable: the fix gives it back" "chown opendkim:opendkim $COPY" "$(mta_json_get proof.fix <"$W/u1.json")"
chown opendkim:opendkim "$COPY"

# ---- the copy replaced by another key (stale copy) ----
cp -p "$COPY" "$W/copy.bak"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/other.pem" 2>/dev/null
cat "$W/other.pem" >"$COPY"
rc=$(prove_check "$W/k1.json" rsa1)
check_eq "copy replaced by another key: exit 1, other_key" "1 failed other_key" "$rc $(prove_outcome "$W/k1.json")"
cp -p "$W/copy.bak" "$COPY"

# ---- DNS changed after setup ----
knot_set_txt "rsa1._domainkey" "$(cat "$TOP/tests/data/rsa2048.record")"
rc=$(prove_check "$W/d1.json" rsa1)
check_eq "DNS changed after setup: exit 1, dns_differs" "1 failed dns_differs" "$rc $(prove_outcome "$W/d1.json")"
v=$(prove_dkimpy "$W/d1.json"); vrc=$?
check_eq "DNS changed: dkimpy fails the same message too (verdicts agree)" "1 fail" "$vrc ${v%% *}"
prove_publish "$W/s1.json" rsa1

# ---- --mta none: no proof claimed ----
rc=$(prove_check "$W/m1.json" rsa1 --mta none)
check_eq "--mta none: exit 0, key_matches, nothing went through a signer" "0 key_matches null null" \
	"$rc $(prove_outcome "$W/m1.json") $(mta_json_get proof.through <"$W/m1.json")"

# ---- RSA + Ed25519: two filters ----
run_tool "$W/s2.json" -s ed1 -a ed25519
prove_publish "$W/s2.json" ed1
start_signers
rc=$(prove_check "$W/g2.json" rsa1)
check_eq "dual: exit 0, verified" "0 verified null" "$rc $(prove_outcome "$W/g2.json")"
check_eq "dual: both signatures verified" "ed1 true rsa1 true" \
	"$(/usr/bin/python3 -c '
import json,sys
p=json.load(open(sys.argv[1]))["proof"]
print(" ".join(sorted("%s %s" % (s["selector"], str(s["verified"]).lower()) for s in p["signatures"])))' "$W/g2.json")"
v=$(prove_dkimpy "$W/g2.json"); vrc=$?
check_eq "dual: dkimpy verifies both signatures (verdicts agree)" "0 2" "$vrc $(grep -c '^pass' <<<"$v")"
rc=$(prove_check "$W/g3.json" ed1)
check_eq "dual: the Ed25519 selector proved on its own" "0 verified" "$rc $(mta_json_get proof.status <"$W/g3.json")"
kill "$ED_PID"; wait "$ED_PID" 2>/dev/null; ED_PID=
rc=$(prove_check "$W/n2.json" ed1)
check_eq "Ed25519 filter stopped: exit 1, not_running" "1 failed not_running" "$rc $(prove_outcome "$W/n2.json")"
check_match "Ed25519 filter stopped: its service named" "opendkim-ed25519|opendkim -x /etc/opendkim-ed25519.conf" \
	"$(mta_json_get proof.fix <"$W/n2.json")"
diag "outcomes: $(for f in n0 g1 h1 mm1 mm2 mm3 sv1 sv2 sv3 o1 u1 k1 d1 m1 g2 g3 n2; do printf '%s=%s/%s ' $f "$(mta_json_get proof.status <"$W/$f.json")" "$(mta_json_get proof.cause <"$W/$f.json")"; done)"
for f in n0 h1 o1 u1 k1 d1 n2; do diag "$f: $(mta_json_get proof.detail <"$W/$f.json") | fix: $(mta_json_get proof.fix <"$W/$f.json")"; done
exit $T_FAILED
