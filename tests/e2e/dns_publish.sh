# --publish: RFC 2136 UPDATE signed with TSIG to a real Knot on loopback, with
# keys in both file forms; wrong, unknown, missing and refused keys are clear
# errors, never a hang.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
D=$(t_tmpdir)
IFS=: read -r alg kname secret <"$KNOT_DIR/tsig.key"
wrong=$(head -c 32 /dev/urandom | base64)
printf 'key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n' "$kname" "$alg" "$secret" >"$D/bind.key"
printf '# made by tsig-keygen\nkey "%s" { algorithm %s; secret "%s"; };\n' "$kname" "$alg" "$wrong" >"$D/bind-wrong.key"
echo "$alg:$kname:$wrong" >"$D/wrong.key"
echo "$kname:$secret" >"$D/short.key"
echo "$alg:nosuchkey:$secret" >"$D/unknown.key"
echo "hmac-md5:$kname:$secret" >"$D/md5.key"

# served TXT at NAME, strings joined, one line per record
served() {
	kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" "$1" TXT | sed 's/" "//g; s/"//g'
}
pub() {   # pub SELECTOR KEYFILE [more options]
	local sel=$1 key=$2; shift 2
	"$DKIM_SETUP" --batch --root "$R" -d example.test -s "$sel" --mta none $(NS46) \
		--publish --tsig-key "$key" "$@"
}
R=$(t_tmpdir)

# Right key, algorithm:name:secret form; an old TXT at the name is replaced.
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; p=OLDKEY"
knot_add_txt s1._domainkey "something else"
out=$(pub s1 "$KNOT_DIR/tsig.key" --json 2>"$D/err"); rc=$?
check_eq "colon form: exit 0" 0 "$rc"
V=$("$DKIM_SETUP" record --root "$R" -d example.test -s s1 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])')
check_eq "colon form: kdig sees exactly our record" "$V" "$(served s1._domainkey.example.test)"
check_match "colon form: published member in JSON" '"published":true' "$out"
ms=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["dns"]["confirmed_ms_after_ack"])')
check "colon form: confirmed ${ms} ms after the acknowledgement (< 1000)" [ "$ms" -lt 1000 ]
check_match "colon form: says who accepted it" "accepted the update" "$(cat "$D/err")"
"$DKIM_SETUP" check --root "$R" -d example.test -s s1 $(NS46) >/dev/null
check_eq "colon form: check agrees" 0 "$?"

# BIND key file form.
out=$(pub s2 "$D/bind.key" 2>&1); rc=$?
check_eq "BIND form: exit 0" 0 "$rc"
check_match "BIND form: record served" "^v=DKIM1; k=rsa; p=" "$(served s2._domainkey.example.test)"

# name:secret (hmac-sha256 assumed).
out=$(pub s3 "$D/short.key" 2>&1); rc=$?
check_eq "name:secret form: exit 0" 0 "$rc"

# A 4096-bit record: split into strings of at most 255 bytes, served over TCP.
out=$(pub big "$KNOT_DIR/tsig.key" -b 4096 2>&1); rc=$?
check_eq "4096-bit publish: exit 0" 0 "$rc"
n=$(kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" big._domainkey.example.test TXT | grep -o '" "' | wc -l)
check_eq "4096-bit publish: 3 strings" 2 "$n"

# Wrong secret: BADSIG, nothing changed, quick.
start=$SECONDS
out=$(pub w1 "$D/wrong.key" 2>&1); rc=$?
check_eq "wrong secret: exit 3" 3 "$rc"
check_match "wrong secret: BADSIG named" "BADSIG" "$out"
check_eq "wrong secret: nothing published" "" "$(served w1._domainkey.example.test)"
check "wrong secret: quick" [ $((SECONDS - start)) -le 3 ]
out=$(pub w2 "$D/bind-wrong.key" 2>&1); rc=$?
check_eq "wrong secret, BIND form: exit 3" 3 "$rc"
check_match "wrong secret, BIND form: BADSIG" "BADSIG" "$out"

# Unknown key name: BADKEY.
out=$(pub w3 "$D/unknown.key" 2>&1); rc=$?
check_eq "unknown key: exit 3" 3 "$rc"
check_match "unknown key: BADKEY named" "BADKEY" "$out"

# Missing key file, hmac-md5: refused before anything is sent (exit 2).
out=$(pub w4 "$D/nonexistent.key" 2>&1); rc=$?
check_eq "missing key file: exit 2" 2 "$rc"
check_match "missing key file: says so" "No such file" "$out"
check "missing key file: no key written" [ ! -e "$R/etc/ssl/private/example.test-w4-private.pem" ]
out=$(pub w5 "$D/md5.key" 2>&1); rc=$?
check_eq "hmac-md5: exit 2" 2 "$rc"
check_match "hmac-md5: refused with a reason" "hmac-md5 is refused" "$out"
check "hmac-md5: no key written" [ ! -e "$R/etc/ssl/private/example.test-w5-private.pem" ]

# A zone the server does not serve: REFUSED.
out=$("$DKIM_SETUP" --batch --root "$R" -d other.test -s s1 --mta none $(NS4) \
	--publish --tsig-key "$KNOT_DIR/tsig.key" 2>&1); rc=$?
check_eq "zone not served: exit 3" 3 "$rc"
check_match "zone not served: REFUSED named" "REFUSED" "$out"

# A server that never answers: bounded.
silent_start
start=$SECONDS
out=$("$DKIM_SETUP" --batch --root "$R" -d example.test -s w6 --mta none \
	--nameserver "127.0.0.1@$SILENT_PORT" --publish --tsig-key "$KNOT_DIR/tsig.key" 2>&1); rc=$?
check_eq "silent server: exit 3" 3 "$rc"
check "silent server: gave up within 6 s" [ $((SECONDS - start)) -le 6 ]
check_match "silent server: no answer named" "no answer" "$out"

# --dry-run publishes nothing.
out=$(pub d1 "$KNOT_DIR/tsig.key" --dry-run 2>&1); rc=$?
check_eq "dry run: exit 0" 0 "$rc"
check_eq "dry run: nothing published" "" "$(served d1._domainkey.example.test)"
