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

. "$top/tests/demo/sandbox.sh"
sandbox_as_owner "$demo" "$0" "make demo" \
	"DEMO_DIR=/root/dkim-demo make demo   (or any directory only root can change)" "$@"

if ! SANDBOX_MTA=${DEMO_MTA:-exim} sandbox_make "$demo" "$zone"; then
	echo "make demo: cannot remove $demo (left by a run as another user): sudo rm -rf $demo" >&2
	exit 2
fi
trap 'sandbox_dns_stop "$demo"' EXIT
trap 'exit 130' INT TERM HUP
sandbox_dns_start "$demo" "$zone" || exit 3
port=$SANDBOX_PORT

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
sandbox_dns_stop "$demo"
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
