#!/bin/bash
# Debian 12's Postfix + rspamd 3.4, configured by the real tool without
# --mta (rspamd is installed, so it is the signer, and OpenDKIM is never
# added beside it): mail submitted over SMTP (smtpd_milters) and through
# sendmail (non_smtpd_milters) passes rspamd's proxy worker (a milter, no
# redis) and reaches an SMTP sink on 127.0.0.2 signed; dkimpy verifies every
# signature against the record served by Knot, RSA alone and RSA+Ed25519.
# Also: a milter already there survives, a re-run is a no-op, someone else's
# rspamd DKIM settings are refused naming the file, and a configuration
# rspamadm configtest rejects is rolled back.
# The body runs in a throwaway Debian root (tests/lib/troot.sh: its own
# mount, network and pid namespaces, only lo): the host is never touched.
. "$TOP/tests/lib/lib.sh"
need_root

if [ "${MTA_INNER:-}" != 1 ]; then
	[ -f "$TOP/tests/lib/troot.sh" ] || skip_all "needs tests/lib/troot.sh (throwaway roots, issue 10)"
	. "$TOP/tests/lib/mta.sh"   # MTA_RSPAMD_PKGS, and troot.sh
	command -v unshare >/dev/null || skip_all "needs unshare"
	start=$SECONDS
	troot_ensure mta-rspamd "$MTA_RSPAMD_PKGS" ||
		{ not_ok "a Debian root with postfix and rspamd (see build/roots/mta-rspamd.log)"; exit 1; }
	troot_new mta-rspamd || { not_ok "a copy of the root mta-rspamd"; exit 1; }
	diag "root mta-rspamd ready in $((SECONDS - start)) s"
	MTA_INNER=1 troot_run bash "$(realpath "$0")"
	exit $?
fi

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/mta.sh"
mta_mail_env dkim-e2e.test

PRISTINE=$W/pristine.tar
tar -C / -cpf "$PRISTINE" etc/postfix etc/rspamd
MASTER_PID= RSPAMD_PID=

reset_postfix() {
	rm -rf /etc/postfix /etc/rspamd /var/backups/dkim-setup
	tar -C / -xpf "$PRISTINE"
	postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"transport_maps = inline:{ sink.test=smtp:[127.0.0.2]:25 }" \
		"maillog_file_prefixes = /var, /dev/stdout, /tmp" "maillog_file = $W/maillog" \
		"mydestination = localhost" "myhostname = mail.$DOM" "smtp_tls_security_level = none"
	# no DNS here: rspamd's resolver and RBLs would only time out
	printf 'nameserver = "127.0.0.1:%s";\ntimeout = 1s;\nretransmits = 1;\n' "$KNOT_PORT" \
		>/etc/rspamd/local.d/options.inc
}

stop_daemons() {
	# shellcheck disable=SC2086
	mta_stop_pids $MASTER_PID $RSPAMD_PID
	MASTER_PID= RSPAMD_PID=
}
at_exit stop_daemons

start_daemons() {
	stop_daemons
	mkdir -p /run/rspamd /var/lib/rspamd /var/log/rspamd
	chown _rspamd:_rspamd /run/rspamd /var/lib/rspamd /var/log/rspamd
	setsid /usr/bin/rspamd -f -u _rspamd -g _rspamd >"$W/rspamd.log" 2>&1 &
	RSPAMD_PID=$!
	setsid /usr/lib/postfix/sbin/master -d >"$W/master.log" 2>&1 &
	MASTER_PID=$!
	for ((i = 0; i < 300; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/11332) 2>/dev/null &&
			(exec 3<>/dev/tcp/127.0.0.1/11333) 2>/dev/null && return 0
		sleep 0.1
	done
	diag "daemons did not come up: $(tail -3 "$W/master.log" "$W/rspamd.log" 2>/dev/null | tr '\n' '|')"
	return 1
}

run_tool() {  # out-file args... (no --mta: rspamd must be detected)
	local out=$1; shift
	"$DKIM_SETUP" --batch --json --nameserver "$NS" -d "$DOM" "$@" >"$out" 2>"$out.err"
}

json_get() { mta_json_get "$@"; }

publish() {  # json-file selector
	mapfile -t strs < <(mta_json_strings <"$1")
	knot_set_txt "$2._domainkey" "${strs[@]}"
}

mta_diag() {  # what the daemons said about a message that did not arrive
	diag "no message $1 at the sink; mail log: $(tail -n 4 "$W/maillog" 2>/dev/null | tr '\n' '|')"
	diag "rspamd: $(grep -i dkim /var/log/rspamd/rspamd.log 2>/dev/null | tail -n 3 | tr '\n' '|')"
}

# ---- RSA alone, with a milter already there ----
reset_postfix
postconf -e "smtpd_milters = { inet:127.0.0.1:9999, default_action=accept }"
opendkim_before=$(ls -d /etc/opendkim* /etc/dkimkeys 2>/dev/null)
run_tool "$W/r1.json" -s rsa1
check_eq "rspamd detected without --mta, configured and validated" "rspamd true true" \
	"$(json_get mta.name <"$W/r1.json") $(json_get mta.changed <"$W/r1.json") $(json_get mta.validated <"$W/r1.json")"
check_match "  ... checked by rspamadm configtest" 'rspamadm configtest: syntax OK' "$(json_get mta.validator <"$W/r1.json")"
check_eq "  ... the key copy 0640 root:_rspamd in a 0750 root:_rspamd directory" "640 root _rspamd|750 root _rspamd" \
	"$(stat -c '%a %U %G' /etc/rspamd/dkim/$DOM.rsa1.key 2>&1)|$(stat -c '%a %U %G' /etc/rspamd/dkim 2>&1)"
check "  ... _rspamd can read the copy" su -s /bin/sh _rspamd -c "test -r /etc/rspamd/dkim/$DOM.rsa1.key"
check "  ... nobody cannot" su -s /bin/sh nobody -c "! test -r /etc/rspamd/dkim/$DOM.rsa1.key"
check_eq "  ... the milter already there survives, rspamd's is added" \
	"{ inet:127.0.0.1:9999, default_action=accept }, { inet:127.0.0.1:11332, default_action=accept }" \
	"$(postconf -h smtpd_milters)"
check_eq "  ... non_smtpd_milters has rspamd's" "{ inet:127.0.0.1:11332, default_action=accept }" \
	"$(postconf -h non_smtpd_milters)"
check_eq "  ... no OpenDKIM beside it" "$opendkim_before" "$(ls -d /etc/opendkim* /etc/dkimkeys 2>/dev/null)"
publish "$W/r1.json" rsa1
if start_daemons; then
	if m=$(mta_send_smtp "shop@$DOM"); then
		check "RSA: mail over SMTP is signed and dkimpy verifies it" mta_verify "$m"
	else
		not_ok "RSA: mail over SMTP reached the sink"
	fi
	if m=$(mta_send_sendmail "shop@$DOM"); then
		check_eq "RSA: mail through sendmail is signed with rsa1 alone, dkimpy verifies it" \
			"pass d=$DOM s=rsa1 a=rsa-sha256" "$(mta_verify "$m")"
	else
		not_ok "RSA: mail through sendmail reached the sink"
	fi
else
	not_ok "postfix and rspamd start"
fi
run_tool "$W/r2.json" -s rsa1
check_eq "a re-run has nothing to do" "true false" \
	"$(json_get mta.nothing_to_do <"$W/r2.json") $(json_get mta.changed <"$W/r2.json")"

# ---- RSA + Ed25519 from one configuration ----
run_tool "$W/e1.json" -s ed1 -a ed25519
check_eq "Ed25519 next to RSA: configured" "rspamd true true" \
	"$(json_get mta.name <"$W/e1.json") $(json_get mta.ed25519 <"$W/e1.json") $(json_get mta.validated <"$W/e1.json")"
publish "$W/e1.json" ed1
if start_daemons; then
	if m=$(mta_send_smtp "shop@$DOM"); then
		check "RSA+Ed25519: every signature verifies (SMTP)" mta_verify "$m"
		check_match "  ... an rsa-sha256 and an ed25519-sha256 signature" \
			"pass d=$DOM s=rsa1 a=rsa-sha256.*pass d=$DOM s=ed1 a=ed25519-sha256|pass d=$DOM s=ed1 a=ed25519-sha256.*pass d=$DOM s=rsa1 a=rsa-sha256" \
			"$(mta_verify "$m" | tr '\n' ' ')"
	else
		not_ok "RSA+Ed25519: mail over SMTP reached the sink"
	fi
	if m=$(mta_send_sendmail "shop@$DOM"); then
		check_eq "RSA+Ed25519: both signatures verify (sendmail)" "2" "$(mta_verify "$m" | grep -c '^pass')"
	else
		not_ok "RSA+Ed25519: mail through sendmail reached the sink"
	fi
fi
stop_daemons
check_match "check compares rspamd's copies with the master" "rspamd/dkim/$DOM.ed1.key: the same key" \
	"$("$DKIM_SETUP" check --nameserver "$NS" -d "$DOM" -s ed1 2>&1)"

# ---- someone else's rspamd DKIM settings ----
reset_postfix
mkdir -p /etc/rspamd/override.d
printf 'sign_local = false;\n' >/etc/rspamd/override.d/dkim_signing.conf
before=$(md5sum /etc/postfix/main.cf)
run_tool "$W/f1.json" -s rsa1
check_eq "override.d/dkim_signing.conf of the admin's: refused (exit 2: a configuration it does not edit)" 2 "$?"
check_match "  ... naming it" 'override.d/dkim_signing.conf' "$(cat "$W/f1.json.err")"
check_eq "  ... main.cf untouched" "$before" "$(md5sum /etc/postfix/main.cf)"

# ---- rspamadm configtest rejects: rolled back ----
reset_postfix
printf 'this is { not ucl\n' >/etc/rspamd/local.d/worker-normal.inc
before=$(md5sum /etc/postfix/main.cf)
run_tool "$W/b1.json" -s rsa1
check_eq "a configuration rspamadm rejects: exit 3" 3 "$?"
check_eq "  ... rolled back: main.cf as it was, no dkim_signing.conf" "$before|absent" \
	"$(md5sum /etc/postfix/main.cf)|$([ -e /etc/rspamd/local.d/dkim_signing.conf ] && echo present || echo absent)"
check_eq "  ... JSON says rolled back" "true" "$(json_get mta.rolled_back <"$W/b1.json")"
