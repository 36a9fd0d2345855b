#!/bin/bash
# attack_dns: a hostile authoritative server on loopback (Python, dnspython)
# answers `dkim-setup check` with: garbage, a 5-byte packet, the wrong id, a
# reply from the wrong address, a TXT set too big for UDP (TC, then 270 records, ~60 KB, over
# TCP), a CNAME loop and a 30-long CNAME chain, escape sequences in TXT text, a
# compression-pointer loop, SERVFAIL, a non-DKIM TXT, and silence.
# Each must end with exit 1 or 3 (never a crash, never a sanitizer report),
# within a bound, and print no raw control byte. A well-behaved answer from
# the same server must give exit 0 (so the harness itself is proven).
# Skipped until `check` is implemented (src/dns.c, src/check.c).
. "$TOP/tests/lib/lib.sh"
T=$(t_tmpdir)
SB=$T/root
mkdir -p "$SB"
out=$("$DKIM_SETUP" --root "$SB" check -d example.test -s ok --nameserver 127.0.0.1@9 2>&1)
[[ $out == *"not implemented"* ]] && skip_all "check is not implemented yet (DNS module)"

MODES="ok missing garbage short wrong-id wrong-addr huge cname-loop cname-chain escape
	ptr-loop servfail notdkim silent"
for m in $MODES; do
	"$DKIM_SETUP" --batch --root "$SB" -d example.test -s "$m" -a ed25519 >/dev/null 2>&1 ||
		not_ok "making the key for selector $m"
	"$DKIM_SETUP" --root "$SB" record -d example.test -s "$m" --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])' >"$T/$m.value"
done

PORT=$(t_free_port)
cat >"$T/evil_dns.py" <<'PY'
import os, random, socket, struct, sys, threading
import dns.flags, dns.message, dns.name, dns.rcode, dns.rrset
port, vals = int(sys.argv[1]), sys.argv[2]
value = lambda m: open(os.path.join(vals, m + ".value")).read().strip()
def split(v): return " ".join('"%s"' % v[i:i+255] for i in range(0, len(v), 255))
zone = "example.test."
soa = dns.rrset.from_text(zone, 300, "IN", "SOA", "ns1.example.test. h.example.test. 1 7200 3600 1209600 300")

def answer(wire, tcp):
    """Returns the bytes to send (None: stay silent), and an alternative source."""
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        return None, None
    qn = q.question[0].name
    mode = qn.labels[0].decode() if qn.labels else ""
    if q.question[0].rdtype != 16 and mode != "silent":
        mode = "other"
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    if mode in ("ok", "wrong-id", "wrong-addr"):
        # The right record for this key: accepting it by mistake would say OK.
        r.answer.append(dns.rrset.from_text(qn, 60, "IN", "TXT", split(value(mode))))
        w = r.to_wire()
        if mode == "wrong-id":
            w = struct.pack(">H", (q.id + 1) & 0xffff) + w[2:]
        return w, ("127.0.0.2" if mode == "wrong-addr" else None)
    if mode == "missing":
        r.set_rcode(dns.rcode.NXDOMAIN); r.authority.append(soa); return r.to_wire(), None
    if mode == "garbage":
        return bytes(random.getrandbits(8) for _ in range(300)), None
    if mode == "short":
        return wire[:2] + b"\x84\x00\x00", None
    if mode == "huge":
        if not tcp:
            r.flags |= dns.flags.TC; return r.to_wire(), None
        for i in range(270):   # about 60 KB: near the 64 KB limit of DNS over TCP
            r.answer.append(dns.rrset.from_text(qn, 60, "IN", "TXT", '"v=DKIM1; p=%s"' % ("A" * 196)))
        return r.to_wire(max_size=65535), None
    if mode == "cname-loop":
        r.answer.append(dns.rrset.from_text(qn, 60, "IN", "CNAME", qn.to_text()))
        return r.to_wire(), None
    if mode == "cname-chain":
        n = qn
        for i in range(30):
            nxt = dns.name.from_text("c%d.chain.example.test." % i)
            r.answer.append(dns.rrset.from_text(n, 60, "IN", "CNAME", nxt.to_text()))
            n = nxt
        return r.to_wire(), None
    if mode == "escape":
        r.answer.append(dns.rrset.from_text(qn, 60, "IN", "TXT",
            '"v=DKIM1; k=\\027[2J\\027]0;owned\\007; p=AAAA"'))
        return r.to_wire(), None
    if mode == "ptr-loop":
        w = r.to_wire()
        hdr = w[:6] + struct.pack(">HHH", 1, 0, 0)
        qd = w[12:12 + len(qn.to_wire()) + 4]
        return hdr + qd + b"\xc0" + bytes([12 + len(qd)]) + struct.pack(">HHIH", 16, 1, 60, 5) + b"\x04AAAA", None
    if mode == "servfail":
        r.set_rcode(dns.rcode.SERVFAIL); return r.to_wire(), None
    if mode == "notdkim":
        r.answer.append(dns.rrset.from_text(qn, 60, "IN", "TXT", '"v=spf1 -all"'))
        return r.to_wire(), None
    if mode == "silent":
        return None, None
    # Other questions (the SOA of the zone and of the names below it): plainly.
    if q.question[0].rdtype == 6 and str(qn) == zone:
        r.answer.append(soa)
    else:
        r.authority.append(soa)
    return r.to_wire(), None

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", port))
alt = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); alt.bind(("127.0.0.2", 0))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); tcp.bind(("127.0.0.1", port)); tcp.listen(8)
def serve_tcp():
    while True:
        c, _ = tcp.accept()
        try:
            c.settimeout(5)
            n = struct.unpack(">H", c.recv(2))[0]
            data = b""
            while len(data) < n:
                data += c.recv(n - len(data))
            w, _ = answer(data, True)
            if w is not None:
                c.sendall(struct.pack(">H", len(w)) + w)
        except Exception:
            pass
        finally:
            c.close()
threading.Thread(target=serve_tcp, daemon=True).start()
print("ready", flush=True)
while True:
    data, peer = udp.recvfrom(4096)
    w, src = answer(data, False)
    if w is not None:
        (alt if src else udp).sendto(w, peer)
PY
/usr/bin/python3 "$T/evil_dns.py" "$PORT" "$T" >"$T/evil.log" 2>&1 &
EVIL=$!
at_exit "kill $EVIL"
for _ in $(seq 50); do grep -q ready "$T/evil.log" && break; sleep 0.1; done

for m in $MODES; do
	start=$SECONDS
	timeout 60 "$DKIM_SETUP" --root "$SB" check -d example.test -s "$m" \
		--nameserver "127.0.0.1@$PORT" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	took=$((SECONDS - start))
	diag "$m: exit $rc in ${took}s: $(grep -m1 "127.0.0.1:$PORT" "$T/out" | tr -s ' ' | cut -d' ' -f4- | cut -c1-90)"
	if [ "$m" = ok ]; then
		check_eq "well-behaved answer: exit 0 (the harness works)" 0 "$rc"
		continue
	fi
	check "$m: exit 1 or 3, not a crash or sanitizer report (exit $rc)" eval '[ "$rc" = 1 ] || [ "$rc" = 3 ]'
	check "$m: done within 30 s (took ${took}s)" test "$took" -le 30
	check "$m: no raw control byte in the output" eval '! LC_ALL=C grep -q "[^[:print:][:space:]]" "$T/out" "$T/err"'
done
# The batch wait step against silence ends at its bound.
start=$SECONDS
timeout 60 "$DKIM_SETUP" --batch --root "$SB" -d example.test -s silent -a ed25519 --wait 3 \
	--nameserver "127.0.0.1@$PORT" >/dev/null 2>"$T/err" </dev/null
rc=$?
check "--batch --wait 3 against a silent server: exit 1 or 3 within 20 s (exit $rc, $((SECONDS - start))s)" \
	eval '{ [ "$rc" = 1 ] || [ "$rc" = 3 ]; } && [ $((SECONDS - start)) -le 20 ]'
