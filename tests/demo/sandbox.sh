# tests/demo/sandbox.sh: the machinery of `make demo` and `make lab` (bash;
# sourced, defines functions only). A sandbox is a directory DIR with
#   DIR/root   what dkim-setup treats as "/" (--root): /etc/mailname, and the
#              files of a Debian Exim unless SANDBOX_MTA=none
#   DIR/dns    a real authoritative DNS server (Knot) for one zone, on
#              127.0.0.1 and ::1 on a private port, accepting RFC 2136
#              updates signed with DIR/dns/tsig.key and knotc changes
# Nothing here listens anywhere but loopback, and the server is stopped by
# its pid (sandbox_dns_stop), never by name.

# sandbox_as_owner DIR SCRIPT WHAT HINT ARGS...: as root, dkim-setup refuses a --root
# that another user could swap while root works in it (a directory on the
# way that is theirs, or writable by them). The sandbox needs no root: in a
# clone that belongs to a user, SCRIPT is run again as that user (exec);
# below a directory others can write, it says so and what to run (HINT),
# and exits 2. WHAT names the command in messages.
# Returns when the sandbox can be used as the current user.
sandbox_as_owner() {
	local dir=$1 script=$2 what=$3 hint=$4 d duid dgid dmode owner
	shift 4
	[ "$(id -u)" = 0 ] || return 0
	d=$(dirname "$dir")
	while [ ! -e "$d" ]; do d=$(dirname "$d"); done
	while :; do
		read -r duid dgid dmode <<<"$(stat -L -c '%u %g %a' "$d")"
		if [ "$duid" != 0 ]; then
			owner=$(stat -L -c %U "$d")
			echo "$what: $d belongs to $owner, so it runs as $owner (it needs no root)." >&2
			exec setpriv --reuid="$owner" --regid="$(id -g "$owner")" --init-groups \
				env HOME="$(getent passwd "$owner" | cut -d: -f6)" bash "$script" "$@"
		fi
		if [ $((8#$dmode & 8#1000)) = 0 ] &&
			{ [ $((8#$dmode & 8#002)) != 0 ] || { [ $((8#$dmode & 8#020)) != 0 ] && [ "$dgid" != 0 ]; }; }; then
			echo "$what: other users can change $d, so dkim-setup (as root) will not use a sandbox below it;" >&2
			echo "  run: $hint" >&2
			exit 2
		fi
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
}

# sandbox_make DIR ZONE: a fresh sandbox root for the mail domain ZONE (DIR
# is removed first). 1 when DIR cannot be removed.
sandbox_make() {
	local dir=$1 zone=$2
	rm -rf "$dir" 2>/dev/null || return 1
	mkdir -p "$dir/root/etc" "$dir/dns/db"
	chmod 0755 "$dir" "$dir/root" "$dir/root/etc"
	echo "$zone" >"$dir/root/etc/mailname"
	echo "mail.$zone" >"$dir/root/etc/hostname"
	# A mail server for the mail step to configure: the files of a Debian
	# Exim set up as an "internet site" with the one-file layout (what
	# debconf writes on a fresh install), and a stand-in for the binary that
	# the survey looks for. Under a sandbox root nothing is checked with the
	# real exim or reloaded; the step shows and writes the change.
	[ "${SANDBOX_MTA:-exim}" = exim ] || return 0
	mkdir -p "$dir/root/etc/exim4" "$dir/root/usr/sbin"
	chmod 0755 "$dir/root/etc/exim4" "$dir/root/usr" "$dir/root/usr/sbin"
	cat >"$dir/root/etc/exim4/update-exim4.conf.conf" <<EXIM
# /etc/exim4/update-exim4.conf.conf, as debconf writes it for an internet site
dc_eximconfig_configtype='internet'
dc_other_hostnames='$zone'
dc_local_interfaces='127.0.0.1 ; ::1'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='false'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
EXIM
	printf '#!/bin/sh\necho "sandbox: a stand-in for exim4" >&2\nexit 1\n' >"$dir/root/usr/sbin/exim4"
	chmod 0755 "$dir/root/usr/sbin/exim4"
}

# A TCP and UDP port on 127.0.0.1 that is free right now.
sandbox_free_port() {
	/usr/bin/python3 -c '
import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}

# sandbox_dns_start DIR ZONE [detach]: start Knot for ZONE (SOA, NS, MX and
# the addresses of ns1 and mail, all loopback). Sets SANDBOX_PORT and
# SANDBOX_DNS_PID. With "detach" the server runs in a session of its own and
# outlives the calling script (the lab: stopped later by sandbox_dns_stop).
# 3 when it does not answer, with the end of its log on stderr.
sandbox_dns_start() {
	local dir=$1 zone=$2 detach=${3:-} secret i
	SANDBOX_PORT=$(sandbox_free_port)
	secret=$(head -c 32 /dev/urandom | base64)
	(umask 077 && echo "hmac-sha256:sandbox-update:$secret" >"$dir/dns/tsig.key")
	cat >"$dir/dns/$zone.zone" <<ZONE
\$ORIGIN $zone.
\$TTL 300
@    IN SOA ns1.$zone. hostmaster.$zone. 1 3600 600 86400 300
@    IN NS  ns1.$zone.
@    IN MX  10 mail.$zone.
ns1  IN A   127.0.0.1
ns1  IN AAAA ::1
mail IN A   127.0.0.1
ZONE
	cat >"$dir/dns/knot.conf" <<CONF
server:
    listen: [ 127.0.0.1@$SANDBOX_PORT, ::1@$SANDBOX_PORT ]
    rundir: "$dir/dns"
    user: $(id -un):$(id -gn)
    pidfile: "$dir/dns/knot.pid"
log:
  - target: "$dir/dns/knot.log"
    any: info
database:
    storage: "$dir/dns/db"
key:
  - id: sandbox-update
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: sandbox-update
    action: update
template:
  - id: default
    storage: "$dir/dns"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $zone
    file: "$dir/dns/$zone.zone"
    acl: update
CONF
	if [ "$detach" = detach ]; then
		setsid knotd -c "$dir/dns/knot.conf" </dev/null >"$dir/dns/knotd.out" 2>&1 &
	else
		knotd -c "$dir/dns/knot.conf" >"$dir/dns/knotd.out" 2>&1 &
	fi
	SANDBOX_DNS_PID=$!
	echo "$SANDBOX_DNS_PID" >"$dir/dns/server.pid"
	for i in $(seq 1 100); do
		kill -0 "$SANDBOX_DNS_PID" 2>/dev/null || break
		sandbox_dns_up "$zone" && return 0
		sleep 0.05
	done
	sandbox_dns_up "$zone" && return 0
	echo "the DNS server did not start; its log ($dir/dns/knot.log) ends:" >&2
	tail -n 5 "$dir/dns/knot.log" "$dir/dns/knotd.out" 2>/dev/null | sed 's/^/  /' >&2
	sandbox_dns_stop "$dir"
	return 3
}

# sandbox_dns_up ZONE: does the server on SANDBOX_PORT answer for ZONE?
sandbox_dns_up() {
	[ -n "$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$SANDBOX_PORT" "$1" SOA 2>/dev/null)" ]
}

# sandbox_alive PID: running (a process that has exited but not been reaped
# yet, a zombie, is not).
sandbox_alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# sandbox_dns_stop DIR: stop the server DIR's sandbox_dns_start started, by
# the pid it recorded, and only if that pid still is this sandbox's knotd.
sandbox_dns_stop() {
	local dir=$1 pid i
	pid=$(cat "$dir/dns/server.pid" 2>/dev/null) || return 0
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "knotd -c $dir/dns/knot.conf"; then
		kill "$pid" 2>/dev/null || true
		for i in $(seq 1 200); do sandbox_alive "$pid" || break; sleep 0.05; done
		# (callers run under set -e: a server that exits between the test and
		# the kill must not end them)
		if sandbox_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
		wait "$pid" 2>/dev/null || true   # reaps it when it is this shell's child
	fi
	rm -f "$dir/dns/server.pid"
	return 0
}
