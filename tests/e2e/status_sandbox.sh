# `dkim-setup status` tells the truth about each state a selector can be in,
# checked against what a real Knot serves: OK, missing, another key,
# revoked, a stale signer copy, an old key, a key nobody signs with, a
# selector the signer uses without a master key, DNS that cannot be asked,
# and servers that disagree. Text at 80 columns and JSON. (A --root sandbox
# with Debian Exim's files; status never writes.)
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"
need_root

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
TSIG=$KNOT_DIR/tsig.key
R=$(t_tmpdir)
mkdir -p "$R/etc/exim4" "$R/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$R/etc/exim4/update-exim4.conf.conf"
: >"$R/usr/sbin/exim4"
printf 'root:x:0:\nDebian-exim:x:107:\n' >"$R/etc/group"

setup() {   # domain selector [more]: configured for Exim and published
	local d=$1 s=$2; shift 2
	"$DKIM_SETUP" --batch --root "$R" $(NS46) -d "$d" -s "$s" --mta exim --publish --tsig-key "$TSIG" "$@" >/dev/null 2>&1
}
# one key's field from status --json: key DOMAIN SELECTOR FIELD
key() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in d["keys"]:
    if k["domain"] == sys.argv[1] and k["selector"] == sys.argv[2]:
        print(k[sys.argv[3]]); break
else:
    print("absent")' "$1" "$2" "$3" <"$J"
}

out=$("$DKIM_SETUP" status --root "$R" $(NS46)); rc=$?
check_eq "no keys: exit 0" 0 "$rc"
check_match "no keys: says how to make one" "No DKIM keys here" "$out"

setup ok.example.test s1
setup miss.example.test s1 && knot_del s1._domainkey.miss
# another real key's record (ok's) at wrong's name
mapfile -t parts < <(split_str "$(kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" s1._domainkey.ok.example.test TXT | sed 's/" "//g; s/"//g')" 255)
setup wrong.example.test s1 && knot_set_txt s1._domainkey.wrong "${parts[@]}"
setup rev.example.test s1 && knot_set_txt s1._domainkey.rev "v=DKIM1; p="
setup copy.example.test s1 && cp "$R/etc/exim4/dkim/ok.example.test-s1-private.pem" "$R/etc/exim4/dkim/copy.example.test-s1-private.pem"
setup old.example.test s1 && touch -d '200 days ago' "$R/etc/ssl/private/old.example.test-s1-private.pem"
"$DKIM_SETUP" --batch --root "$R" $(NS46) -d unused.test.example.test -s s1 --mta none --publish --tsig-key "$TSIG" >/dev/null 2>&1
setup nokey.example.test gone && rm "$R/etc/ssl/private/nokey.example.test-gone-private.pem" "$R/etc/ssl/certs/nokey.example.test-gone-public.pem"
before=$(find "$R" -printf '%p %m %s %T@\n' | sort)

out=$("$DKIM_SETUP" status --root "$R" $(NS46)); rc=$?
check_eq "status with problems: exit 1" 1 "$rc"
check_eq "no line over 80 columns (the notes folded too)" 0 "$(printf '%s\n' "$out" | awk '{ if (length($0) > 80) n++ } END { print n+0 }')"
row() { grep -E "^$1 " <<<"$out"; }
check_match "OK: served by both, same copy, rotate later" "yes +same OK 2/2 +rotate in 180d$" "$(row ok.example.test)"
check_match "missing: FIX DNS" "yes +same missing +FIX DNS$" "$(row miss.example.test)"
check_match "another key published: wrong key, FIX DNS" "yes +same wrong key +FIX DNS$" "$(row wrong.example.test)"
check_match "revoked while signing: FIX DNS" "yes +same revoked +FIX DNS$" "$(row rev.example.test)"
check_match "stale copy: DIFF, FIX COPY" "yes +DIFF OK 2/2 +FIX COPY$" "$(row copy.example.test)"
check_match "200 days old: rotate" "RSA-2048 +200d yes +same OK 2/2 +rotate$" "$(row old.example.test)"
check_match "a key the signer does not use" "no +- +OK 2/2 +not in use$" "$(row unused.test.examp~)"
check_match "a selector the signer uses without a master key (its copy is left)" "gone +- +- yes +\\? +OK 2/2 +no key here$" "$(row nokey.example.test)"
check_match "the problems are explained below the table" "Needs attention:.*copy.example.test/s1: the signer's copy .* is another key" "$(tr '\n' ' ' <<<"$out")"
check_eq "status writes nothing" "$before" "$(find "$R" -printf '%p %m %s %T@\n' | sort)"

J=$(t_tmpdir)/status.json
"$DKIM_SETUP" status --root "$R" $(NS46) --json >"$J"
check_eq "JSON: exit status in the object" 1 "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' <"$J")"
check_eq "JSON: ok" "match same True" "$(key ok.example.test s1 dns) $(key ok.example.test s1 signer_copy) $(key ok.example.test s1 signing)"
check_eq "JSON: missing" "absent" "$(key miss.example.test s1 dns)"
check_eq "JSON: wrong key" "wrong_key" "$(key wrong.example.test s1 dns)"
check_eq "JSON: revoked" "revoked" "$(key rev.example.test s1 dns)"
check_eq "JSON: stale copy" "different" "$(key copy.example.test s1 signer_copy)"
check_eq "JSON: age" "200" "$(key old.example.test s1 age_days)"
check_eq "JSON: unused" "False none" "$(key unused.test.example.test s1 signing) $(key unused.test.example.test s1 signer_copy)"
check_eq "JSON: no master" "False None" "$(key nokey.example.test gone master) $(key nokey.example.test gone algorithm)"

out=$("$DKIM_SETUP" status --root "$R" $(NS46) -d ok.example.test); rc=$?
check_eq "-d: only that domain, exit 0" "0 1" "$rc $(grep -c 'example.test' <<<"$out")"

silent_start
out=$("$DKIM_SETUP" status --root "$R" --nameserver 127.0.0.1@"$SILENT_PORT" -d ok.example.test); rc=$?
check_eq "DNS that does not answer: exit 3" 3 "$rc"
check_match "  ... says so" "yes +same error +check DNS$" "$(grep "^ok.example.test " <<<"$out")"
start=$SECONDS
out=$("$DKIM_SETUP" status --root "$R" --nameserver 127.0.0.1@"$KNOT_PORT" --nameserver 127.0.0.1@"$SILENT_PORT"); rc=$?
check_match "servers that disagree: OK 1/2" "yes +same OK 1/2 +check DNS$" "$(row ok.example.test)"
check_match "  ... a wrong key on one server is worse than an error on the other" "yes +same OK 0/2 +FIX DNS$" "$(grep "^wrong.example.test " <<<"$out")"
check "  ... every domain asked at once: one timeout, not nine ($((SECONDS - start)) s)" [ $((SECONDS - start)) -le 12 ]
