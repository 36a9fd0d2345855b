# tests/lib/opendkim.sh: Postfix + OpenDKIM daemons in an MTA root, for the
# tests that send mail through them (tests/e2e/mta_postfix.sh,
# rotate_mta_postfix.sh). Needs lib.sh, mta.sh, and W and DOM set
# (mta_mail_env). Defines reset_postfix, start_signers/stop_signers (the
# OpenDKIMs alone), start_daemons (restarts them: OpenDKIM, the Ed25519 one
# when configured, Postfix's master), stop_daemons (registered at exit) and
# mta_diag.
MASTER_PID= OPENDKIM_PID= ED_PID=

reset_postfix() {
	mta_reset /etc/postfix /etc/opendkim /etc/dkimkeys /etc/opendkim-ed25519.conf /etc/systemd/system/opendkim-ed25519.service
	# loopback only, and sink.test goes to the sink
	postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"transport_maps = inline:{ sink.test=smtp:[127.0.0.2]:25 }" \
		"maillog_file_prefixes = /var, /dev/stdout, /tmp" "maillog_file = $W/maillog" "mydestination = localhost" "myhostname = mail.$DOM" \
		"smtp_tls_security_level = none"
}

stop_signers() {
	# shellcheck disable=SC2086
	mta_stop_pids $OPENDKIM_PID $ED_PID
	OPENDKIM_PID= ED_PID=
}

stop_daemons() {
	# Postfix first (it talks to the filters), then the filters
	# shellcheck disable=SC2086
	mta_stop_pids $MASTER_PID
	MASTER_PID=
	stop_signers
}
at_exit stop_daemons

# start_signers: (re)start OpenDKIM, and the Ed25519 one when configured,
# and wait until they listen (SIGNER_PORTS: their ports).
start_signers() {
	stop_signers
	mkdir -p /run/opendkim && chown opendkim:opendkim /run/opendkim
	/usr/sbin/opendkim -f -x /etc/opendkim.conf >"$W/opendkim.log" 2>&1 &
	OPENDKIM_PID=$!
	SIGNER_PORTS=8891
	if [ -e /etc/opendkim-ed25519.conf ]; then
		/usr/sbin/opendkim -f -x /etc/opendkim-ed25519.conf >"$W/opendkim-ed.log" 2>&1 &
		ED_PID=$!
		SIGNER_PORTS="8891 8892"
	fi
	local i p up
	for ((i = 0; i < 100; i++)); do
		up=1
		for p in $SIGNER_PORTS; do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || up=; done
		[ -n "$up" ] && return 0
		sleep 0.1
	done
	diag "opendkim did not come up: $(tail -3 "$W/opendkim.log" 2>/dev/null)"
	return 1
}

start_daemons() {
	stop_daemons
	start_signers || return 1
	# its own process group: master signals its whole group when it stops
	setsid /usr/lib/postfix/sbin/master -d >"$W/master.log" 2>&1 &
	MASTER_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && return 0
		sleep 0.1
	done
	diag "daemons did not come up: $(tail -3 "$W/master.log" "$W/opendkim.log" "$W/maillog" 2>/dev/null)"
	return 1
}

mta_diag() {  # what the daemons said about a message that did not arrive
	diag "no message $1 at the sink; mail log: $(tail -n 4 "$W/maillog" 2>/dev/null | tr '\n' '|')"
	diag "opendkim: $(tail -n 3 "$W/opendkim.log" 2>/dev/null | tr '\n' '|')"
}

