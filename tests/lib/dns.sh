# tests/lib/dns.sh: helpers for the DNS tests and benchmarks (tests/e2e/dns_*.sh,
# tests/bench/dns_*.sh). Needs lib.sh; starts nothing by itself.

. "$TOP/tests/lib/knot.sh"
command -v knotd >/dev/null || skip_all "knotd missing"
command -v kdig >/dev/null || skip_all "kdig missing"

# make_key ROOT SELECTOR [BITS]: a key pair under ROOT for example.test; prints the record value.
make_key() {
	local root=$1 sel=$2 bits=${3:-2048}
	"$DKIM_SETUP" --batch --root "$root" -d example.test -s "$sel" -b "$bits" --mta none >/dev/null 2>&1 || return 1
	"$DKIM_SETUP" record --root "$root" -d example.test -s "$sel" --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])'
}

# split_str STRING N: print STRING in pieces of at most N bytes, one per line.
split_str() {
	local s=$1 n=$2
	while [ -n "$s" ]; do echo "${s:0:$n}"; s=${s:$n}; done
}

# Statuses of the servers in a check/batch JSON (stdin): "match match".
json_statuses() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("dns", d)
print(" ".join(s["status"] for s in d.get("servers", [])))'
}
# One field of the first server: json_field detail
json_field() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("dns", d)
k = sys.argv[1]
v = d[k] if k in d else (d["servers"][0].get(k) if d.get("servers") else None)
print(v if v is not None else "null")' "$1"
}

NS4() { echo "--nameserver 127.0.0.1@$KNOT_PORT"; }
NS46() { echo "--nameserver 127.0.0.1@$KNOT_PORT --nameserver ::1@$KNOT_PORT"; }

# knot_cname NAME TARGET (relative names, or FQDN with a dot)
knot_cname() {
	knotc_ zone-begin "$KNOT_ZONE" >/dev/null &&
	{ knotc_ zone-unset "$KNOT_ZONE" "$1" >/dev/null 2>&1 || true; } &&
	knotc_ zone-set "$KNOT_ZONE" "$1" 300 CNAME "$2" >/dev/null &&
	knotc_ zone-commit "$KNOT_ZONE" >/dev/null
}

# A UDP socket on loopback that receives and never answers; prints its port.
# Sets SILENT_PID (stopped at exit, by pid).
silent_start() {
	local f
	f=$(t_tmpdir)/port
	/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + 120          # bounded: gone after two minutes anyway
while time.time() < end:
    s.settimeout(1.0)
    try: s.recv(4096)
    except socket.timeout: pass
' "$f" &
	SILENT_PID=$!
	at_exit "kill $SILENT_PID 2>/dev/null; wait $SILENT_PID 2>/dev/null"
	local i
	for i in $(seq 1 100); do [ -s "$f" ] && break; sleep 0.05; done
	SILENT_PORT=$(cat "$f")
}
