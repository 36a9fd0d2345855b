# --batch --wait: notices a record added while it waits, and ends on time
# (with an error) when the record never comes or the server never answers.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
R=$(t_tmpdir)
V=$(make_key "$R" s1) || { not_ok "key made"; exit 1; }
D=$(t_tmpdir)
now() { date +%s.%N; }
lt() { [ "$(echo "$1 < $2" | bc)" = 1 ]; }

# The record appears 2 s into a 20 s wait: the wait must end soon after.
start=$(now)
"$DKIM_SETUP" --batch --root "$R" -d example.test -s s1 --mta none $(NS46) --wait 20 --json \
	>"$D/out.json" 2>"$D/err.txt" &
pid=$!
at_exit "kill $pid 2>/dev/null"
sleep 2
added=$(now)
knot_set_txt s1._domainkey "$V"
wait "$pid"; rc=$?
done_at=$(now)
lat=$(echo "$done_at - $added" | bc)
check_eq "record added while waiting: exit 0" 0 "$rc"
check "noticed within 2 s of being added (took $lat s)" lt "$lat" 2
check_eq "JSON: dns member, both servers match" "match match" "$(json_statuses <"$D/out.json")"
check_match "JSON: confirmation time" '"confirmed_ms":[0-9]+' "$(cat "$D/out.json")"
check_match "progress lines on stderr with --json" "OK" "$(cat "$D/err.txt")"

# Never appears: the wait ends on time with exit 1.
knot_del s1._domainkey
start=$(now)
out=$("$DKIM_SETUP" --batch --root "$R" -d example.test -s s1 --mta none $(NS4) --wait 3 2>&1); rc=$?
el=$(echo "$(now) - $start" | bc)
check_eq "absent record: exit 1 after the wait" 1 "$rc"
check "absent record: ended on time (3 s wait took $el s)" lt "$el" 4.5
check_match "absent record: says so" "still not served" "$out"
check_match "absent record: the table is shown" "missing" "$out"

# A server that never answers: ends on time, exit 3, error named.
silent_start
start=$(now)
out=$("$DKIM_SETUP" --batch --root "$R" -d example.test -s s1 --mta none \
	--nameserver "127.0.0.1@$SILENT_PORT" --wait 3 2>&1); rc=$?
el=$(echo "$(now) - $start" | bc)
check_eq "silent server: exit 3" 3 "$rc"
check "silent server: ended on time (3 s wait took $el s)" lt "$el" 4.5
check_match "silent server: timeout named" "no answer within" "$out"

# Nothing listens on the port: same.
port=$(t_free_port)
start=$(now)
out=$("$DKIM_SETUP" --batch --root "$R" -d example.test -s s1 --mta none \
	--nameserver "127.0.0.1@$port" --wait 3 2>&1); rc=$?
el=$(echo "$(now) - $start" | bc)
check_eq "closed port: exit 3" 3 "$rc"
check "closed port: ended on time (took $el s)" lt "$el" 4.5
check_match "closed port: connection refused" "connection refused" "$out"

# Pace: about one TXT query per second per server while waiting.
out=$("$DKIM_SETUP" --batch --root "$R" -d example.test -s s1 --mta none $(NS4) --wait 5 --json 2>/dev/null)
q=$(echo "$out" | json_field queries)
check "pace: at most ~1.2 queries/s ($q queries in 5 s)" [ "$q" -le 7 ]
check "pace: kept asking ($q queries in 5 s)" [ "$q" -ge 4 ]
