# Hostile command-line input: each case exits 2 with one line on stderr that
# does not echo control bytes, and nothing is written under the sandbox.
. "$TOP/tests/lib/lib.sh"
R=$(t_tmpdir)
B=$DKIM_SETUP
long63=$(printf 'a%.0s' $(seq 1 64))
long254=$(printf 'abcdefghi.%.0s' $(seq 1 26))com

cases=(
	"empty domain|-d|"
	"one label|-d|localhost"
	"over-long label|-d|$long63.com"
	"over-long name|-d|$long254"
	"leading hyphen|-d|-shop.example.com"
	"trailing hyphen|-d|shop-.example.com"
	"space|-d|shop example.com"
	"double dot|-d|shop..example.com"
	"slash|-d|shop/example.com"
	"dot-dot path|-d|../x"
	"shell metacharacters|-d|ex;rm -rf /.com"
	"command substitution|-d|\$(reboot).example.com"
	"backquote|-d|\`id\`.example.com"
	"not a valid international name|-d|a♥b.example"
	"escape sequence|-d|$(printf 'ex\033]52;c;aGk=\007.com')"
	"newline|-d|$(printf 'example.com\nevil')"
	"selector with slash|-s|../../etc/passwd"
	"selector with _domainkey|-s|s1._domainkey"
	"selector empty|-s|"
	"bits 512|-b|512"
	"bits 8192|-b|8192"
	"bits text|-b|lots"
	"algorithm dsa|-a|dsa"
	"mta sendmail|-m|sendmail"
	"missing root|--root|/nonexistent/dkim-root"
	"relative root|--root|some/dir"
	"nameserver by name|--nameserver|ns1.example.com"
	"nameserver bad port|--nameserver|127.0.0.1@0"
	"wait negative|--wait|-1"
)
for c in "${cases[@]}"; do
	IFS='|' read -r what opt val <<<"$c"
	# values with a newline: take the whole value from the case string
	val=${c#*|*|}
	args=(--batch --root "$R" -d example.com -s s1 --mta none)
	[ "$opt" = --root ] && args=(--batch -d example.com -s s1 --mta none)
	err=$($B "${args[@]}" "$opt" "$val" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && ! printf '%s' "$err" | grep -qP '[\x00-\x08\x0b-\x1f\x7f]'; then
		ok "refused: $what"
	else
		not_ok "refused: $what (rc $rc: $(printf '%q' "$err"))"
	fi
done
check_eq "nothing written for any hostile input" "" "$(find "$R" -mindepth 1)"
err=$($B --batch --root "$R" -d 'a♥b.example' -s s1 2>&1)
check_contains "an invalid international name says why" "not a valid international name" "$err"
# a valid one is used in its A-label form (files, record)
R2=$(t_tmpdir)
out=$($B --batch --root "$R2" -d 'müller.de' -s s1 --mta none --dry-run 2>&1)
check_contains "müller.de becomes xn--mller-kva.de" "xn--mller-kva.de" "$out"
check_contains "and both forms are shown" "müller.de" "$out"
