#!/bin/bash
# The proof through the running rspamd (issue 12): dkim-setup check --prove
# hands a test message to rspamd's proxy worker (a milter on 127.0.0.1:11332)
# after checking Postfix's smtpd_milters and non_smtpd_milters, and verifies
# what rspamd signed against the record Knot serves. Each failure is
# provoked for real; on the good path dkimpy verifies the same message.
# Runs in a throwaway Debian root with postfix and rspamd (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
need_root

if [ "${MTA_INNER:-}" != 1 ]; then
	. "$TOP/tests/lib/mta.sh"
	command -v unshare >/dev/null || skip_all "needs unshare"
	troot_ensure mta-rspamd "$MTA_RSPAMD_PKGS" ||
		{ not_ok "a Debian root with postfix and rspamd (see build/roots/mta-rspamd.log)"; exit 1; }
	troot_new mta-rspamd || { not_ok "a copy of the root mta-rspamd"; exit 1; }
	MTA_INNER=1 troot_run bash "$(realpath "$0")"
	exit $?
fi

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/prove.sh"
. "$TOP/tests/lib/mta.sh"
mta_mail_env dkim-prove.test
postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "myhostname = mail.$DOM"
# no DNS here: rspamd's resolver and RBLs would only time out
printf 'nameserver = "127.0.0.1:%s";\ntimeout = 1s;\nretransmits = 1;\n' "$KNOT_PORT" >/etc/rspamd/local.d/options.inc
RSPAMD_PID=
stop_rspamd() {
	# shellcheck disable=SC2086
	mta_stop_pids $RSPAMD_PID
	RSPAMD_PID=
}
at_exit stop_rspamd
start_rspamd() {
	stop_rspamd
	mkdir -p /run/rspamd /var/lib/rspamd /var/log/rspamd
	chown _rspamd:_rspamd /run/rspamd /var/lib/rspamd /var/log/rspamd
	setsid /usr/bin/rspamd -f -u _rspamd -g _rspamd >"$W/rspamd.log" 2>&1 &
	RSPAMD_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/11332) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/11333) 2>/dev/null && return 0
		sleep 0.1
	done
	diag "rspamd did not come up: $(tail -3 "$W/rspamd.log" | tr '\n' '|')"
	return 1
}
run_tool() {  # out-file args...
	local out=$1; shift
	"$DKIM_SETUP" --batch --json --mta rspamd --nameserver "$NS" -d "$DOM" "$@" >"$out" 2>"$out.err"
}

run_tool "$W/s1.json" -s rsa1
prove_publish "$W/s1.json" rsa1
rc=$(prove_check "$W/n0.json" rsa1)
check_eq "rspamd not started: exit 1, not_running" "1 failed not_running" "$rc $(prove_outcome "$W/n0.json")"
start_rspamd || { not_ok "rspamd starts"; exit 1; }
rc=$(prove_check "$W/g1.json" rsa1)
check_eq "rsa: exit 0, verified through rspamd" "0 verified null rspamd" \
	"$rc $(prove_outcome "$W/g1.json") $(mta_json_get proof.through <"$W/g1.json")"
[ "$rc" = 0 ] || diag "$(mta_json_get proof.detail <"$W/g1.json")"
v=$(prove_dkimpy "$W/g1.json"); vrc=$?
check_eq "rsa: dkimpy verifies the message rspamd signed (verdicts agree)" "0 pass d=$DOM s=rsa1 a=rsa-sha256" "$vrc $v"

# not hooked into smtpd mail
cp /etc/postfix/main.cf "$W/main.cf"
postconf -e "smtpd_milters ="
rc=$(prove_check "$W/h1.json" rsa1)
check_eq "rspamd removed from smtpd_milters: exit 1, not_hooked" "1 failed not_hooked" "$rc $(prove_outcome "$W/h1.json")"
cp "$W/main.cf" /etc/postfix/main.cf

# the key copy unreadable to _rspamd
COPY=/etc/rspamd/dkim/$DOM.rsa1.key
chmod 0600 "$COPY"
start_rspamd   # a running rspamd keeps the key it read: as after a reboot
rc=$(prove_check "$W/u1.json" rsa1)
check_eq "copy unreadable to _rspamd: exit 1, key_unreadable" "1 failed key_unreadable" "$rc $(prove_outcome "$W/u1.json")"
chmod 0640 "$COPY"
start_rspamd

# the copy replaced by another key
cp -p "$COPY" "$W/copy.bak"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/other.pem" 2>/dev/null
cat "$W/other.pem" >"$COPY"
start_rspamd   # rspamd may cache a key it has read
rc=$(prove_check "$W/k1.json" rsa1)
check_eq "copy replaced by another key: exit 1, other_key" "1 failed other_key" "$rc $(prove_outcome "$W/k1.json")"
cp -p "$W/copy.bak" "$COPY"
start_rspamd

# the configuration names another selector
cp /etc/rspamd/local.d/dkim_signing.conf "$W/dkim_signing.conf"
sed -i 's/selector = "rsa1"/selector = "other"/' /etc/rspamd/local.d/dkim_signing.conf
if ! grep -q '"other"' /etc/rspamd/local.d/dkim_signing.conf; then
	diag "dkim_signing.conf: $(tr '\n' '|' </etc/rspamd/local.d/dkim_signing.conf)"
fi
cp -p "$COPY" "/etc/rspamd/dkim/$DOM.other.key"
sed -i "s/$DOM.rsa1.key/$DOM.other.key/" /etc/rspamd/local.d/dkim_signing.conf
start_rspamd
rc=$(prove_check "$W/o1.json" rsa1)
check_eq "rspamd at another selector: exit 1, other_selector" "1 failed other_selector" "$rc $(prove_outcome "$W/o1.json")"
cp "$W/dkim_signing.conf" /etc/rspamd/local.d/dkim_signing.conf
start_rspamd

# DNS changed after setup
knot_set_txt "rsa1._domainkey" "$(cat "$TOP/tests/data/rsa2048.record")"
rc=$(prove_check "$W/d1.json" rsa1)
check_eq "DNS changed after setup: exit 1, dns_differs" "1 failed dns_differs" "$rc $(prove_outcome "$W/d1.json")"
prove_publish "$W/s1.json" rsa1

# RSA + Ed25519 from one configuration
run_tool "$W/s2.json" -s ed1 -a ed25519
prove_publish "$W/s2.json" ed1
start_rspamd
rc=$(prove_check "$W/g2.json" rsa1)
check_eq "dual: exit 0, verified" "0 verified null" "$rc $(prove_outcome "$W/g2.json")"
v=$(prove_dkimpy "$W/g2.json"); vrc=$?
check_eq "dual: dkimpy verifies both signatures (verdicts agree)" "0 2" "$vrc $(grep -c '^pass' <<<"$v")"
rc=$(prove_check "$W/g3.json" ed1)
check_eq "dual: the Ed25519 selector proved" "0 verified" "$rc $(mta_json_get proof.status <"$W/g3.json")"
diag "outcomes: $(for f in n0 g1 h1 u1 k1 o1 d1 g2 g3; do printf '%s=%s/%s ' $f "$(mta_json_get proof.status <"$W/$f.json")" "$(mta_json_get proof.cause <"$W/$f.json")"; done)"
for f in n0 h1 u1 k1 o1 d1; do diag "$f: $(mta_json_get proof.detail <"$W/$f.json") | fix: $(mta_json_get proof.fix <"$W/$f.json")"; done
exit $T_FAILED
