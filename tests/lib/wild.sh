# tests/lib/wild.sh: shared by tests/e2e/mta_wild*.sh (issue 16), sourced
# inside the Postfix root after knot.sh and mta_mail_env:
#  reset_postfix          the packaged Postfix and OpenDKIM again, on loopback,
#                         mail for sink.test to the sink, a submission service
#  start_daemons KIND ARG opendkim (foreground) and Postfix's master; waits for
#                         ports 25 and 587 and OpenDKIM's socket (tcp PORT,
#                         unix PATH); stop_daemons stops both by pid
#  configure NAME [ARGS]  the tool in batch with a new selector S (w1, w2, ...):
#                         RC, $W/NAME.json, .err; the record published in Knot
#  three_paths NAME KIND ARG  mail by SMTP, submission and sendmail, each with
#                         exactly one signature, by $S, that dkimpy verifies
#  paths                  the milter lists of every mail path, as postconf reads them
mta_keep_pristine /etc/postfix /etc/opendkim.conf /etc/dkimkeys
MASTER_PID= OPENDKIM_PID=
SEL=0

reset_postfix() {
	mta_reset /etc/postfix /etc/opendkim /etc/dkimkeys /var/spool/postfix/opendkim
	rm -f /etc/ssl/private/$DOM-* /etc/ssl/certs/$DOM-*
	postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"transport_maps = inline:{ sink.test=smtp:[127.0.0.2]:25 }" \
		"maillog_file_prefixes = /var, /dev/stdout, /tmp" "maillog_file = $W/maillog" \
		"mydestination = localhost" "myhostname = mail.$DOM" "smtp_tls_security_level = none" \
		"leftover_of_a_removed_package = yes"   # postconf warns: unused parameter
	# a submission service on 587, as mail clients and shops use it
	cat >>/etc/postfix/master.cf <<'EOF'
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
EOF
}

stop_daemons() {
	# shellcheck disable=SC2086
	mta_stop_pids $MASTER_PID
	# shellcheck disable=SC2086
	mta_stop_pids $OPENDKIM_PID
	MASTER_PID= OPENDKIM_PID=
}
at_exit stop_daemons

start_daemons() {  # what to wait for: "tcp PORT" or "unix PATH"
	stop_daemons
	mkdir -p /run/opendkim && chown opendkim:opendkim /run/opendkim
	# what Debian's postfix start script copies into the chroot: chrooted
	# daemons resolve "localhost" through it
	mkdir -p /var/spool/postfix/etc
	cp /etc/hosts /etc/nsswitch.conf /etc/services /var/spool/postfix/etc/
	/usr/sbin/opendkim -f -x /etc/opendkim.conf >"$W/opendkim.log" 2>&1 &
	OPENDKIM_PID=$!
	setsid /usr/lib/postfix/sbin/master -d >"$W/master.log" 2>&1 &
	MASTER_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/587) 2>/dev/null; then
			case $1 in
			tcp) (exec 3<>/dev/tcp/127.0.0.1/$2) 2>/dev/null && return 0 ;;
			unix) [ -S "$2" ] && return 0 ;;
			esac
		fi
		sleep 0.1
	done
	diag "daemons did not come up: $(tail -3 "$W/master.log" "$W/opendkim.log" "$W/maillog" 2>/dev/null)"
	return 1
}

mta_diag() {
	diag "no message $1 at the sink; mail log: $(tail -n 4 "$W/maillog" 2>/dev/null | tr '\n' '|')"
	diag "opendkim: $(tail -n 3 "$W/opendkim.log" 2>/dev/null | tr '\n' '|')"
}

# run the tool with a new selector; the record published in Knot
configure() {  # case-name [more options]
	local name=$1
	shift
	SEL=$((SEL + 1))
	S=w$SEL
	"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" -s "$S" "$@" \
		>"$W/$name.json" 2>"$W/$name.err"
	RC=$?
	[ "$RC" = 0 ] || diag "$name: exit $RC: $(tail -n 3 "$W/$name.err")"
	mapfile -t strs < <(mta_json_strings <"$W/$name.json")
	knot_set_txt "$S._domainkey" "${strs[@]}"
}

# exactly one signature, valid, by selector $S, on mail by each path
three_paths() {  # case-name wait-kind wait-arg
	start_daemons "$2" "$3" || { not_ok "$1: postfix and opendkim start"; return; }
	local how m v
	for how in smtp submission sendmail; do
		case $how in
		smtp) m=$(mta_send_smtp "user@$DOM") ;;
		submission) m=$(mta_send_smtp "user@$DOM" 587) ;;
		sendmail) m=$(mta_send_sendmail "user@$DOM") ;;
		esac
		v=$( [ -n "$m" ] && mta_verify "$m")
		check_eq "$1: mail by $how carries exactly one signature, valid (dkimpy)" \
			"pass d=$DOM s=$S a=rsa-sha256" "$v"
	done
	stop_daemons
}

# OpenDKIM's address on every path as Postfix reads it (postconf -x / -P -x)
paths() {
	echo "smtpd=$(postconf -x -h smtpd_milters)"
	echo "non_smtpd=$(postconf -x -h non_smtpd_milters)"
	postconf -P -x | grep -E '/(non_)?smtpd_milters ='
}

