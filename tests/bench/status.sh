# Benchmark: `dkim-setup status` over 100 domains, each asked of 2
# authoritative servers (one Knot on 127.0.0.1 and ::1), target <= 2 s.
# Loopback only. BENCH_STATUS_DOMAINS (default 100), BENCH_TRIALS (default 5).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"
DK=${BENCH_DKIM_SETUP:-$TOP/build/dkim-setup}   # the optimised build, not ASan
N=${BENCH_STATUS_DOMAINS:-100}
TRIALS=${BENCH_TRIALS:-5}
KNOT_PORT=1
R=$(t_tmpdir)
DKIM_SETUP=$DK
V=$(make_key "$R" s1) || { echo "key generation failed"; exit 1; }
# one key under N domains (what is measured is the asking, not the keys)
zone=$(knot_basic_zone example.test)
strs=$(split_str "$V" 255 | sed 's/.*/"&"/' | tr '\n' ' ')
for i in $(seq -w 1 "$N"); do
	cp -p "$R/etc/ssl/private/example.test-s1-private.pem" "$R/etc/ssl/private/d$i.example.test-s1-private.pem"
	zone="$zone
s1._domainkey.d$i 300 IN TXT $strs"
done
rm -f "$R/etc/ssl/private/example.test-s1-private.pem" "$R/etc/ssl/certs/example.test-s1-public.pem"
knot_start example.test "$zone" || exit 1
best=999 worst=0 sum=0
for t in $(seq 1 "$TRIALS"); do
	s=$(date +%s.%N)
	out=$("$DK" status --root "$R" --mta none $(NS46) --json)
	rc=$?
	e=$(date +%s.%N)
	ms=$(echo "($e - $s) * 1000 / 1" | bc)
	ok=$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for k in d["keys"] if k["dns"]=="match" and len(k["servers"])==2))')
	echo "trial $t: ${ms} ms, exit $rc, $ok of $N domains served by both servers"
	[ "$ms" -lt "$best" ] && best=$ms
	[ "$ms" -gt "$worst" ] && worst=$ms
	sum=$((sum + ms))
done
echo "status, $N domains x 2 servers: best ${best} ms, mean $((sum / TRIALS)) ms, worst ${worst} ms (target <= 2000 ms)"
[ "$worst" -le 2000 ]
