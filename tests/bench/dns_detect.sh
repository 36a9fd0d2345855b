# Benchmark: how soon `--wait` notices a record that appears at a known
# instant, against the plain loop `kdig ... TXT; sleep 1`, side by side in the
# same trials; the queries per second each server received (counted by Knot's
# mod-stats, per address family = per server); and the time from a --publish
# update's acknowledgement to confirmation at every server.
# Loopback only: two Knot instances on 127.0.0.1 and ::1 (one for us, one for
# the baseline, so the server-side counts are not mixed).
# BENCH_TRIALS (default 10) sets the number of trials.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"
DK=${BENCH_DKIM_SETUP:-$TOP/build/dkim-setup}   # the optimised build, not ASan
TRIALS=${BENCH_TRIALS:-10}
NAME=s1._domainkey.example.test

KNOT_GLOBAL_MODULE=mod-stats knot_start example.test "$(knot_basic_zone example.test)" || exit 1
A_PORT=$KNOT_PORT A_DIR=$KNOT_DIR A_PID=$KNOT_PID
at_exit "kill $A_PID 2>/dev/null; wait $A_PID 2>/dev/null"
KNOT_GLOBAL_MODULE=mod-stats knot_start example.test "$(knot_basic_zone example.test)" || exit 1
B_PORT=$KNOT_PORT B_DIR=$KNOT_DIR

on() { KNOT_DIR=$1; }    # which Knot the knot_* helpers talk to
stage() {               # stage DIR: the record set in an open transaction
	KNOT_DIR=$1 knotc_ zone-begin example.test >/dev/null
	KNOT_DIR=$1 knotc_ zone-set example.test s1._domainkey 300 TXT "\"$V\"" >/dev/null
}
stat_of() {              # stat_of DIR PROTO -> counter
	KNOT_DIR=$1 knotc_ stats mod-stats.request-protocol | sed -n "s/.*\[$2\] = //p" | awk '{s+=$1} END {print s+0}'
}

R=$(t_tmpdir)
DKIM_SETUP=$DK
V=$(make_key "$R" s1) || { echo "key generation failed"; exit 1; }
P=${V##*p=}
NEEDLE=${P:0:40}
D=$(t_tmpdir)
now() { date +%s.%N; }

baseline() {   # the loop an admin would write, on Knot B: baseline OUTFILE MAXQUERIES
	local n=0 out
	while [ "$n" -lt "$2" ]; do
		n=$((n + 1))
		out=$(kdig +short +retry=0 +time=2 @127.0.0.1 -p "$B_PORT" "$NAME" TXT 2>/dev/null)
		if [[ $out == *"$NEEDLE"* ]]; then echo "$(now) $n" >"$1"; return; fi
		sleep 1
	done
	echo "0 $n" >"$1"
}
ours() {       # ours WAIT JSONFILE [more options]: --wait on Knot A, both addresses
	local w=$1 f=$2; shift 2
	"$DK" --batch --root "$R" -d example.test -s s1 --mta none \
		--nameserver "127.0.0.1@$A_PORT" --nameserver "::1@$A_PORT" --wait "$w" --json "$@" \
		>"$f" 2>/dev/null
}
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dns"].get(sys.argv[2], 0))' "$1" "$2"; }

# 1. Query rate while nothing is there yet: both run side by side for RATE s.
RATE=${BENCH_RATE_SECS:-20}
on "$A_DIR"; knot_del s1._domainkey TXT
on "$B_DIR"; knot_del s1._domainkey TXT
a4=$(stat_of "$A_DIR" udp4) a6=$(stat_of "$A_DIR" udp6) b4=$(stat_of "$B_DIR" udp4)
ours "$RATE" "$D/rate.json" &
p1=$!
baseline "$D/rate.loop" "$RATE" &
p2=$!
s0=$(now)
wait "$p1" "$p2"
el=$(echo "$(now) - $s0" | bc)
da4=$(($(stat_of "$A_DIR" udp4) - a4)) da6=$(($(stat_of "$A_DIR" udp6) - a6)) db4=$(($(stat_of "$B_DIR" udp4) - b4))
rates=$(echo "$da4 $da6 $db4 $el" | awk '{printf "%.2f %.2f %.2f", $1/$4, $2/$4, $3/$4}')
read -r r4 r6 rb <<<"$rates"
printf 'Queries received over %.1f s with no record (Knot mod-stats):\n' "$el"
printf '  dkim-setup --wait:  127.0.0.1 %s q/s (%d), ::1 %s q/s (%d)\n' "$r4" "$da4" "$r6" "$da6"
printf '  kdig; sleep 1 loop: 127.0.0.1 %s q/s (%d)\n\n' "$rb" "$db4"

# 2. Detection latency: the record appears 1.5-3.5 s after both start.
echo "trial  ours_ms(confirmed)  ours_ms(exit)  loop_ms"
: >"$D/rows"
for t in $(seq 1 "$TRIALS"); do
	on "$A_DIR"; knot_del s1._domainkey TXT
	on "$B_DIR"; knot_del s1._domainkey TXT
	ours 30 "$D/ours.json" &
	po=$!
	baseline "$D/loop" 60 &
	pl=$!
	sleep "1.$(printf '%03d' $((RANDOM % 1000)))"
	sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
	sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
	# the record becomes visible during zone-commit: the instant is taken
	# just before it (conservative: a detection can only come later)
	stage "$A_DIR"; stage "$B_DIR"
	t_a=$(now); KNOT_DIR=$A_DIR knotc_ zone-commit example.test >/dev/null
	t_b=$(now); KNOT_DIR=$B_DIR knotc_ zone-commit example.test >/dev/null
	wait "$po"; e_ours=$(now)
	wait "$pl"
	read -r e_loop _ <"$D/loop"
	c_us=$(jget "$D/ours.json" confirmed_at_us)
	echo "$t $c_us $t_a $e_ours $t_b $e_loop" | awk '{printf "%d %.1f %.1f %.1f\n", $1, ($2/1e6-$3)*1000, ($4-$3)*1000, ($6-$5)*1000}' >>"$D/rows"
	tail -n 1 "$D/rows" | awk '{printf "%5d  %19.0f  %13.0f  %7.0f\n", $1, $2, $3, $4}'
done

# 3. Publish: UPDATE acknowledged -> every server confirmed.
: >"$D/pub"
for t in $(seq 1 "$TRIALS"); do
	on "$A_DIR"; knot_del s1._domainkey TXT
	"$DK" --batch --root "$R" -d example.test -s s1 --mta none \
		--nameserver "127.0.0.1@$A_PORT" --nameserver "::1@$A_PORT" \
		--publish --tsig-key "$A_DIR/tsig.key" --json >"$D/pub.json" 2>/dev/null
	echo "$(jget "$D/pub.json" confirmed_us_after_ack)" | awk '{print $1/1000}' >>"$D/pub"
done

/usr/bin/python3 - "$D/rows" "$D/pub" <<'PY'
import statistics as st, sys
rows = [list(map(float, l.split()))[1:] for l in open(sys.argv[1]) if l.strip()]
pub = [float(l) for l in open(sys.argv[2]) if l.strip()]
def summ(xs):
    xs = sorted(xs)
    q = st.quantiles(xs, n=10) if len(xs) >= 2 else [xs[0]] * 9
    return "median %6.1f  p10 %6.1f  p90 %6.1f  min %6.1f  max %6.1f  stdev %6.1f" % (
        st.median(xs), q[0], q[-1], xs[0], xs[-1], st.pstdev(xs))
print()
print("Detection latency after the record appears (ms), %d trials:" % len(rows))
print("  dkim-setup, confirmed  ", summ([r[0] for r in rows]))
print("  dkim-setup, exited     ", summ([r[1] for r in rows]))
print("  kdig; sleep 1 loop     ", summ([r[2] for r in rows]))
print("Publish: UPDATE acknowledged -> confirmed at both servers (ms), %d trials:" % len(pub))
print("                         ", summ(pub))
PY
