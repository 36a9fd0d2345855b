# dkim-setup check against a real Knot on loopback: every status a server can
# be in, compared with the local key. Every query goes to 127.0.0.1 or ::1.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
R=$(t_tmpdir)
V=$(make_key "$R" s1) || { not_ok "key made"; exit 1; }
V2=$(make_key "$(t_tmpdir)" s1) || { not_ok "second key made"; exit 1; }
P=${V##*p=}

chk() { "$DKIM_SETUP" check --root "$R" -d example.test -s s1 $(NS46) "$@"; }

# absent
out=$(chk --json); rc=$?
check_eq "absent: exit 1" 1 "$rc"
check_eq "absent: both servers say absent" "absent absent" "$(echo "$out" | json_statuses)"
check_match "absent: said in plain words" "no such name" "$out"
check_eq "negative TTL = min(SOA TTL, MINIMUM)" 300 "$(echo "$out" | json_field negative_ttl)"
out=$(chk); rc=$?
check_match "text: negative caching explained" "Negative caching: .*5 min" "$out"
check_match "text: one line per server" "127\.0\.0\.1:$KNOT_PORT .* missing" "$out"
check_match "text: ::1 too" "\[::1\]:$KNOT_PORT .* missing" "$out"

# matches
knot_set_txt s1._domainkey "$V"
out=$(chk --json); rc=$?
check_eq "match: exit 0" 0 "$rc"
check_eq "match: both servers" "match match" "$(echo "$out" | json_statuses)"
check_eq "match: serial reported" 2 "$(echo "$out" | json_field serial)"

# split into several strings (each <= 100 bytes): still the same record
mapfile -t parts < <(split_str "$V" 100)
knot_set_txt s1._domainkey "${parts[@]}"
check_eq "several strings: ${#parts[@]} strings served" "${#parts[@]}" \
	"$(kdig +short @127.0.0.1 -p "$KNOT_PORT" s1._domainkey.example.test TXT | grep -o '" "' | wc -l | awk '{print $1+1}')"
out=$(chk --json); rc=$?
check_eq "several strings: exit 0" 0 "$rc"

# wrong key
knot_set_txt s1._domainkey "$V2"
out=$(chk --json); rc=$?
check_eq "wrong key: exit 1" 1 "$rc"
check_eq "wrong key: status" "wrong_key wrong_key" "$(echo "$out" | json_statuses)"
check_match "wrong key: says p= differs" "different key" "$out"

# k= disagrees with the key type
knot_set_txt s1._domainkey "v=DKIM1; k=ed25519; p=$P"
out=$(chk --json); rc=$?
check_eq "k=ed25519 for an RSA key: wrong key" "wrong_key wrong_key" "$(echo "$out" | json_statuses)"

# revoked
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; p="
out=$(chk --json); rc=$?
check_eq "revoked: exit 1" 1 "$rc"
check_eq "revoked: status" "revoked revoked" "$(echo "$out" | json_statuses)"

# v= not first: invalid, with the parser's reason
knot_set_txt s1._domainkey "k=rsa; v=DKIM1; p=$P"
out=$(chk --json); rc=$?
check_eq "v= not first: exit 1" 1 "$rc"
check_eq "v= not first: invalid" "invalid invalid" "$(echo "$out" | json_statuses)"
check_match "v= not first: reason" "v= must be the first tag" "$out"

# the zone-file form pasted as one value (quote marks inside)
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; \\\" \\\"p=$P"
out=$(chk --json)
check_match "quotes pasted into the value: invalid with a hint" '"invalid".*quote marks' "$out"

# t=y is noted but still matches
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; t=y; p=$P"
out=$(chk --json); rc=$?
check_eq "t=y: exit 0" 0 "$rc"
check_eq "t=y: testing flag" True "$(echo "$out" | json_field testing)"
check_match "t=y: noted" "testing mode" "$out"

# h= that leaves out sha256: signatures would never verify
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; h=sha1; p=$P"
out=$(chk --json)
check_match "h=sha1 only: invalid, said why" '"invalid".*h=sha1' "$out"
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; h=sha1:sha256; p=$P"
out=$(chk --json); rc=$?
check_eq "h=sha1:sha256: OK" 0 "$rc"

# two TXT records at the selector
knot_set_txt s1._domainkey "$V"
knot_add_txt s1._domainkey "google-site-verification=abc"
out=$(chk --json); rc=$?
check_eq "two TXT records: exit 1" 1 "$rc"
check_eq "two TXT records: several" "multiple multiple" "$(echo "$out" | json_statuses)"
check_match "two TXT records: one matches, delete the other" "one matches" "$out"

# CNAME to another name (the way providers delegate selectors)
knot_del s1._domainkey
knot_set_txt keys.s1 "$V"
knot_cname s1._domainkey keys.s1.example.test.
out=$(chk --json); rc=$?
check_eq "CNAME: exit 0" 0 "$rc"
check_match "CNAME: followed and named" "via CNAME keys.s1.example.test" "$out"
check_match "CNAME: serial and negative TTL still found" '"negative_ttl":300.*"serial":[0-9]' "$out"
knot_del keys.s1 TXT
out=$(chk --json); rc=$?
check_eq "CNAME to a name without TXT: absent" "absent absent" "$(echo "$out" | json_statuses)"
knot_cname s1._domainkey s1._domainkey.example.test.
out=$(chk --json); rc=$?
check_match "CNAME loop: an error, no hang" '"error"' "$out"
knot_del s1._domainkey

# a 4096-bit record: over 512 bytes, so UDP is truncated and TCP is used
R4=$(t_tmpdir)
V4=$(make_key "$R4" big 4096) || not_ok "4096-bit key made"
mapfile -t parts < <(split_str "$V4" 255)
knot_set_txt big._domainkey "${parts[@]}"
out=$("$DKIM_SETUP" check --root "$R4" -d example.test -s big $(NS46) --json); rc=$?
check_eq "4096-bit: exit 0" 0 "$rc"
check_eq "4096-bit: answered over TCP" True "$(echo "$out" | json_field tcp)"

# REFUSED: a zone this server does not serve
R2=$(t_tmpdir)
"$DKIM_SETUP" --batch --root "$R2" -d other.test -s s1 --mta none $(NS4) >/dev/null 2>&1
start=$SECONDS
out=$("$DKIM_SETUP" check --root "$R2" -d other.test -s s1 $(NS4) --json 2>/dev/null); rc=$?
check_eq "REFUSED: exit 3 (DNS unusable)" 3 "$rc"
check_match "REFUSED: named" "REFUSED" "$out"
check "REFUSED: quick" [ $((SECONDS - start)) -le 3 ]

# nothing listens on the port
port=$(t_free_port)
start=$SECONDS
out=$("$DKIM_SETUP" check --root "$R" -d example.test -s s1 --nameserver "127.0.0.1@$port" --json 2>/dev/null); rc=$?
check_eq "nothing listens: exit 3" 3 "$rc"
check_match "nothing listens: connection refused" "connection refused" "$out"
check "nothing listens: quick" [ $((SECONDS - start)) -le 3 ]

# a server that never answers: bounded by the 2 s timeout
silent_start
start=$(date +%s.%N)
out=$("$DKIM_SETUP" check --root "$R" -d example.test -s s1 --nameserver "127.0.0.1@$SILENT_PORT" --json 2>/dev/null); rc=$?
el=$(echo "$(date +%s.%N) - $start" | bc)
check_eq "never answers: exit 3" 3 "$rc"
check_match "never answers: timeout named" "no answer within 2.0 s" "$out"
check "never answers: done within 6 s (took $el s)" [ "$(echo "$el < 6" | bc)" = 1 ]

# one good server and one dead: not "all match"
knot_set_txt s1._domainkey "$V"
out=$("$DKIM_SETUP" check --root "$R" -d example.test -s s1 $(NS4) --nameserver "127.0.0.1@$port" --json 2>/dev/null); rc=$?
check_eq "one OK, one dead: exit 3" 3 "$rc"
check_eq "one OK, one dead: statuses" "match error" "$(echo "$out" | json_statuses)"

# --key FILE: the private key given explicitly; and another key gives wrong key
out=$("$DKIM_SETUP" check -d example.test -s s1 $(NS4) --key "$R/etc/ssl/private/example.test-s1-private.pem" --json); rc=$?
check_eq "--key private PEM: exit 0" 0 "$rc"
out=$("$DKIM_SETUP" check -d example.test -s s1 $(NS4) --key "$R4/etc/ssl/certs/example.test-big-public.pem" --json); rc=$?
check_eq "--key another public PEM: exit 1" 1 "$rc"
"$DKIM_SETUP" check -d example.test -s s1 $(NS4) --key /nonexistent >/dev/null 2>&1; rc=$?
check_eq "--key missing file: exit 2" 2 "$rc"

# The signers' copies (DESIGN.md): check compares each with the master key.
knot_set_txt s1._domainkey "$V"
out=$(chk); rc=$?
check_eq "no copy yet: exit 0" 0 "$rc"
check_match "  ... and says there is none" "Signer's copy: none" "$out"
mkdir -p "$R/etc/exim4/dkim" "$R/etc/dkimkeys"
chmod 0750 "$R/etc/exim4/dkim" "$R/etc/dkimkeys"
install -m 0640 "$R/etc/ssl/private/example.test-s1-private.pem" "$R/etc/exim4/dkim/example.test-s1-private.pem"
install -m 0600 "$R/etc/ssl/private/example.test-s1-private.pem" "$R/etc/dkimkeys/example.test-s1.private"
out=$(chk); rc=$?
check_eq "both copies the same key: exit 0" 0 "$rc"
check_match "  ... Exim's copy: the same key" "Signer's copy /etc/exim4/dkim/example\.test-s1-private\.pem: the same key" "$out"
check_match "  ... OpenDKIM's copy: the same key" "Signer's copy /etc/dkimkeys/example\.test-s1\.private: the same key" "$out"
R5=$(t_tmpdir)
make_key "$R5" s1 >/dev/null
install -m 0640 "$R5/etc/ssl/private/example.test-s1-private.pem" "$R/etc/exim4/dkim/example.test-s1-private.pem"
out=$(chk --json); rc=$?
check_eq "a stale Exim copy: exit 1 although DNS matches" "1 match match" "$rc $(echo "$out" | json_statuses)"
check_eq "  ... JSON: same false for Exim's, true for OpenDKIM's" "False True" \
	"$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(" ".join(str(c["same"]) for c in json.load(sys.stdin)["signer_copies"]))')"
out=$(chk); rc=$?
check_match "  ... text: says the mail server signs with another key, and what to run" \
	"example\.test-s1-private\.pem: a different key than the master.*Run dkim-setup --batch -d example\.test -s s1 again" \
	"$(tr '\n' ' ' <<<"$out")"
