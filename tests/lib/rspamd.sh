# tests/lib/rspamd.sh: Postfix + rspamd daemons in an MTA root, for the
# tests that send mail through them (tests/e2e/mta_rspamd.sh,
# rotate_mta_rspamd.sh). Needs lib.sh, mta.sh, knot.sh, and W, DOM and
# KNOT_PORT set (mta_mail_env). Keeps the packaged /etc/postfix and
# /etc/rspamd; defines reset_postfix, start_daemons (restarts rspamd and
# Postfix's master), stop_daemons (registered at exit) and mta_diag.
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

mta_diag() {  # what the daemons said about a message that did not arrive
	diag "no message $1 at the sink; mail log: $(tail -n 4 "$W/maillog" 2>/dev/null | tr '\n' '|')"
	diag "rspamd: $(grep -i dkim /var/log/rspamd/rspamd.log 2>/dev/null | tail -n 3 | tr '\n' '|')"
}
