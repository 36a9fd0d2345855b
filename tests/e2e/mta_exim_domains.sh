#!/bin/bash
# Exim with 500 signing domains (a hosting server's shape): every domain
# stays in /etc/exim4/dkim/domains (the old macros block kept 31 and evicted
# the last one silently), and Debian's real Exim 4.96 signs mail from the
# first, a middle and the last domain, each verified by dkimpy against Knot;
# a domain not listed is not signed.
# The body runs in a throwaway Debian root (tests/lib/troot.sh).
. "$TOP/tests/lib/lib.sh"
need_root

if [ "${MTA_INNER:-}" != 1 ]; then
	[ -f "$TOP/tests/lib/troot.sh" ] || skip_all "needs tests/lib/troot.sh (throwaway roots, issue 10)"
	. "$TOP/tests/lib/troot.sh"
	command -v unshare >/dev/null || skip_all "needs unshare"
	troot_ensure mta-exim "exim4-daemon-light" ||
		{ not_ok "a Debian root with exim4 (see build/roots/mta-exim.log)"; exit 1; }
	troot_new mta-exim || { not_ok "a copy of the root mta-exim"; exit 1; }
	MTA_INNER=1 troot_run bash "$(realpath "$0")"
	exit $?
fi

. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/mta.sh"
N=500
mta_mail_env dkim-e2e.test
ZONE=$DOM

sed -i -e "s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='internet'/" \
	-e "s/^dc_use_split_config=.*/dc_use_split_config='false'/" /etc/exim4/update-exim4.conf.conf
echo "sink.test: 127.0.0.2" >/etc/exim4/hubbed_hosts
update-exim4.conf

# One key for every shop (the tool reuses a key that is there): the test is
# about the domain list, not 500 key generations.
mkdir -p /etc/ssl/private && chmod 0710 /etc/ssl/private
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/k.pem" 2>/dev/null
for ((i = 1; i <= N; i++)); do install -m 0600 "$W/k.pem" "/etc/ssl/private/shop$i.$ZONE-s1-private.pem"; done

# The same files through a sandbox path: / bound at $SBX (this mount
# namespace of the throwaway root only), so --root runs write the real files
# without checkers. Outside every temporary directory (whose removal must
# never walk into it), and detached at exit before they are removed (LIFO).
# (The root has no mount(8): libc's mount(2) and umount2(2) through python.)
SBX=/mnt/dkim-setup-sandbox
mkdir -p "$SBX"
/usr/bin/python3 -c 'import ctypes,sys; sys.exit(ctypes.CDLL(None, use_errno=True).mount(b"/", sys.argv[1].encode(), None, 4096, None))' "$SBX" ||
	{ not_ok "bind / at $SBX"; exit 1; }
at_exit "/usr/bin/python3 -c 'import ctypes,sys; ctypes.CDLL(None).umount2(sys.argv[1].encode(), 2)' '$SBX'"

run() {  # shop-number [--root DIR]
	local i=$1; shift
	"$DKIM_SETUP_PLAIN" --batch --json --mta exim --nameserver "$NS" -d "shop$i.$ZONE" -s s1 "$@" \
		>"$W/run$i.json" 2>"$W/run$i.err"
}
# The first and the last run are real (validated with exim, update-exim4.conf
# run); the 498 between write the same files through the sandbox path (no
# checker, no chown: fast), then their key copies get Exim's group as a
# real run gives them.
run 1
rc1=$?
fails=0 start=$SECONDS
for ((i = 2; i < N; i++)); do run "$i" --root "$SBX" || fails=$((fails + 1)); done
chgrp Debian-exim /etc/exim4/dkim/*-private.pem
run "$N"
rcN=$?
diag "$N runs in $((SECONDS - start)) s"
check_eq "every run exits 0" "0 0 0" "$rc1 $fails $rcN"
check_eq "the last run was validated by Exim" "true" \
	"$(mta_json_get mta.validated <"$W/run$N.json")"
check_eq "all $N domains are in /etc/exim4/dkim/domains" "$N" "$(grep -c "^shop[0-9]*\.$ZONE: s1$" /etc/exim4/dkim/domains)"
check_eq "  ... 0640 root:Debian-exim" "640 root Debian-exim" "$(stat -c '%a %U %G' /etc/exim4/dkim/domains)"
check_match "the transport looks the domain up" 'dkim_domain = \$\{lookup\{\$\{lc:\$\{domain:\$rh_from:\}\}\}lsearch,ret=key\{/etc/exim4/dkim/domains\}\}' \
	"$(exim4 -bP transport remote_smtp)"

mapfile -t strs < <(mta_json_strings <"$W/run1.json")
send() {  # from-domain -> the message the sink got
	local id="t$(date +%s%N).$$"
	printf 'From: Shop <info@%s>\nTo: <rcpt@sink.test>\nSubject: %s\nMessage-ID: <%s@%s>\n\nHello.\n' \
		"$1" "$id" "$id" "$1" | exim4 -odf -f "info@$1" rcpt@sink.test
	local f i
	for ((i = 0; i < 200; i++)); do
		f=$(grep -l "$id@" "$SINK"/*.eml 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.05
	done
	return 1
}
for i in 1 250 $((N - 1)) $N; do
	knot_set_txt "s1._domainkey.shop$i" "${strs[@]}"
	m=$(send "shop$i.$ZONE") || { not_ok "shop$i: mail reached the sink"; continue; }
	check_eq "shop$i of $N: signed by Exim, dkimpy verifies it against Knot" "pass d=shop$i.$ZONE s=s1 a=rsa-sha256" \
		"$(/usr/bin/python3 "$TOP/tests/lib/dkim_verify.py" "$m" 127.0.0.1 "$KNOT_PORT")"
done
if m=$(send "unlisted.$ZONE"); then
	check "a domain not listed: not signed" eval '! grep -qi "^DKIM-Signature:" "$m"'
else
	not_ok "unlisted: mail reached the sink"
fi
