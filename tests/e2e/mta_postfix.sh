#!/bin/bash
# Debian 12's Postfix + OpenDKIM, configured by the real tool: mail
# submitted over SMTP (smtpd_milters, chrooted smtpd) and through sendmail
# (non_smtpd_milters) reaches an SMTP sink on 127.0.0.2 signed, and dkimpy
# verifies every signature against the record served by Knot.
# Also: a milter already configured survives, a re-run is a no-op, a broken
# opendkim.conf is rolled back, Ed25519 is refused with the reason.
# The body runs inside a throwaway Debian root with postfix and opendkim
# (tests/lib/troot.sh: its own mount, network and pid namespaces, only lo):
# the host's packages and /etc are never touched.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
mta_mail_env dkim-e2e.test
# The packaged state, to reset to between cases.
mta_keep_pristine /etc/postfix /etc/opendkim.conf /etc/dkimkeys
. "$TOP/tests/lib/opendkim.sh"

run_tool() {  # out-file args...
	local out=$1; shift
	"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" "$@" >"$out" 2>"$out.err"
}

publish() {  # json-file selector
	mapfile -t strs < <(mta_json_strings <"$1")
	knot_set_txt "$2._domainkey" "${strs[@]}"
}

snapshot() {
	find /etc/postfix /etc/opendkim.conf /etc/opendkim /etc/dkimkeys /etc/ssl/private \
		/etc/opendkim-ed25519.conf /etc/systemd/system/opendkim-ed25519.service \
		-printf '%p %m %u %g %s %T@\n' 2>/dev/null | sort
}

# ---- Postfix + OpenDKIM, with a milter already there ----
reset_postfix
postconf -e "smtpd_milters = { inet:127.0.0.1:9999, default_action=accept }"
run_tool "$W/p1.json" -s rsa1
check_eq "postfix: configured and validated" "true true" \
	"$(mta_json_get mta.changed <"$W/p1.json") $(mta_json_get mta.validated <"$W/p1.json")"
check_eq "postfix: signer's copy 0600 opendkim:opendkim" "600 opendkim opendkim" \
	"$(stat -c '%a %U %G' /etc/dkimkeys/$DOM-rsa1.private 2>&1)"
check_eq "postfix: /etc/dkimkeys root:opendkim 0750, kept by dpkg-statoverride" "750 root opendkim|root opendkim 750 /etc/dkimkeys" \
	"$(stat -c '%a %U %G' /etc/dkimkeys)|$(dpkg-statoverride --list /etc/dkimkeys)"
check "postfix: opendkim can read the copy" su -s /bin/sh opendkim -c "test -r /etc/dkimkeys/$DOM-rsa1.private"
check "postfix: nobody cannot read the copy" su -s /bin/sh nobody -c "! test -r /etc/dkimkeys/$DOM-rsa1.private"
check_match "postfix: the milter already there survives, ours is added" \
	'^\{ inet:127.0.0.1:9999, default_action=accept \}, \{ inet:127.0.0.1:8891, default_action=accept \}$' \
	"$(postconf -h smtpd_milters)"
check_eq "postfix: non_smtpd_milters has our milter" "{ inet:127.0.0.1:8891, default_action=accept }" \
	"$(postconf -h non_smtpd_milters)"
check_eq "postfix: milter_default_action left alone" "$(postconf -d -h milter_default_action)" \
	"$(postconf -h milter_default_action)"
check_eq "postfix: one KeyTable entry" "1" "$(grep -c "^rsa1._domainkey.$DOM " /etc/opendkim/key.table)"
publish "$W/p1.json" rsa1
start_daemons || { not_ok "postfix and opendkim start"; exit 1; }
m=$(mta_send_smtp "user@$DOM")
check "postfix smtpd: the sink got the message" test -n "$m"
v=$(mta_verify "$m"); rc=$?
check_eq "postfix smtpd (chrooted) RSA: dkimpy verifies the one signature" "0 pass d=$DOM s=rsa1 a=rsa-sha256" "$rc $v"
m=$(mta_send_sendmail "user@$DOM")
v=$(mta_verify "$m"); rc=$?
check_eq "postfix sendmail RSA: dkimpy verifies the one signature" "0 pass d=$DOM s=rsa1 a=rsa-sha256" "$rc $v"
m=$(mta_send_sendmail "user@other.test")
check "postfix: mail from another domain is not signed" bash -c "test -n '$m' && ! grep -qi '^DKIM-Signature' '$m'"

# ---- re-run: a no-op ----
before=$(snapshot)
run_tool "$W/p2.json" -s rsa1 --wait 5; rc=$?
check_eq "re-run: nothing to do, nothing changed" "true false" \
	"$(mta_json_get mta.nothing_to_do <"$W/p2.json") $(mta_json_get mta.changed <"$W/p2.json")"
check_eq "re-run: no file, mode or owner changed" "$before" "$(snapshot)"
check_eq "re-run with --wait: exit 0 and the proof verifies against DNS" "0 true" \
	"$rc $(mta_json_get proof.verified <"$W/p2.json")"

# ---- RSA + Ed25519: a second OpenDKIM ----
run_tool "$W/p3.json" -s ed1 -a ed25519
check_eq "ed25519: a second filter instance, validated" "true true" \
	"$(mta_json_get mta.ed25519 <"$W/p3.json") $(mta_json_get mta.validated <"$W/p3.json")"
check_match "ed25519: the milters: theirs, RSA, Ed25519 in that order" \
	'9999.*8891.*8892' "$(postconf -h smtpd_milters)"
check_eq "ed25519: still one KeyTable entry per selector" "1 1" \
	"$(grep -c "^rsa1._domainkey.$DOM " /etc/opendkim/key.table) $(grep -c "^ed1._domainkey.$DOM " /etc/opendkim/key-ed25519.table)"
publish "$W/p3.json" ed1
start_daemons || not_ok "postfix and both opendkims start"
m=$(mta_send_smtp "user@$DOM")
v=$(mta_verify "$m"); rc=$?
check_match "dual smtpd: dkimpy verifies the Ed25519 signature" "pass d=$DOM s=ed1 a=ed25519-sha256" "$v"
check_eq "dual smtpd: two signatures, all pass" "0 2" "$rc $(grep -c '^pass' <<<"$v")"
m=$(mta_send_sendmail "user@$DOM")
v=$(mta_verify "$m"); rc=$?
check_eq "dual sendmail: two signatures, all pass" "0 2" "$rc $(grep -c '^pass' <<<"$v")"
before=$(snapshot)
run_tool "$W/p4.json" -s rsa1
check_eq "dual re-run: nothing to do, nothing changed" "true false" \
	"$(mta_json_get mta.nothing_to_do <"$W/p4.json") $(mta_json_get mta.changed <"$W/p4.json")"
check_eq "dual re-run: no file, mode or owner changed" "$before" "$(snapshot)"
stop_daemons

# ---- a broken opendkim.conf is rolled back ----
echo "BogusOption yes" >>/etc/opendkim.conf
files="/etc/opendkim.conf /etc/postfix/main.cf /etc/opendkim/key.table /etc/opendkim/signing.table /etc/opendkim-ed25519.conf"
conf_before=$(md5sum $files)
# /etc/dkimkeys as the package makes it (opendkim:opendkim 0700): the run
# makes it root:opendkim 0750, and the rollback must put that back too.
chown opendkim:opendkim /etc/dkimkeys && chmod 0700 /etc/dkimkeys
run_tool "$W/r1.json" -s rsa2; rc=$?
check_eq "rollback: status 3, rolled back" "3 true" "$rc $(mta_json_get mta.rolled_back <"$W/r1.json")"
check_eq "rollback: every file restored" "$conf_before" \
	"$(md5sum $files)"
check_eq "rollback: /etc/dkimkeys owner and mode restored" "opendkim:opendkim 700" \
	"$(stat -c '%U:%G %a' /etc/dkimkeys)"
chown root:opendkim /etc/dkimkeys && chmod 0750 /etc/dkimkeys
check "rollback: the new key copy is removed" test ! -e /etc/dkimkeys/$DOM-rsa2.private
