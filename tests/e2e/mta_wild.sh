#!/bin/bash
# Postfix + OpenDKIM set up the ways guides and install scripts leave them
# (issue 16, cases 1, 2, 3 and 7), each built here from minimal files of our
# own, then configured by the real tool: Postfix's own reading (postconf -x,
# postconf -P) shows OpenDKIM exactly once on every mail path, and real
# Postfix and OpenDKIM, started in a throwaway root, sign mail sent by SMTP
# (port 25), by submission (port 587, a master.cf service) and by sendmail
# with exactly one signature that dkimpy verifies against Knot's record.
#   1  Socket in Postfix's queue directory, smtpd_milters = local:<relative>,
#      default milter_default_action (tempfail): kept, reached as it is.
#   1b Debian's unreachable /run socket with a stale local: entry of a guide:
#      OpenDKIM moves to loopback TCP and the stale entry is replaced in place.
#   2  OpenDKIM listed as inet:localhost:8891 through $dkim_milter, and as
#      inet:8891, and twice: one entry left.
#   3  submission and smtps with their own -o smtpd_milters (plain and
#      Postfix 3 brace form): OpenDKIM put there; an empty override left.
#   7  a "# comment" line inside a continued smtpd_milters: order kept.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
mta_mail_env wild.test
. "$TOP/tests/lib/wild.sh"

# ---- case 1: OpenDKIM's socket in Postfix's queue directory ----
reset_postfix
sed -i 's|^Socket.*|Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock|' /etc/opendkim.conf
install -d -o opendkim -g postfix -m 0750 /var/spool/postfix/opendkim
adduser --quiet postfix opendkim
postconf -e "smtpd_milters = local:opendkim/opendkim.sock" 'non_smtpd_milters = $smtpd_milters'
configure c1
check_eq "case 1: configured, exit 0" "0 true" "$RC $(mta_json_get mta.validated <"$W/c1.json")"
check_eq "case 1: OpenDKIM keeps its socket" "Socket			local:/var/spool/postfix/opendkim/opendkim.sock" \
	"$(grep '^Socket' /etc/opendkim.conf)"
check_eq "case 1: postconf -x: the socket once, where it was" \
	"smtpd={ local:opendkim/opendkim.sock, default_action=accept }|non_smtpd={ local:opendkim/opendkim.sock, default_action=accept }" \
	"$(paths | tr '\n' '|' | sed 's/|$//')"
check "case 1: opendkim -n accepts the result" opendkim -n -x /etc/opendkim.conf
three_paths "case 1" unix /var/spool/postfix/opendkim/opendkim.sock

# ---- case 1b: Debian's socket (out of chrooted smtpd's reach), a guide's stale entry ----
reset_postfix
postconf -e "smtpd_milters = local:opendkim/opendkim.sock, { inet:127.0.0.1:9999, default_action=accept }" \
	"non_smtpd_milters = unix:/var/run/opendkim/opendkim.sock"
configure c1b
check_eq "case 1b: configured, exit 0" "0" "$RC"
check_eq "case 1b: the stale local: entries replaced in place by the TCP socket" \
	"smtpd={ inet:127.0.0.1:8891, default_action=accept }, { inet:127.0.0.1:9999, default_action=accept }|non_smtpd={ inet:127.0.0.1:8891, default_action=accept }" \
	"$(paths | tr '\n' '|' | sed 's/|$//')"
check_eq "case 1b: OpenDKIM listens where Postfix looks" "inet:8891@127.0.0.1" \
	"$(awk '$1 == "Socket" { print $2 }' /etc/opendkim.conf)"
three_paths "case 1b" tcp 8891

# ---- case 2: the same filter under other spellings, through a parameter, twice ----
reset_postfix
sed -i 's|^Socket.*|Socket\t\t\tinet:8891@localhost|' /etc/opendkim.conf
postconf -e "dkim_milter = inet:localhost:8891" \
	'smtpd_milters = $dkim_milter, { inet:127.0.0.1:9999, default_action=accept }, inet:127.0.0.1:8891' \
	"non_smtpd_milters = inet:8891"
configure c2
check_eq "case 2: configured, exit 0" "0" "$RC"
check_eq "case 2: \$dkim_milter kept, the duplicate gone, inet:8891 replaced in place" \
	'$dkim_milter, { inet:127.0.0.1:9999, default_action=accept }|{ inet:127.0.0.1:8891, default_action=accept }' \
	"$(postconf -h smtpd_milters)|$(postconf -h non_smtpd_milters)"
check_eq "case 2: postconf -x: OpenDKIM once per path" \
	"smtpd=inet:localhost:8891, { inet:127.0.0.1:9999, default_action=accept }|non_smtpd={ inet:127.0.0.1:8891, default_action=accept }" \
	"$(paths | tr '\n' '|' | sed 's/|$//')"
check_eq "case 2: OpenDKIM's socket kept" "inet:8891@localhost" "$(awk '$1 == "Socket" { print $2 }' /etc/opendkim.conf)"
three_paths "case 2" tcp 8891

# ---- case 3 (+7): services with their own milters; a comment inside a continued value ----
reset_postfix
sed -i 's|^Socket.*|Socket\t\t\tinet:8891@127.0.0.1|' /etc/opendkim.conf
cat >>/etc/postfix/main.cf <<'EOF'
smtpd_milters = { inet:127.0.0.1:9998, default_action=accept },
# the content filter comes first (a comment inside the value)
    { inet:127.0.0.1:9999, default_action=accept }
EOF
# the submission service of reset_postfix gets its own list; smtps the
# Postfix 3 brace form; a reinjection port turns milters off on purpose
sed -i 's|^  -o syslog_name=postfix/submission$|&\n  -o smtpd_milters=inet:127.0.0.1:9997\n  -o milter_default_action=accept|' /etc/postfix/master.cf
cat >>/etc/postfix/master.cf <<'EOF'
smtps     inet  n       -       y       -       -       smtpd
  -o smtpd_tls_wrappermode=yes
  -o { smtpd_milters = { inet:127.0.0.1:9997, default_action=accept } }
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o smtpd_milters=
EOF
configure c3
check_eq "case 3: configured, exit 0" "0" "$RC"
check_eq "case 3: every path lists OpenDKIM once, after the milters already there, in their order" \
	"smtpd={ inet:127.0.0.1:9998, default_action=accept }, { inet:127.0.0.1:9999, default_action=accept }, { inet:127.0.0.1:8891, default_action=accept }|non_smtpd={ inet:127.0.0.1:8891, default_action=accept }|submission/inet/smtpd_milters = inet:127.0.0.1:9997, { inet:127.0.0.1:8891, default_action=accept }|smtps/inet/smtpd_milters = { inet:127.0.0.1:9997, default_action=accept }, { inet:127.0.0.1:8891, default_action=accept }|127.0.0.1:10025/inet/smtpd_milters =" \
	"$(paths | tr '\n' '|' | sed 's/|$//')"
check_contains "case 7: the comment line inside the value is still there" \
	"# the content filter comes first (a comment inside the value)" "$(cat /etc/postfix/main.cf)"
diff_text=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mta"]["diff"])' <"$W/c3.json")
check_contains "case 3: the preview shows master.cf's submission line" \
	"+  -o { smtpd_milters = inet:127.0.0.1:9997, { inet:127.0.0.1:8891, default_action=accept } }" "$diff_text"
explain=$(mta_json_get mta.explain <"$W/c3.json")
check_contains "case 3: the explanation names the service left without milters" \
	"127.0.0.1:10025/inet sets smtpd_milters empty" "$explain"
three_paths "case 3" tcp 8891

# ---- a re-run changes nothing ----
before=$(md5sum /etc/postfix/main.cf /etc/postfix/master.cf /etc/opendkim.conf /etc/opendkim/*)
"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" -s "$S" >"$W/rerun.json" 2>"$W/rerun.err"
check_eq "re-run: nothing to do, no file changed" "true|$before" \
	"$(mta_json_get mta.nothing_to_do <"$W/rerun.json")|$(md5sum /etc/postfix/main.cf /etc/postfix/master.cf /etc/opendkim.conf /etc/opendkim/*)"
