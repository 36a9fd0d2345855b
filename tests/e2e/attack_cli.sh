#!/bin/bash
# attack_cli: the exhaustive hostile-input table for the command line.
# Every case must be refused with exit 2, exactly one line on stderr that
# carries no raw control or non-ASCII byte (so no escape sequence reaches the
# admin's terminal), nothing on stdout, and nothing written: the --root
# sandbox and the working directory are byte-for-byte as before.
# (tests/e2e/batch_hostile.sh is the lead's smaller table; this one counts.)
. "$TOP/tests/lib/lib.sh"
T=$(t_tmpdir)
SB=$T/root
CWD=$T/cwd
mkdir -p "$SB/etc/ssl/certs" "$SB/etc/ssl/private" "$CWD"
chmod 0710 "$SB/etc/ssl/private"
echo "mail.example.org" >"$SB/etc/mailname"
printf 'PLANTED\n' >"$T/outside"

snapshot() {
	find "$SB" "$CWD" "$T/outside" -printf '%p %y %m %s %T@\n' | sort | md5sum
}
before=$(snapshot)
cases=0

# hostile HINT ARGS...: HINT is a regex the message must match ('' for any).
hostile() {
	local hint=$1; shift
	cases=$((cases + 1))
	local out err rc why=""
	out=$(cd "$CWD" && "$DKIM_SETUP" "$@" 2>"$T/err" </dev/null)
	rc=$?
	err=$(cat "$T/err")
	local lines
	lines=$(wc -l <"$T/err")
	[ "$rc" = 2 ] || why="$why exit $rc;"
	[ "$lines" = 1 ] && [ "$(tail -c 1 "$T/err" | od -An -c | tr -d ' ')" = '\n' ] || why="$why $lines stderr lines;"
	LC_ALL=C grep -q '[^ -~]' "$T/err" && why="$why raw control/non-ASCII byte on stderr;"
	[ -z "$out" ] || why="$why stdout not empty;"
	[ -z "$hint" ] || [[ $err =~ $hint ]] || why="$why message lacks /$hint/;"
	[[ $err == dkim-setup:* ]] || why="$why message not prefixed;"
	local now
	now=$(snapshot)
	if [ "$now" != "$before" ]; then
		why="$why something was written;"
		before=$now
	fi
	local shown
	shown=$(printf '%q ' "$@")
	if [ -z "$why" ]; then
		ok "refused: ${shown:0:120}"
	else
		not_ok "refused: ${shown:0:120} ->$why (stderr: $(printf '%q' "${err:0:200}"))"
	fi
}

B=(--batch --root "$SB")
L63=$(printf 'a%.0s' {1..63})
L64=$(printf 'a%.0s' {1..64})
D253="$L63.$L63.$L63.$(printf 'b%.0s' {1..57}).com"   # 253: valid alone
D254="x$D253"
HUGE=$(printf 'x%.0s' {1..10000}).com

# ---- domain names -------------------------------------------------------
hostile 'empty' "${B[@]}" -d '' -s s1
hostile 'empty part' "${B[@]}" -d '.' -s s1
hostile 'empty part' "${B[@]}" -d '..' -s s1
hostile 'empty part' "${B[@]}" -d '...' -s s1
hostile 'empty part' "${B[@]}" -d 'example..com' -s s1
hostile 'empty part' "${B[@]}" -d '.example.com' -s s1
hostile 'empty part' "${B[@]}" -d 'example.com..' -s s1
hostile 'two parts' "${B[@]}" -d 'com' -s s1
hostile 'two parts' "${B[@]}" -d 'localhost.' -s s1
hostile 'hyphen' "${B[@]}" -d '-example.com' -s s1
hostile 'hyphen' "${B[@]}" -d 'example-.com' -s s1
hostile 'hyphen' "${B[@]}" -d 'example.-com' -s s1
hostile 'hyphen' "${B[@]}" -d 'example.com-' -s s1
hostile 'hyphen' "${B[@]}" -d '-' -s s1
hostile 'space' "${B[@]}" -d 'exa mple.com' -s s1
hostile 'space' "${B[@]}" -d ' example.com' -s s1
hostile 'space' "${B[@]}" -d 'example.com ' -s s1
hostile 'space' "${B[@]}" -d $'example.com\n' -s s1
hostile 'space' "${B[@]}" -d $'example.com\nInjected: line' -s s1
hostile 'space' "${B[@]}" -d $'exa\tmple.com' -s s1
hostile 'space' "${B[@]}" -d $'a\rb.com' -s s1
hostile 'space' "${B[@]}" -d $'a\vb.com' -s s1
hostile "'/'" "${B[@]}" -d '/' -s s1
hostile 'empty part|/' "${B[@]}" -d '../x' -s s1
hostile 'empty part|/' "${B[@]}" -d '../../etc/passwd' -s s1
hostile "'/'" "${B[@]}" -d 'a/b.com' -s s1
hostile "'/'" "${B[@]}" -d 'example.com/../../x' -s s1
hostile "'/'" "${B[@]}" -d '/etc/shadow' -s s1
hostile 'not allowed' "${B[@]}" -d 'x\y.com' -s s1
hostile "'_'" "${B[@]}" -d 'exa_mple.com' -s s1
hostile "'_'" "${B[@]}" -d '_dmarc.example.com' -s s1
for meta in ';rm -rf /;' '$(id)' '`id`' '|' '&' '>' '<' '*' '?' "'" '"' '{' '}' '!' '#' \
	'%n%s%x' '~' '=' ',' '[' ']' '(' ')' '$HOME' '@' '+' ':' '^'; do
	hostile 'not allowed|space' "${B[@]}" -d "a${meta}b.example.com" -s s1
done
hostile 'control' "${B[@]}" -d $'\e[2J\e[Hexample.com' -s s1
hostile 'control' "${B[@]}" -d $'\e]0;owned\a.example.com' -s s1
hostile 'control' "${B[@]}" -d $'exa\ample.com' -s s1
hostile 'control' "${B[@]}" -d $'exa\x7fmple.com' -s s1
hostile 'control' "${B[@]}" -d $'exa\x01mple.com' -s s1
hostile 'control' "${B[@]}" -d $'\x1b[31mred\x1b[0m.com' -s s1
# international names are fine (IDNA2008, UTS #46; tests/e2e/batch_hostile.sh);
# text that is not UTF-8, controls and invisible characters are not
hostile 'not UTF-8' "${B[@]}" -d $'\xff\xfe.com' -s s1
hostile 'control' "${B[@]}" -d $'\xc2\x9b31m.example.com' -s s1
hostile 'invisible' "${B[@]}" -d $'exa\xe2\x80\x8bmple.com' -s s1
hostile 'not a valid international name' "${B[@]}" -d 'a♥b.example' -s s1
hostile '63' "${B[@]}" -d "$L64.com" -s s1
hostile '253' "${B[@]}" -d "$D254" -s s1
hostile '253' "${B[@]}" -d "$HUGE" -s s1
hostile 'record name' "${B[@]}" -d "$D253" -s s1   # valid alone, no room for the record name
hostile 'IP address' "${B[@]}" -d '192.168.1.1' -s s1
hostile 'IP address' "${B[@]}" -d '1.2.3.4.' -s s1
hostile 'IP address' "${B[@]}" -d 'example.123' -s s1
hostile 'not allowed' "${B[@]}" -d '[::1]' -s s1
hostile 'not allowed' "${B[@]}" -d 'user@example.com' -s s1
hostile 'not allowed' "${B[@]}" -d 'http://example.com' -s s1

# ---- selectors ----------------------------------------------------------
hostile 'empty' "${B[@]}" -d example.com -s ''
hostile 'empty part' "${B[@]}" -d example.com -s '.'
hostile 'empty part' "${B[@]}" -d example.com -s '..'
hostile 'empty part' "${B[@]}" -d example.com -s 's..1'
hostile 'hyphen' "${B[@]}" -d example.com -s '-s'
hostile 'hyphen' "${B[@]}" -d example.com -s 's-'
hostile "'_'" "${B[@]}" -d example.com -s 's_1'
hostile 'space' "${B[@]}" -d example.com -s 's 1'
hostile 'empty part|/' "${B[@]}" -d example.com -s '../x'
hostile 'empty part|/' "${B[@]}" -d example.com -s '../../../../tmp/x'
hostile "'/'" "${B[@]}" -d example.com -s '/'
hostile "'/'" "${B[@]}" -d example.com -s 'a/b'
hostile "'/'" "${B[@]}" -d example.com -s '/etc/passwd'
hostile 'control' "${B[@]}" -d example.com -s $'\e[2J'
hostile 'only letters' "${B[@]}" -d example.com -s 'sélecteur'
hostile 'too long|63' "${B[@]}" -d example.com -s "$L64"
hostile 'too long|63' "${B[@]}" -d example.com -s "$L63.$L63"
hostile '_domainkey' "${B[@]}" -d example.com -s 's1._domainkey'
hostile '_domainkey' "${B[@]}" -d example.com -s '202611._domainkey.example.com'
hostile 'not allowed' "${B[@]}" -d example.com -s ';id'
hostile 'not allowed' "${B[@]}" -d example.com -s '$(id)'
hostile 'not allowed' "${B[@]}" -d example.com -s "s'1"
hostile 'not allowed' "${B[@]}" -d example.com -s '%n%n%n'
hostile 'not allowed' "${B[@]}" -d example.com -s '*'

# ---- key sizes and algorithms -------------------------------------------
for bits in '' 0 1 512 768 1023 2047 2049 8192 16384 -2048 +2048 ' 2048' '2048 ' 2048x 0x800 \
	1e3 2048.0 99999999999999999999 -0 'two thousand' $'2048\n'; do
	hostile '1024, 2048, 3072 or 4096' "${B[@]}" -d example.com -s s1 -b "$bits"
done
for alg in '' RSA Ed25519 dsa ecdsa ed448 'rsa ' rsa2048 'rsa;id' $'rsa\e[2J'; do
	hostile 'rsa or ed25519' "${B[@]}" -d example.com -s s1 -a "$alg"
done
hostile 'Ed25519' "${B[@]}" -d example.com -s s1 -a ed25519 -b 2048
hostile 'exim, postfix or none' "${B[@]}" -d example.com -s s1 -m sendmail
hostile 'exim, postfix or none' "${B[@]}" -d example.com -s s1 -m ''
hostile 'exim, postfix or none' "${B[@]}" -d example.com -s s1 -m EXIM
hostile 'exim, postfix or none' "${B[@]}" -d example.com -s s1 -m 'exim;id'

# ---- name servers and waiting --------------------------------------------
for ns in '' foo localhost dns.example.com '1.2.3.4@0' '1.2.3.4@65536' '1.2.3.4@' '@53' \
	'1.2.3.4@53@53' '1.2.3.4:53' '1.2.3' '256.1.1.1' '::1@x' '[::1' '1.2.3.4@-1' \
	'1.2.3.4@ 53' ' 1.2.3.4' '1.2.3.4 ' "$(printf '1%.0s' {1..200})" $'127.0.0.1\e[2J' \
	'127.0.0.1;id' 'fe80::1%eth0'; do
	hostile 'nameserver' "${B[@]}" -d example.com -s s1 --nameserver "$ns"
	hostile 'resolver' "${B[@]}" -d example.com -s s1 --resolver "$ns"
done
many=()
for i in $(seq 17); do many+=(--nameserver "127.0.0.$i"); done
hostile 'at most 16' "${B[@]}" -d example.com -s s1 "${many[@]}"
hostile 'at most 16' "${B[@]}" -d example.com -s s1 "${many[@]//--nameserver/--resolver}"
for w in '' -1 86401 1e3 ' 5' 5s 99999999999999999999 0x10 1.5 $'5\n' 'forever'; do
	hostile '--wait' "${B[@]}" -d example.com -s s1 --wait "$w"
done

# ---- --tsig-key files (checked before anything is written) ---------------
mkdir -p "$T/keys"
printf 'hmac-md5:k.example.:c2VjcmV0c2VjcmV0\n' >"$T/keys/md5"
printf 'HMAC-MD5.SIG-ALG.REG.INT:k.example.:c2VjcmV0\n' >"$T/keys/md5-long"
printf 'this is not a key\n' >"$T/keys/garbage"
printf 'hmac-sha256:k.example.:not base64!!\n' >"$T/keys/badsecret"
printf 'hmac-sha224:k.example.:c2VjcmV0\n' >"$T/keys/sha224"
printf 'hmac-\033[2Jevil:k.example.:c2VjcmV0\n' >"$T/keys/escape"
printf 'key "k" { algorithm hma\0\0\177;c-sha512; secret "AAAA"; };' >"$T/keys/nul"
printf 'key "k" {\n\talgorit\377\377~\375' >"$T/keys/nonascii"
: >"$T/keys/empty"
P=(--publish --nameserver 127.0.0.1@9)
hostile 'TSIG key file' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/missing"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys"
hostile 'hmac-md5 is refused' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/md5"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/md5-long"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/garbage"
hostile 'base64' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/badsecret"
hostile 'not supported' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/sha224"
hostile 'unknown algorithm' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/escape"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/nul"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/nonascii"
hostile 'TSIG key' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key "$T/keys/empty"
hostile 'TSIG key file' "${B[@]}" -d example.com -s s1 "${P[@]}" --tsig-key $'/tmp/\e[2J\e]0;x\a'

# ---- --root --------------------------------------------------------------
hostile 'empty' --batch --root '' -d example.com -s s1
hostile 'absolute' --batch --root 'relative/dir' -d example.com -s s1
hostile 'absolute' --batch --root '.' -d example.com -s s1
hostile 'No such file' --batch --root "$T/missing" -d example.com -s s1
hostile 'not a directory' --batch --root "$T/outside" -d example.com -s s1
hostile 'No such file' --batch --root $'/tmp/\e[2J\e]0;x\a' -d example.com -s s1
hostile 'too long|File name too long' --batch --root "/$(printf 'r%.0s' {1..5000})" -d example.com -s s1

# ---- usage ---------------------------------------------------------------
hostile 'unknown option' "${B[@]}" -d example.com -s s1 --frobnicate
hostile 'unknown option' "${B[@]}" -d example.com -s s1 -x
hostile 'unknown option' "${B[@]}" -d example.com -s s1 $'-\e'
hostile 'unknown option' "${B[@]}" -d example.com -s s1 $'-\xc3\xa9'
hostile 'unknown option' "${B[@]}" -d example.com -s s1 $'--\e[2J'
hostile 'unknown option' "${B[@]}" -d example.com -s s1 '--domain-name=x'
hostile 'needs a value' "${B[@]}" -s s1 -d
hostile 'needs a value' "${B[@]}" -d example.com --selector
hostile 'needs a value' "${B[@]}" -d example.com -s s1 --nameserver
hostile 'unknown command' "${B[@]}" -d example.com -s s1 frob
hostile 'unknown command' --root "$SB" -d example.com -s s1 $'\e[2Jrecord'
hostile 'unexpected argument' --root "$SB" -d example.com -s s1 record extra
hostile 'needs -d' --root "$SB" record -s s1
hostile 'needs -d' --root "$SB" check -d example.com
hostile '--batch does not go' "${B[@]}" -d example.com -s s1 check
hostile '--json goes with' --root "$SB" -d example.com -s s1 --json
hostile '--wait goes with' --root "$SB" -d example.com -s s1 --wait 5
hostile '--tsig-key goes with' "${B[@]}" -d example.com -s s1 --tsig-key /nonexistent
hostile '--publish needs' "${B[@]}" -d example.com -s s1 --publish
hostile '--key goes with' "${B[@]}" -d example.com -s s1 --key /etc/passwd
hostile 'the wizard needs a terminal' --root "$SB" -d example.com -s s1
hostile 'no key' --root "$SB" record -d example.com -s nosuchkey
hostile 'domain' --root "$SB" record -d '../../etc' -s s1
hostile 'selector' --root "$SB" check -d example.com -s $'\e[2J'

diag "$cases hostile command lines tried"
check "the table is exhaustive (at least 150 cases: $cases)" test "$cases" -ge 150
check "the planted file outside the sandbox is intact" test "$(cat "$T/outside")" = PLANTED
