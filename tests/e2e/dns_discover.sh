# Finding the zone's servers the way a user's run does, without --nameserver:
# a recursive resolver gives the SOA, the NS set and every A/AAAA of each NS;
# --publish finds the primary from the SOA MNAME. The resolver is named with
# --resolver (127.0.0.1), never taken from the host's configuration. The NS
# records point at port 53 of 127.0.0.1, 127.0.0.2 and ::1, so this runs in
# its own network namespace (only `lo`, up), where a Knot on port 53 plays
# resolver and both NS. ns2 also has an IPv6 address this namespace has no
# route to (2001:db8::53: the send fails locally, nothing leaves), like an
# IPv6 NS seen from a v4-only host.
. "$TOP/tests/lib/lib.sh"
command -v knotd >/dev/null || skip_all "knotd missing"
command -v unshare >/dev/null || skip_all "unshare missing"

if [ "${1:-}" != inner ]; then
	need_root
	unshare -n true 2>/dev/null || skip_all "cannot create a network namespace here"
	unshare -n bash "$0" inner
	rc=$?
	T_FAILED=0
	exit $rc
fi

# --- inside the network namespace ---
ip link set lo up || { not_ok "lo up"; exit 1; }
D=$(t_tmpdir)
secret=$(head -c 32 /dev/urandom | base64)
echo "hmac-sha256:upd:$secret" >"$D/tsig.key"
secret512=$(head -c 64 /dev/urandom | base64 -w0)
printf 'key "upd512." {\n\talgorithm hmac-sha512;\n\tsecret "%s";\n};\n' "$secret512" >"$D/tsig512.key"
cat >"$D/example.test.zone" <<ZONE
\$ORIGIN example.test.
\$TTL 3600
@   IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 600
@   IN NS  ns1.example.test.
@   IN NS  ns2.example.test.
ns1 IN A   127.0.0.1
ns1 IN AAAA ::1
ns2 IN A   127.0.0.2
ns2 IN AAAA 2001:db8::53
ZONE
# a selector delegated by CNAME to another zone (the way mail providers do it)
R=$(t_tmpdir)
"$DKIM_SETUP" --resolver 127.0.0.1 --batch --root "$R" -d example.test -s s1 --mta none >/dev/null 2>&1
"$DKIM_SETUP" --resolver 127.0.0.1 --batch --root "$R" -d example.test -s s2 --mta none >/dev/null 2>&1
V2=$("$DKIM_SETUP" --resolver 127.0.0.1 record --root "$R" -d example.test -s s2 --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])')
echo "s2._domainkey IN CNAME s2.keys.provider.test." >>"$D/example.test.zone"
{
	echo "\$ORIGIN provider.test."
	echo "@ 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 600"
	echo "@ 3600 IN NS ns1.example.test."
	printf 's2.keys 3600 IN TXT ( '
	echo "$V2" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '
	echo ")"
} >"$D/provider.test.zone"
mkdir -p "$D/db"
cat >"$D/knot.conf" <<CONF
server:
    listen: [ 127.0.0.1@53, 127.0.0.2@53, ::1@53 ]
    rundir: "$D"
    user: root:root
    pidfile: "$D/knot.pid"
log:
  - target: "$D/knot.log"
    any: info
database:
    storage: "$D/db"
key:
  - id: upd
    algorithm: hmac-sha256
    secret: $secret
  - id: upd512
    algorithm: hmac-sha512
    secret: $secret512
acl:
  - id: update
    key: [ upd, upd512 ]
    action: update
template:
  - id: default
    storage: "$D"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.test
    file: "$D/example.test.zone"
    acl: update
  - domain: provider.test
    file: "$D/provider.test.zone"
CONF
knotd -c "$D/knot.conf" >"$D/knotd.out" 2>&1 &
KPID=$!
at_exit "kill $KPID 2>/dev/null; wait $KPID 2>/dev/null"
for i in $(seq 1 100); do
	[ -n "$(kdig +short +time=1 +retry=0 @127.0.0.1 example.test SOA 2>/dev/null)" ] && break
	sleep 0.05
done

out=$("$DKIM_SETUP" --resolver 127.0.0.1 check --root "$R" -d example.test -s s1 --json); rc=$?
check_eq "no record: exit 1" 1 "$rc"
servers=$(echo "$out" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s/%s/%s" % (s["name"], s["address"], s["status"]) for s in d["servers"]))')
check_eq "every address of every NS, found through the resolver" \
	"ns1.example.test/127.0.0.1/absent ns1.example.test/::1/absent ns2.example.test/127.0.0.2/absent ns2.example.test/2001:db8::53/error" "$servers"
check_match "an address without a route: not counted, and said so" '"unreachable":true' "$out"
check_match "zone apex found" '"zone":"example.test"' "$out"
check_match "negative TTL min(3600, 600)" '"negative_ttl":600' "$out"

# publish to the SOA MNAME (ns1.example.test), then wait for every server
out=$("$DKIM_SETUP" --resolver 127.0.0.1 --batch --root "$R" -d example.test -s s1 --mta none \
	--publish --tsig-key "$D/tsig.key" --wait 10 2>&1); rc=$?
check_eq "publish to the primary from SOA MNAME: exit 0" 0 "$rc"
check_match "publish: the primary's address took it" "127\.0\.0\.1 accepted the update|::1 accepted the update" "$out"
check_match "publish: the resolver asked once every server matched" "Your resolver \(127\.0\.0\.1\) sees the record too" "$out"
out=$("$DKIM_SETUP" --resolver 127.0.0.1 check --root "$R" -d example.test -s s1); rc=$?
check_eq "check after publishing: exit 0" 0 "$rc"
check_match "check: all three reachable servers OK" "all 3 servers this host can reach" "$out"
check_match "check: the resolver is asked once all agree" "Your resolver \(127\.0\.0\.1\) sees the record too" "$out"
out=$("$DKIM_SETUP" --resolver 127.0.0.1 check --root "$R" -d example.test -s nosuch --key "$R/etc/ssl/certs/example.test-s1-public.pem" 2>&1)
check "check: no resolver line while servers disagree" test -z "$(echo "$out" | grep 'Your resolver')"

out=$("$DKIM_SETUP" --resolver 127.0.0.1 check --root "$R" -d example.test -s s2); rc=$?
check_eq "CNAME to another zone, followed through the resolver: exit 0" 0 "$rc"
check_match "CNAME to another zone: said so" "via CNAME s2.keys.provider.test \(outside the zone" "$out"

# hmac-sha512, BIND key file form
"$DKIM_SETUP" --resolver 127.0.0.1 --batch --root "$R" -d example.test -s s3 --mta none >/dev/null 2>&1
out=$("$DKIM_SETUP" --resolver 127.0.0.1 --batch --root "$R" -d example.test -s s3 --mta none \
	--publish --tsig-key "$D/tsig512.key" --wait 10 2>&1); rc=$?
check_eq "publish with a hmac-sha512 BIND key: exit 0" 0 "$rc"
"$DKIM_SETUP" --resolver 127.0.0.1 check --root "$R" -d example.test -s s3 >/dev/null
check_eq "hmac-sha512: check agrees" 0 "$?"
