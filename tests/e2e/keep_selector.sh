# Issue 16, case 8 for Exim (and, through the same code, rspamd): a domain
# that already signs with a published selector keeps signing with it when a
# new selector is set up without waiting for DNS; signing switches only once
# every authoritative server serves the new record. In a --root sandbox with
# Debian Exim's files, against a real Knot on loopback.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"
need_root

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
TSIG=$KNOT_DIR/tsig.key
R=$(t_tmpdir)
W=$(t_tmpdir)
mkdir -p "$R/etc/exim4" "$R/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$R/etc/exim4/update-exim4.conf.conf"
: >"$R/usr/sbin/exim4"
printf 'root:x:0:\nDebian-exim:x:107:\n' >"$R/etc/group"
DOMS=$R/etc/exim4/dkim/domains
D=keep.example.test
ds() { "$DKIM_SETUP" "$@" --root "$R" $(NS46); }
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

ds --batch -d "$D" -s old1 --mta exim --publish --tsig-key "$TSIG" >"$W/s1.out" 2>&1
check_eq "old1 set up and published" "0 $D: old1" "$? $(grep "^$D" "$DOMS")"

ds --batch -d "$D" -s new1 --mta exim --json >"$W/s2.json" 2>"$W/s2.err"
rc=$?
check_eq "new1 without --wait: old1 keeps signing (the domains file is unchanged)" "$D: old1" "$(grep "^$D" "$DOMS")"
check_eq "  ... JSON says which selector was kept" "old1" "$(jget 'd["mta"]["kept_selector"]' <"$W/s2.json")"
check "  ... the key of new1 is installed beside it" test -f "$R/etc/exim4/dkim/$D-new1-private.pem"
check_match "  ... and the explanation says what to run once DNS serves new1" \
	"old1 keeps signing.*dkim-setup --batch -d $D -s new1 --wait 600" "$(jget 'd["mta"]["explain"]' <"$W/s2.json" 2>/dev/null || cat "$W/s2.json")"
diag "exit $rc"

ds --batch -d "$D" -s new1 --mta exim --publish --tsig-key "$TSIG" >"$W/s3.out" 2>&1
check_eq "new1 published and served everywhere: signing switches to it" "0 $D: new1" "$? $(grep "^$D" "$DOMS")"
