#!/bin/bash
# OpenDKIM configured the ways guides and install scripts leave it (issue 16,
# cases 4, 5, 6, 8, 9 and 10), each built here from minimal files of our
# own, then configured by the real tool in a throwaway root with Postfix and
# OpenDKIM; checked with opendkim -n and postconf, and where the case is
# about what gets signed, with real daemons and dkimpy:
#   4  KeyTable/SigningTable in a file opendkim.conf Includes: the entries go
#      there, no second KeyTable/SigningTable line; another domain kept.
#   5  a catch-all SigningTable line before the domain's: ours goes first.
#   6  Mode v (verify only): Mode sv proposed in the diff and written.
#   8  the domain signs with a published selector; a new one in batch without
#      --wait is installed beside it, the old one keeps signing, JSON says so;
#      with --wait once DNS serves it, the new one signs.
#   9  a database KeyTable (dsn:mysql://user:password@...) is refused without
#      the password in the message, the JSON or anywhere on the terminal.
#   10 that refusal, and an unreadable Include, exit 2 (not 3), nothing changed.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
mta_mail_env wild.test
. "$TOP/tests/lib/wild.sh"

# a key of another domain, as OpenDKIM would have it
other_key() {
	install -d -o opendkim -g opendkim -m 0700 /etc/dkimkeys
	openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out /etc/dkimkeys/other.private 2>/dev/null
	chown opendkim:opendkim /etc/dkimkeys/other.private
	chmod 0600 /etc/dkimkeys/other.private
}

# ---- case 4: the tables in an Included file ----
reset_postfix
other_key
mkdir -p /etc/opendkim
cat >/etc/opendkim/tables.conf <<'EOF'
KeyTable	refile:/etc/opendkim/KeyTable
SigningTable	refile:/etc/opendkim/SigningTable
EOF
echo "mail._domainkey.other.test other.test:mail:/etc/dkimkeys/other.private" >/etc/opendkim/KeyTable
echo "*@other.test mail._domainkey.other.test" >/etc/opendkim/SigningTable
echo "Include		/etc/opendkim/tables.conf" >>/etc/opendkim.conf
configure c4
check_eq "case 4: configured, exit 0" "0" "$RC"
check_eq "case 4: no second KeyTable/SigningTable line in opendkim.conf" "0" \
	"$(grep -Eci '^(KeyTable|SigningTable)' /etc/opendkim.conf)"
check_eq "case 4: the Included tables get the entry, the other domain's kept" \
	"*@other.test mail._domainkey.other.test|*@$DOM $S._domainkey.$DOM" \
	"$(tr '\n' '|' </etc/opendkim/SigningTable | sed 's/|$//')"
check_match "case 4: the key of the domain is in the Included KeyTable" \
	"^mail._domainkey.other.test .*\\|$S._domainkey.$DOM $DOM:$S:/etc/dkimkeys/$DOM-$S.private\$" \
	"$(tr '\n' '|' </etc/opendkim/KeyTable | sed 's/|$//')"
check "case 4: opendkim -n accepts the result" opendkim -n -x /etc/opendkim.conf
three_paths "case 4" tcp 8891

# ---- case 5: a catch-all line first ----
reset_postfix
other_key
mkdir -p /etc/opendkim
echo "mail._domainkey.other.test other.test:mail:/etc/dkimkeys/other.private" >/etc/opendkim/KeyTable
printf '%s\n' "# everything with the host's key" "*	mail._domainkey.other.test" >/etc/opendkim/SigningTable
printf 'KeyTable\t\trefile:/etc/opendkim/KeyTable\nSigningTable\t\trefile:/etc/opendkim/SigningTable\n' >>/etc/opendkim.conf
configure c5
check_eq "case 5: configured, exit 0" "0" "$RC"
check_eq "case 5: the domain's entry before the catch-all" \
	"# everything with the host's key|*@$DOM $S._domainkey.$DOM|*	mail._domainkey.other.test" \
	"$(tr '\n' '|' </etc/opendkim/SigningTable | sed 's/|$//')"
check_contains "case 5: the explanation names the catch-all line" 'has the line "* mail._domainkey.other.test" before' \
	"$(mta_json_get mta.explain <"$W/c5.json")"
three_paths "case 5" tcp 8891

# ---- case 6: verify-only ----
reset_postfix
sed -i 's/^#Mode.*/Mode\t\t\tv/' /etc/opendkim.conf
configure c6
check_eq "case 6: configured, exit 0" "0" "$RC"
diff_text=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mta"]["diff"])' <"$W/c6.json")
check_contains "case 6: the diff proposes Mode sv" "+Mode			sv" "$diff_text"
check_contains "case 6: and says why" "verify only (Mode v" "$(mta_json_get mta.explain <"$W/c6.json")"
check_eq "case 6: the one Mode OpenDKIM reads is sv" "sv" "$(awk '$1 == "Mode" { print $2 }' /etc/opendkim.conf)"
check "case 6: opendkim -n accepts the result" opendkim -n -x /etc/opendkim.conf
three_paths "case 6" tcp 8891

# ---- case 8: a published, working selector is not displaced before DNS serves the new one ----
reset_postfix
configure c8a
old=$S
"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" -s "$S" --wait 5 >"$W/c8a.json" 2>"$W/c8a.err"
check_eq "case 8: the first selector, published; its proof waits for the signer (exit 1, not_running)" \
	"1 not_running" "$? $(mta_json_get proof.cause <"$W/c8a.json")"
start_daemons tcp 8891 || not_ok "case 8: postfix and opendkim start"
"$DKIM_SETUP" check --nameserver "$NS" -d "$DOM" -s "$S" --prove >"$W/c8a.prove" 2>&1
check_eq "case 8: the first selector signs: check --prove verifies through OpenDKIM" 0 $?
configure c8b
check_eq "case 8: a new selector without --wait: exit 0" "0" "$RC"
knot_del "$S._domainkey"   # configure published it: not served yet after all
check_eq "case 8: the old selector keeps signing, JSON says which" "$old|*@$DOM $old._domainkey.$DOM" \
	"$(mta_json_get mta.kept_selector <"$W/c8b.json")|$(cat /etc/opendkim/signing.table)"
check_contains "case 8: the new key is installed beside it" "$S._domainkey.$DOM " "$(cat /etc/opendkim/key.table)"
check_contains "case 8: and what to run is said" "switch with: dkim-setup --batch -d $DOM -s $S --wait" \
	"$(mta_json_get mta.explain <"$W/c8b.json")"
new=$S
S=$old
three_paths "case 8 (old selector still signing)" tcp 8891
S=$new
mapfile -t strs < <(mta_json_strings <"$W/c8b.json")
knot_set_txt "$S._domainkey" "${strs[@]}"
"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" -s "$S" --wait 5 >"$W/c8c.json" 2>"$W/c8c.err"
check_eq "case 8: with --wait once DNS serves it, the new selector is configured (its proof waits for the signer: exit 1, not_running)" \
	"1 not_running null|*@$DOM $S._domainkey.$DOM" \
	"$? $(mta_json_get proof.cause <"$W/c8c.json") $(mta_json_get mta.kept_selector <"$W/c8c.json")|$(cat /etc/opendkim/signing.table)"
three_paths "case 8 (switched)" tcp 8891
start_daemons tcp 8891 || not_ok "case 8: postfix and opendkim start again"
"$DKIM_SETUP" check --nameserver "$NS" -d "$DOM" -s "$S" --prove >"$W/c8c.prove" 2>&1
check_eq "case 8: after the restart check --prove verifies the new selector through OpenDKIM" 0 $?

# ---- cases 9 and 10: a database KeyTable, an Include that is not there ----
reset_postfix
printf 'KeyTable\t\tdsn:mysql://dkim:S3cr3tPw@127.0.0.1/dkim/table=keys?keycol=id?datacol=domain,selector,key\n' >>/etc/opendkim.conf
before=$(md5sum /etc/opendkim.conf /etc/postfix/main.cf)
configure c9
out=$(cat "$W/c9.json" "$W/c9.err")
check_eq "case 10: a database KeyTable is refused with exit 2" "2" "$RC"
check_contains "case 9: the refusal names it, password masked" "dsn:mysql://dkim:****@127.0.0.1" "$out"
check "case 9: the password is nowhere in the output" bash -c "! grep -q S3cr3tPw '$W/c9.json' '$W/c9.err'"
check_eq "case 10: nothing changed" "$before" "$(md5sum /etc/opendkim.conf /etc/postfix/main.cf)"

reset_postfix
echo "Include		/etc/opendkim/missing.conf" >>/etc/opendkim.conf
before=$(md5sum /etc/opendkim.conf /etc/postfix/main.cf)
configure c10
check_eq "case 10: an Include that cannot be read: exit 2, named, nothing changed" \
	"2 true $before" \
	"$RC $(grep -q '/etc/opendkim/missing.conf' "$W/c10.err" && echo true) $(md5sum /etc/opendkim.conf /etc/postfix/main.cf)"
