# status, rotate, retire and rotate --auto in a --root sandbox with Debian
# Exim's files (no daemon: tests/e2e/rotate_mta.sh runs the real ones),
# against a real Knot on loopback: every record is checked with kdig.
# Covers: dual-signed rotation (RSA + Ed25519), a used selector refused,
# a rotation that stops before DNS serves the new record and continues,
# runs killed (SIGKILL) after the publish and after the signer's file was
# switched, each continued by a re-run; retire refused while signing and
# inside the grace period, then publishing p= with the copy gone and the
# master kept; --auto rotating exactly the old key and, time moved forward
# (the test build's clock), retiring past the grace period.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/dns.sh"
need_root
HOOK=${DKIM_SETUP_HOOK:-$TOP/build/tests/dkim-setup-hook}
[ -x "$HOOK" ] || skip_all "test build missing: make unit"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
TSIG=$KNOT_DIR/tsig.key
R=$(t_tmpdir)
W=$(t_tmpdir)
mkdir -p "$R/etc/exim4" "$R/usr/sbin"
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$R/etc/exim4/update-exim4.conf.conf"
: >"$R/usr/sbin/exim4"
printf 'root:x:0:\nDebian-exim:x:107:\n' >"$R/etc/group"
DOMS=$R/etc/exim4/dkim/domains
A=a.example.test
B=b.example.test

served() {   # NAME -> the TXT strings joined
	kdig +short +tcp @127.0.0.1 -p "$KNOT_PORT" "$1" TXT | sed 's/" "//g; s/"//g'
}
ds() { "$DKIM_SETUP" "$@" --root "$R" $(NS46); }
setup() {    # domain selector [more]
	local d=$1 s=$2; shift 2
	ds --batch -d "$d" -s "$s" --mta exim --publish --tsig-key "$TSIG" "$@" >"$W/setup.out" 2>&1
}
jget() {    # python expression over d (tuples printed space-separated)
	/usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin); v = eval(sys.argv[1])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1"
}
# every selector Exim is configured with for $1 is served by Knot
signer_served() {
	local sels s
	sels=$(sed -n "s/^$1: //p" "$DOMS" | tr -d ':')
	[ -n "$sels" ] || return 1
	for s in $sels; do
		[[ $(served "$s._domainkey.$1") == v=DKIM1*p=?* ]] || return 1
	done
}

# ---- a dual-signed domain ----
setup $A 202601
check_eq "setup: RSA key signs" 0 $?
setup $A 202601-ed -a ed25519
check_eq "setup: Ed25519 key next to it" "$A: 202601-ed : 202601" "$(grep "^$A" "$DOMS")"

out=$(ds status); rc=$?
check_eq "status: exit 0 when everything is right" 0 "$rc"
check_match "status: RSA row" "$A +202601 +RSA-2048 +0d yes +same OK 2/2 +rotate in 180d" "$out"
check_match "status: Ed25519 row" "$A +202601-ed +Ed25519 +0d yes +same OK 2/2" "$out"
check "status: no line over 80 columns" test "$(printf '%s\n' "$out" | awk '{ if (length($0) > 80) n++ } END { print n+0 }')" = 0
js=$(ds status --json)
check_eq "status --json: both keys, signing, served, same copy" "2 True match same" \
	"$(printf '%s' "$js" | jget 'len(d["keys"]), all(k["signing"] for k in d["keys"]), d["keys"][0]["dns"], d["keys"][0]["signer_copy"]')"

out=$(ds rotate -d $A -s 202601 2>&1); rc=$?
check_eq "rotate -s with a used selector: exit 2" 2 "$rc"
check_match "  ... says why" "used before" "$out"

# ---- a rotation that waits for DNS, continued ----
NEW=$(date -u +%Y%m)
out=$(ds rotate -d $A 2>&1); rc=$?
check_eq "rotate without --publish: exit 1 (DNS does not serve it yet)" 1 "$rc"
check_match "  ... shows the new record" "name $NEW._domainkey.$A" "$out"
check_match "  ... and the Ed25519 one" "name $NEW-ed._domainkey.$A" "$out"
check_eq "  ... the signer still uses the old selectors" "$A: 202601-ed : 202601" "$(grep "^$A" "$DOMS")"
check "  ... the new keys exist" test -f "$R/etc/ssl/private/$A-$NEW-private.pem" -a -f "$R/etc/ssl/private/$A-$NEW-ed-private.pem"
check_match "  ... state: keys made" "stage keys" "$(cat "$R/var/lib/dkim-setup/$A.state")"
out=$(ds status); rc=$?
check_match "status: the new key waits to be published" "$A +$NEW +RSA-2048 .* no +- +missing +publish" "$out"
out=$(ds rotate -d $A 2>&1); rc=$?
check_eq "rotate again: still exit 1, same selector" "1 yes" "$rc $(grep -q "Continuing the rotation of $A from 202601 to $NEW" <<<"$out" && echo yes)"
check "  ... no third key made" test ! -e "$R/etc/ssl/private/$A-${NEW}b-private.pem"
out=$(ds rotate -d $A --publish --tsig-key "$TSIG" --json 2>"$W/rot.err"); rc=$?
check_eq "rotate --publish continues: exit 0" 0 "$rc"
check_eq "  ... JSON: switched and proved" "True True $NEW $NEW-ed" \
	"$(printf '%s' "$out" | jget 'd["switched"], d["proved"], d["new_selector"], d["new_ed25519_selector"]')"
check_eq "  ... Exim signs with the new selectors" "$A: $NEW-ed : $NEW" "$(grep "^$A" "$DOMS")"
check "  ... the new keys' copies for Exim" test -f "$R/etc/exim4/dkim/$A-$NEW-private.pem" -a -f "$R/etc/exim4/dkim/$A-$NEW-ed-private.pem"
check_match "  ... the old record stays published" "^v=DKIM1; k=rsa; p=." "$(served 202601._domainkey.$A)"
check_match "  ... old selectors' stop recorded" "stopped 202601 [0-9]+" "$(cat "$R/var/lib/dkim-setup/$A.state")"
out=$(ds status)
check_match "status: the old key waits for its grace period" "$A +202601 .* no +same OK 2/2 +retire in 7d" "$out"

# ---- retire ----
out=$(ds retire -d $A -s $NEW 2>&1); rc=$?
check_eq "retire a signing selector: exit 2" 2 "$rc"
check_match "  ... says it still signs" "still signs" "$out"
out=$(ds retire -d $A -s 202601 --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "retire inside the grace period: exit 2" 2 "$rc"
check_match "  ... says until when" "less than 7 days ago.*retire it after" "$out"
check_match "  ... nothing revoked" "^v=DKIM1; k=rsa; p=." "$(served 202601._domainkey.$A)"
out=$(DKIM_SETUP_TEST_NOW=+8d "$HOOK" retire --root "$R" $(NS46) -d $A -s 202601 --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "retire after the grace period (clock +8 days): exit 0" 0 "$rc"
check_eq "  ... Knot serves the revoked record" "v=DKIM1; p=" "$(served 202601._domainkey.$A)"
check "  ... Exim's copy is gone" test ! -e "$R/etc/exim4/dkim/$A-202601-private.pem"
check "  ... the master is gone from /etc/ssl/private" test ! -e "$R/etc/ssl/private/$A-202601-private.pem"
bk=$(ls "$R"/var/backups/dkim-setup/etc/ssl/private/$A-202601-private.pem.retired-* 2>/dev/null | head -n 1)
check_eq "  ... and kept as a dated backup, 0600" "600" "$(stat -c %a "$bk" 2>&1)"
check_match "  ... the other keys untouched" "$A: $NEW-ed : $NEW" "$(grep "^$A" "$DOMS")"
out=$(ds retire -d $A -s 202601-ed --force 2>&1); rc=$?
check_eq "retire --force inside the grace period: exit 0" 0 "$rc"
check_match "  ... warns about mail in flight" "warning: .*may fail DKIM verification" "$out"
check_match "  ... shows p= for the panel (no --publish)" "v=DKIM1; p=" "$out"
out=$(ds status)
check_match "status: the retired selector" "$A +202601 +- .* no +- +revoked +retired" "$out"
out=$(ds rotate -d $A -s 202601-ed 2>&1); rc=$?
check_eq "a retired selector is never used again" 2 "$rc"

# ---- runs killed at each stage, continued ----
setup $B 202601
rotate_killed() {   # pause-moment -> runs the hook build until it pauses there, then SIGKILL
	rm -f "$W/log" "$W/go"
	mkfifo "$W/go"
	DKIM_SETUP_TEST_PAUSE="$1" DKIM_SETUP_TEST_FIFO="$W/go" DKIM_SETUP_TEST_LOG="$W/log" \
		"$HOOK" rotate --root "$R" $(NS46) -d $B --publish --tsig-key "$TSIG" >"$W/killed.out" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do
		grep -q "^paused" "$W/log" 2>/dev/null && break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	grep -q "^paused" "$W/log"
}
check "killed after the new record was published" rotate_killed "renamed:/var/lib/dkim-setup/$B.state@2"
check_match "  ... state: published" "stage published" "$(cat "$R/var/lib/dkim-setup/$B.state")"
check_eq "  ... Exim still signs with the old selector" "$B: 202601" "$(grep "^$B" "$DOMS")"
check "  ... which DNS serves" signer_served $B
out=$(ds rotate -d $B --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "  ... a re-run finishes it: exit 0" 0 "$rc"
check_match "  ... continuing, not starting again" "Continuing the rotation of $B from 202601 to $NEW \(stage: published\)" "$out"
check_eq "  ... Exim signs with the new one" "$B: $NEW" "$(grep "^$B" "$DOMS")"
check "  ... which DNS serves" signer_served $B

# the signer's file switched, the state not yet saved
DKIM_SETUP_TEST_NOW=+8d "$HOOK" retire --root "$R" $(NS46) -d $B -s 202601 --publish --tsig-key "$TSIG" >/dev/null 2>&1
check "killed right after Exim's domains file was switched" rotate_killed "renamed:/etc/exim4/dkim/domains"
NEW2=${NEW}b
check_eq "  ... Exim signs with the newest selector" "$B: $NEW2" "$(grep "^$B" "$DOMS")"
check "  ... which DNS serves already" signer_served $B
check_match "  ... the state still says published" "stage published" "$(cat "$R/var/lib/dkim-setup/$B.state")"
out=$(ds rotate -d $B --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "  ... a re-run proves and finishes: exit 0" 0 "$rc"
check_match "  ... from the switched stage" "stage: switched" "$out"
check_match "  ... the stop of $NEW recorded" "stopped $NEW [0-9]+" "$(cat "$R/var/lib/dkim-setup/$B.state")"
check_match "  ... stage idle" "stage idle" "$(cat "$R/var/lib/dkim-setup/$B.state")"

# ---- --auto ----
out=$(ds rotate --auto 2>&1); rc=$?
check_eq "--auto without --publish: exit 2" 2 "$rc"
out=$(ds rotate --auto --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "--auto with every key new: exit 0" 0 "$rc"
check_match "  ... nothing to do" "^nothing to do" "$out"
touch -d '200 days ago' "$R/etc/ssl/private/$B-$NEW2-private.pem"
out=$(ds rotate --auto --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "--auto with one key 200 days old: exit 0" 0 "$rc"
check_eq "  ... rotates exactly that one" "1 1" "$(grep -c '^rotated' <<<"$out") $(grep -c "^rotated $B: $NEW2 -> ${NEW}c" <<<"$out")"
check_eq "  ... Exim signs $B with the new selector, $A unchanged" "$B: ${NEW}c|$A: $NEW-ed : $NEW" \
	"$(grep "^$B" "$DOMS")|$(grep "^$A" "$DOMS")"
check "  ... which DNS serves" signer_served $B
js=$(DKIM_SETUP_TEST_NOW=+8d "$HOOK" rotate --auto --root "$R" $(NS46) --publish --tsig-key "$TSIG" --json 2>&1); rc=$?
check_eq "--auto 8 days later: exit 0" 0 "$rc"
check_eq "  ... retires exactly the selectors past their grace" "retire:$B:$NEW retire:$B:$NEW2" \
	"$(printf '%s' "$js" | jget '" ".join(sorted(a["action"]+":"+a["domain"]+":"+a.get("selector","") for a in d["actions"]))')"
check_eq "  ... Knot serves p= for both" "v=DKIM1; p=|v=DKIM1; p=" "$(served $NEW._domainkey.$B)|$(served $NEW2._domainkey.$B)"
out=$(DKIM_SETUP_TEST_NOW=+8d "$HOOK" rotate --auto --root "$R" $(NS46) --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "--auto again: nothing to do" "0 nothing to do" "$rc $(grep -o '^nothing to do' <<<"$out")"

# ---- a switch held back until DNS serves the new record, finished by rotate -s ----
C=c.example.test
setup $C 202601
ds --batch -d $C -s held --mta exim >"$W/held.out" 2>&1; rc=$?
check_eq "--batch -s held, its record not served: exit 0, the old selector keeps signing" "0 $C: 202601" \
	"$rc $(grep "^$C" "$DOMS")"
check "  ... the new key exists" test -f "$R/etc/ssl/private/$C-held-private.pem"
p_before=$(md5sum <"$R/etc/ssl/private/$C-held-private.pem")
out=$(ds rotate -d $C -s held --publish --tsig-key "$TSIG" 2>&1); rc=$?
check_eq "rotate -s held adopts that key: exit 0" 0 "$rc"
check_match "  ... says so" "Selector held has a key made on this host that has never signed" "$out"
check_eq "  ... the same key, not a new one" "$p_before" "$(md5sum <"$R/etc/ssl/private/$C-held-private.pem")"
check_eq "  ... Exim signs with it" "$C: held" "$(grep "^$C" "$DOMS")"
check "  ... which DNS serves" signer_served $C
check_match "  ... the old selector's stop recorded" "stopped 202601 [0-9]+" "$(cat "$R/var/lib/dkim-setup/$C.state")"
out=$(ds rotate -d $C -s 202601 2>&1); rc=$?
check_eq "the selector that stopped signing is not adopted back: exit 2" "2 yes" \
	"$rc $(grep -q 'used before' <<<"$out" && echo yes)"

# ---- a domain given up: every selector retired, keys purged; status still shows it ----
sed -i "/^$C:/d" "$DOMS"
for s in 202601 held; do
	ds retire -d $C -s $s --force --purge --publish --tsig-key "$TSIG" >"$W/purge.out" 2>&1
	check_eq "retire --force --purge $C/$s: exit 0" 0 $?
done
check_eq "  ... no key of $C left" "" "$(ls "$R/etc/ssl/private" | grep "^$C-")"
out=$(ds status -d $C); rc=$?
check_match "status still lists $C's retired selectors" "$C +202601 .* revoked +retired" "$out"
check_match "  ... both" "$C +held .* revoked +retired" "$out"
check_eq "  ... and all is well: exit 0" 0 "$rc"
check_match "status without -d too" "$C +held .* revoked +retired" "$(ds status)"
