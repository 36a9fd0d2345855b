# The test DNS server itself works (other tests rely on it).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/knot.sh"
command -v knotd >/dev/null || skip_all "knotd missing"
knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
ok "knotd starts on 127.0.0.1@$KNOT_PORT"
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; p=AAAA" && ok "zone edit"
out=$(kdig +short @127.0.0.1 -p "$KNOT_PORT" s1._domainkey.example.test TXT)
check_eq "TXT served" '"v=DKIM1; k=rsa; p=AAAA"' "$out"
out=$(kdig +short @::1 -p "$KNOT_PORT" s1._domainkey.example.test TXT)
check_eq "TXT served on ::1" '"v=DKIM1; k=rsa; p=AAAA"' "$out"
