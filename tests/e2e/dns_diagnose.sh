# The mistakes people make in DNS panels, served by a real Knot and named
# with their fix by `check` (text and JSON) and by batch's DNS step (JSON).
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
R=$(t_tmpdir)
V=$(make_key "$R" s1) || { not_ok "key made"; exit 1; }
P=${V##*p=}

chk() { "$DKIM_SETUP" check --root "$R" -d example.test -s s1 $(NS4) "$@"; }
batch_json() {
	"$DKIM_SETUP" --batch --json --root "$R" -d example.test -s s1 --mta none --wait 1 $(NS4) 2>/dev/null
}
diag() { /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("dns", d)
print(" ".join(str(s.get("diagnosis")) for s in d.get("servers", [])))'; }

# expect NAME DIAGNOSIS TEXT-REGEX: check text and JSON, and batch JSON
expect() {
	local what=$1 id=$2 re=$3 out
	out=$(chk)
	check_match "$what: check names it with the fix" "$re" "$(tr -s '\n ' '  ' <<<"$out")"
	check_eq "$what: check --json diagnosis" "$id" "$(chk --json | diag)"
	check_eq "$what: batch JSON diagnosis" "$id" "$(batch_json | diag)"
}

# 1. the name doubled by a panel that adds the domain itself
knot_set_txt "s1._domainkey.example.test" "$V"   # relative: Knot appends the zone
check_match "Knot serves the doubled name" "DKIM1" \
	"$(kdig +short @127.0.0.1 -p "$KNOT_PORT" s1._domainkey.example.test.example.test TXT)"
expect "name doubled" name_doubled "s1._domainkey.example.test.example.test: the panel added the domain a second time.*enter only s1._domainkey"
knot_del "s1._domainkey.example.test"

# 2. the value split over two TXT records
mapfile -t parts < <(split_str "$V" 255)
knot_set_txt s1._domainkey "${parts[0]}"
knot_add_txt s1._domainkey "${parts[1]}"
check_eq "Knot serves two TXT records" 2 \
	"$(kdig +short @127.0.0.1 -p "$KNOT_PORT" s1._domainkey.example.test TXT | wc -l)"
expect "split over two records" split_records "split over 2 TXT records; it must be one record of 2 strings"
knot_del s1._domainkey TXT

# 3. the key under another selector
knot_set_txt default._domainkey "$V"
expect "another selector" other_selector "published under the selector default"
knot_del default._domainkey

# 4. a CNAME to nowhere
knot_cname s1._domainkey "s1.dkim.nowhere.example.test."
expect "CNAME to nowhere" cname_nowhere "CNAME to s1.dkim.nowhere.example.test, which does not exist: point the CNAME"
knot_del s1._domainkey

# 5. the key of another algorithm (an Ed25519 record where the RSA key belongs)
knot_set_txt s1._domainkey "$(cat "$TOP/tests/data/ed25519.record")"
expect "another algorithm" other_algorithm "holds an Ed25519 key .k=ed25519., but this selector's key is RSA"

# 6. the value cut at 255 characters
knot_set_txt s1._domainkey "${V:0:255}"
expect "value cut at 255" cut "stops after 255 characters|cut short"

# 7. quote marks pasted
knot_set_txt s1._domainkey "v=DKIM1; k=rsa; \\\" \\\"p=$P"
expect "quotes pasted" quotes "quote marks"

# and when it is right, no diagnosis
knot_set_txt s1._domainkey "$V"
check_eq "published right: no diagnosis" None "$(chk --json | diag)"
