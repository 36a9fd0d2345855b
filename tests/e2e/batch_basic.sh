# --batch end to end in a --root sandbox: files, modes, contents, that
# openssl accepts the key and its public half is the record's p=, that dkimpy
# verifies a signature made with the key against the printed record, re-runs,
# --force with a backup, --dry-run, `record`, and a planted symlink.
. "$TOP/tests/lib/lib.sh"
R=$(t_tmpdir)
B=$DKIM_SETUP

out=$($B --batch --root "$R" -d Example.COM -s s1 --mta none 2>&1); rc=$?
check_eq "batch exits 0" 0 "$rc"
priv=$R/etc/ssl/private/example.com-s1-private.pem
pub=$R/etc/ssl/certs/example.com-s1-public.pem
check "private key written" test -f "$priv"
check_eq "private key mode 0600" 600 "$(stat -c %a "$priv")"
check_eq "public key mode 0644" 644 "$(stat -c %a "$pub")"
check_eq "private dir mode 0710" 710 "$(stat -c %a "$R/etc/ssl/private")"
check "private key is PKCS#8" grep -q -- '-----BEGIN PRIVATE KEY-----' "$priv"
check "openssl accepts the key" openssl pkey -in "$priv" -noout
check_match "RSA-2048" 'Private-Key: \(2048 bit' "$(openssl pkey -in "$priv" -noout -text 2>&1 | head -1)"
p_openssl=$(openssl pkey -in "$priv" -pubout -outform DER | base64 -w0)
check_contains "record printed with openssl's p=" "p=$p_openssl" "$out"
check "public PEM matches the private key" cmp -s <(openssl pkey -in "$priv" -pubout) "$pub"
check_match "FQDN shown" 's1\._domainkey\.example\.com' "$out"
check_match "relative name shown" '"s1\._domainkey"' "$out"
check "no temp files left" test -z "$(find "$R" -name '.dkim-setup.*')"

# dkimpy signs with our key and verifies against the record we printed.
value=$(printf '%s\n' "$out" | sed -n 's/^  Value:  //p')
check "dkimpy verifies with the printed record" /usr/bin/python3 - "$priv" "$value" <<'PY'
import sys, dkim
key = open(sys.argv[1], "rb").read()
record = sys.argv[2].encode()
msg = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"
sig = dkim.sign(msg, b"s1", b"example.com", key, include_headers=[b"from", b"to", b"subject"])
def dnsfunc(name, timeout=5):
    assert name == b"s1._domainkey.example.com.", name
    return record
sys.exit(0 if dkim.verify(sig + msg, dnsfunc=dnsfunc) else 1)
PY

# A second run changes nothing and says so.
before=$(stat -c '%i %Y' "$priv" "$pub")
out2=$($B --batch --root "$R" -d example.com -s s1 --mta none 2>&1); rc=$?
check_eq "re-run exits 0" 0 "$rc"
check_match "re-run says unchanged" 'unchanged' "$out2"
check_eq "re-run wrote nothing" "$before" "$(stat -c '%i %Y' "$priv" "$pub")"

# A different size for the same selector is refused without --force.
out3=$($B --batch --root "$R" -d example.com -s s1 -b 3072 --mta none 2>&1); rc=$?
check_eq "other size refused with exit 2" 2 "$rc"
check_match "refusal names --force" 'force' "$out3"
check_eq "refusal is one line" 1 "$(printf '%s\n' "$out3" | wc -l)"
check_eq "key untouched" "$before" "$(stat -c '%i %Y' "$priv" "$pub")"

# --force replaces, keeping the old key as a backup.
old=$(sha256sum <"$priv")
$B --batch --root "$R" -d example.com -s s1 -b 3072 --force --mta none >/dev/null 2>&1; rc=$?
check_eq "--force exits 0" 0 "$rc"
bak=$(ls "$R"/var/backups/dkim-setup/etc/ssl/private/example.com-s1-private.pem.2* 2>/dev/null | head -1)
check "backup exists" test -n "$bak"
[ -n "$bak" ] && check_eq "backup holds the old key" "$old" "$(sha256sum <"$bak")"
[ -n "$bak" ] && check_eq "backup mode 0600" 600 "$(stat -c %a "$bak")"
check_match "new key is 3072" 'Private-Key: \(3072 bit' "$(openssl pkey -in "$priv" -noout -text 2>&1 | head -1)"

# Ed25519 and its raw p= (RFC 8463).
out=$($B --batch --root "$R" -d example.com -s ed1 -a ed25519 --mta none --json 2>/dev/null); rc=$?
check_eq "ed25519 exits 0" 0 "$rc"
edp=$(openssl pkey -in "$R/etc/ssl/private/example.com-ed1-private.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
check_eq "ed25519 JSON record value" "v=DKIM1; k=ed25519; p=$edp" \
	"$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])')"

# JSON has every field the contract names.
js=$($B --batch --root "$R" -d example.com -s s1 -b 3072 --mta none --json 2>/dev/null)
check "JSON fields" /usr/bin/python3 -c '
import json, sys
j = json.loads(sys.argv[1])
r = j["record"]
assert j["domain"] == "example.com" and j["selector"] == "s1" and j["algorithm"] == "rsa" and j["bits"] == 3072
assert j["private_key"] == "/etc/ssl/private/example.com-s1-private.pem"
assert j["public_key"] == "/etc/ssl/certs/example.com-s1-public.pem"
assert j["key"] == "unchanged"
assert r["name"] == "s1._domainkey.example.com" and r["relative_name"] == "s1._domainkey" and r["type"] == "TXT"
assert "".join(r["strings"]) == r["value"] and all(len(s) <= 255 for s in r["strings"])
assert len(r["strings"]) >= 2
' "$js"

# record prints the same record for an existing key.
rec=$($B record --root "$R" -d example.com -s s1 --json)
check_eq "record = batch record" \
	"$(printf '%s' "$js" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])')" \
	"$(printf '%s' "$rec" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["value"])')"
$B record --root "$R" -d example.com -s nosuch >/dev/null 2>&1; rc=$?
check_eq "record of a missing key exits 2" 2 "$rc"

# --dry-run writes nothing.
R2=$(t_tmpdir)
$B --batch --root "$R2" -d example.com -s s1 --mta none --dry-run >/dev/null 2>&1; rc=$?
check_eq "dry run exits 0" 0 "$rc"
check_eq "dry run wrote nothing" "" "$(find "$R2" -mindepth 1)"

# --dry-run with a mail server: the change is shown (the key copy as a new
# file), and still nothing is written.
R3=$(t_tmpdir)
mkdir -p "$R3/etc/exim4" "$R3/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$R3/etc/exim4/update-exim4.conf.conf"
: >"$R3/usr/sbin/exim4"
before=$(find "$R3" | sort)
out=$($B --batch --root "$R3" -d example.com -s s1 --mta exim --dry-run 2>&1); rc=$?
check_eq "dry run with Exim exits 0" 0 "$rc"
check_match "  ... shows the macros block as a diff" '\+DKIM_SELECTOR = \$\{lookup\{\$dkim_domain\}lsearch\{/etc/exim4/dkim/domains\}\}' "$out"
check_match "  ... and the domain in Exim's domains file" '\+example\.com: s1' "$out"
check_match "  ... and the signer's copy as a new file" '# new file /etc/exim4/dkim/example\.com-s1-private\.pem' "$out"
check_eq "  ... and writes nothing" "$before" "$(find "$R3" | sort)"

# Default domain from /etc/mailname, default selector YYYYMM.
mkdir -p "$R2/etc" && echo "Shop.Example.NET" >"$R2/etc/mailname"
js=$($B --batch --root "$R2" --mta none --json 2>/dev/null)
check_eq "domain from /etc/mailname" "shop.example.net" "$(printf '%s' "$js" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["domain"])')"
check_eq "selector from the date" "$(date -u +%Y%m)" "$(printf '%s' "$js" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["selector"])')"

# A symlink planted at the key path is refused and its target untouched.
R3=$(t_tmpdir)
mkdir -p "$R3/etc/ssl/private" "$R3/etc/ssl/certs"
chmod 0710 "$R3/etc/ssl/private"
echo "precious" >"$R3/target"
ln -s "$R3/target" "$R3/etc/ssl/private/example.com-s1-private.pem"
out=$($B --batch --root "$R3" -d example.com -s s1 --mta none --force 2>&1); rc=$?
check_eq "symlink at key path: exit 3" 3 "$rc"
check_match "symlink named in the error" 'symlink' "$out"
check_eq "symlink target untouched" "precious" "$(cat "$R3/target")"
check "no public key written after refusal" test ! -e "$R3/etc/ssl/certs/example.com-s1-public.pem"
