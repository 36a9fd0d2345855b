# assets/lab/lib.sh: helpers for the scenarios' scripts (see README).
# The lab sources this before each setup.sh, check.sh, fix.sh and wrong.sh,
# with LAB_DIR, LAB_ROOT, LAB_ZONE, LAB_DOMAIN, LAB_PORT and LAB_PROG set, the
# current directory the lab's, and the lab shell's wrappers first in PATH:
# `dkim-setup` works in the sandbox against the lab's DNS server, `publish`
# is the DNS panel, `kdig` asks the lab's server.

# lab_key SELECTOR [BITS] [MTA]: the way an admin set the server up: a key
# for LAB_DOMAIN made by dkim-setup, the mail server (default: the sandbox's
# Exim) configured to sign with it. The record is not published.
lab_key() {
	dkim-setup --batch -d "$LAB_DOMAIN" -s "$1" -b "${2:-2048}" --mta "${3:-exim}" >/dev/null
}

# lab_rekey SELECTOR [BITS]: a new key under the same selector (the old one
# is kept as a backup), made without touching the mail server.
lab_rekey() {
	dkim-setup --batch --force -d "$LAB_DOMAIN" -s "$1" -b "${2:-2048}" --mta none >/dev/null
}

# lab_value SELECTOR: the TXT value of SELECTOR's key in the sandbox, joined.
lab_value() {
	dkim-setup record -d "$LAB_DOMAIN" -s "$1" --json |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["record"]["value"])'
}

# lab_check SELECTOR: does `dkim-setup check` say all is well (the record
# served everywhere, matching the key, every signer's copy the same key)?
lab_check() {
	dkim-setup check -d "$LAB_DOMAIN" -s "$1" >/dev/null 2>&1
}

# lab_check_json SELECTOR FIELD: one top-level field of `check --json`
# (null when absent).
lab_check_json() {
	dkim-setup check -d "$LAB_DOMAIN" -s "$1" --json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else v)' "$2"
}

# lab_txt NAME: the TXT strings served at NAME (relative to the zone), one
# record a line, as kdig prints them.
lab_txt() {
	kdig +short "$1.$LAB_ZONE" TXT
}

# lab_signer_selectors: the selectors the sandbox's Exim signs LAB_DOMAIN's
# mail with (its line in /etc/exim4/dkim/domains, which dkim-setup writes),
# one a line.
lab_signer_selectors() {
	sed -n "s/^$LAB_DOMAIN: *//p" "$LAB_ROOT/etc/exim4/dkim/domains" 2>/dev/null | tr ' :,' '\n\n\n' | sed '/^$/d'
}

# lab_split STRING N: STRING in pieces of at most N characters, one a line.
lab_split() {
	local s=$1
	while [ -n "$s" ]; do echo "${s:0:$2}"; s=${s:$2}; done
}

# ---- scenarios with a real signer (needs: signer) -------------------------
# Only inside the lab's throwaway root, where / is the server's own.

# lab_postfix_prepare: the root's Postfix on loopback only, its log in
# /var/log/mail.log (the root has no syslog).
lab_postfix_prepare() {
	postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "mydestination = localhost" \
		"myhostname = mail.$LAB_DOMAIN" "maillog_file = /var/log/mail.log" "smtp_tls_security_level = none"
}

# lab_daemon opendkim|postfix start|stop|restart|reload|status: the lab's
# stand-in for the init system. Pids in $LAB_DIR/pids; stopped by pid.
lab_daemon() {
	local name=$1 what=$2 pidf=$LAB_DIR/pids/$1 pid i
	mkdir -p "$LAB_DIR/pids"
	pid=$(cat "$pidf" 2>/dev/null || true)
	case $what in
	status)
		if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null; then
			echo "$name: active (running), pid $pid"
		else
			echo "$name: inactive (dead)"; return 3
		fi ;;
	stop)
		[ -n "$pid" ] || return 0
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 200; i++)); do   # opendkim takes about 4.5 s (MTA-FACTS.md)
			[ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$pidf" ;;
	restart) lab_daemon "$name" stop && lab_daemon "$name" start ;;
	reload)
		case $name in
		postfix) postfix reload >/dev/null 2>&1 ;;
		opendkim) [ -n "$pid" ] && kill -USR1 "$pid" ;;
		esac ;;
	start)
		lab_daemon "$name" status >/dev/null && return 0
		case $name in
		opendkim)
			mkdir -p /run/opendkim && chown opendkim:opendkim /run/opendkim
			setsid /usr/sbin/opendkim -f -x /etc/opendkim.conf </dev/null >>"$LAB_DIR/opendkim.log" 2>&1 &
			echo $! >"$pidf"
			lab_wait_tcp 8891 ;;
		postfix)
			setsid /usr/lib/postfix/sbin/master -d </dev/null >>"$LAB_DIR/postfix.log" 2>&1 &
			echo $! >"$pidf"
			lab_wait_tcp 25 ;;
		*) echo "lab: no service $name here (opendkim, postfix)" >&2; return 5 ;;
		esac ;;
	*) echo "lab: start, stop, restart, reload or status" >&2; return 2 ;;
	esac
}

# lab_wait_tcp PORT: bounded wait for a listener on 127.0.0.1:PORT.
lab_wait_tcp() {
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
