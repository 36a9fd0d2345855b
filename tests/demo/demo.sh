#!/bin/bash
# make demo: the whole flow on one machine, for newcomers and trainers.
# Starts a real authoritative DNS server (Knot) on loopback, on a private
# port, serving the demo zone example.test and accepting TSIG-signed updates;
# runs the wizard in training mode in a sandbox root against it; stops the
# server at the end (by pid) and leaves the sandbox in ./demo for inspection
# (make demo-clean removes it).
set -eu
cd "$(dirname "$0")/../.."
top=$PWD
demo=${DEMO_DIR:-$top/demo}
zone=${DEMO_ZONE:-example.test}
prog=${DKIM_SETUP:-$top/build/dkim-setup}

if [ ! -t 0 ] || [ ! -t 1 ]; then
	echo "make demo runs the interactive wizard: start it from a terminal." >&2
	exit 2
fi

# As root, dkim-setup refuses a --root that another user could swap while
# root works in it (a directory on the way that is theirs, or writable by
# them). The demo needs no root: in a clone that belongs to a user, it runs
# as that user; below a directory others can write, it says what to do.
if [ "$(id -u)" = 0 ]; then
	d=$(dirname "$demo")
	while [ ! -e "$d" ]; do d=$(dirname "$d"); done
	while :; do
		read -r duid dgid dmode <<<"$(stat -L -c '%u %g %a' "$d")"
		if [ "$duid" != 0 ]; then
			owner=$(stat -L -c %U "$d")
			echo "make demo: $d belongs to $owner, so the demo runs as $owner (it needs no root)." >&2
			exec setpriv --reuid="$owner" --regid="$(id -g "$owner")" --init-groups \
				env HOME="$(getent passwd "$owner" | cut -d: -f6)" bash "$0" "$@"
		fi
		if [ $((8#$dmode & 8#1000)) = 0 ] &&
			{ [ $((8#$dmode & 8#002)) != 0 ] || { [ $((8#$dmode & 8#020)) != 0 ] && [ "$dgid" != 0 ]; }; }; then
			echo "make demo: other users can change $d, so dkim-setup (as root) will not use a sandbox below it;" >&2
			echo "  run: DEMO_DIR=/root/dkim-demo make demo   (or any directory only root can change)" >&2
			exit 2
		fi
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
fi

if ! rm -rf "$demo" 2>/dev/null; then
	echo "make demo: cannot remove $demo (left by a run as another user): sudo rm -rf $demo" >&2
	exit 2
fi
mkdir -p "$demo/root/etc" "$demo/dns/db"
chmod 0755 "$demo" "$demo/root" "$demo/root/etc"
echo "$zone" >"$demo/root/etc/mailname"
echo "mail.$zone" >"$demo/root/etc/hostname"
# A mail server for the mail step to configure: the files of a Debian Exim
# set up as an "internet site" with the one-file layout (what debconf writes
# on a fresh install), and a stand-in for the binary that the survey looks
# for. DEMO_MTA=none leaves it out. Under a sandbox root nothing is checked
# with the real exim or reloaded; the step shows and writes the change.
if [ "${DEMO_MTA:-exim}" = exim ]; then
	mkdir -p "$demo/root/etc/exim4" "$demo/root/usr/sbin"
	chmod 0755 "$demo/root/etc/exim4" "$demo/root/usr" "$demo/root/usr/sbin"
	cat >"$demo/root/etc/exim4/update-exim4.conf.conf" <<EXIM
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
	printf '#!/bin/sh\necho "demo sandbox: a stand-in for exim4" >&2\nexit 1\n' >"$demo/root/usr/sbin/exim4"
	chmod 0755 "$demo/root/usr/sbin/exim4"
fi

port=$(/usr/bin/python3 -c '
import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass')
secret=$(head -c 32 /dev/urandom | base64)
echo "hmac-sha256:demo-update:$secret" >"$demo/dns/tsig.key"
chmod 0600 "$demo/dns/tsig.key"
cat >"$demo/dns/$zone.zone" <<ZONE
\$ORIGIN $zone.
\$TTL 300
@    IN SOA ns1.$zone. hostmaster.$zone. 1 3600 600 86400 300
@    IN NS  ns1.$zone.
@    IN MX  10 mail.$zone.
ns1  IN A   127.0.0.1
ns1  IN AAAA ::1
mail IN A   127.0.0.1
ZONE
cat >"$demo/dns/knot.conf" <<CONF
server:
    listen: [ 127.0.0.1@$port, ::1@$port ]
    rundir: "$demo/dns"
    user: $(id -un):$(id -gn)
    pidfile: "$demo/dns/knot.pid"
log:
  - target: "$demo/dns/knot.log"
    any: info
database:
    storage: "$demo/dns/db"
key:
  - id: demo-update
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: demo-update
    action: update
template:
  - id: default
    storage: "$demo/dns"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $zone
    file: "$demo/dns/$zone.zone"
    acl: update
CONF

knotd -c "$demo/dns/knot.conf" >"$demo/dns/knotd.out" 2>&1 &
knot_pid=$!
stop_dns() {
	if kill -0 "$knot_pid" 2>/dev/null; then
		kill "$knot_pid" 2>/dev/null || true
		wait "$knot_pid" 2>/dev/null || true
	fi
}
trap stop_dns EXIT
trap 'exit 130' INT TERM HUP
for _ in $(seq 1 100); do
	kill -0 "$knot_pid" 2>/dev/null || break
	[ -n "$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" "$zone" SOA 2>/dev/null)" ] && break
	sleep 0.05
done
if [ -z "$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" "$zone" SOA 2>/dev/null)" ]; then
	echo "demo: the DNS server did not start; its log ($demo/dns/knot.log) ends:" >&2
	tail -n 5 "$demo/dns/knot.log" "$demo/dns/knotd.out" 2>/dev/null | sed 's/^/  /' >&2
	exit 3
fi

clear 2>/dev/null || true
cat <<INTRO
dkim-setup demo
===============
A real DNS server (Knot) now serves the zone $zone on 127.0.0.1 and ::1,
port $port, on this machine only. The wizard runs in training mode in a
sandbox that it treats as "/", so nothing outside it changes:
  $demo/root

The sandbox holds the configuration of a Debian Exim, so the mail step
shows the change it makes (nothing is reloaded in a sandbox).

In the "wait for DNS" step, press u to publish the record (an RFC 2136
update signed with the demo's TSIG key), or add it by hand from another
terminal, as an admin would at a DNS panel:

  knsupdate -y "\$(cat $demo/dns/tsig.key)" <<EOF
  server 127.0.0.1 $port
  zone $zone.
  update add <selector>._domainkey.$zone. 300 TXT "v=DKIM1; k=rsa; p=..."
  send
  EOF

Press Enter to start the wizard.
INTRO
read -r _
set +e
"$prog" --training --root "$demo/root" --nameserver "127.0.0.1@$port" \
	--nameserver "[::1]@$port" --tsig-key "$demo/dns/tsig.key"
rc=$?
set -e
stop_dns
trap - EXIT
echo
echo "The DNS server is stopped. The sandbox is left in $demo for you to look at:"
echo "  find $demo/root -type f | sort"
if [ "$demo" = "$top/demo" ]; then
	echo "Remove it with: make demo-clean"
else
	echo "Remove it with: rm -rf $demo"
fi
exit $rc
