# Bash completion (assets/bash-completion/dkim-setup) as bash-completion
# runs it: commands, options, option values, paths; and it offers exactly
# what `dkim-setup --help` documents.
. "$TOP/tests/lib/lib.sh"
BC=/usr/share/bash-completion/bash_completion
COMP=$TOP/assets/bash-completion/dkim-setup
[ -r "$BC" ] || skip_all "bash-completion is not installed"

# complete LINE [DIR]: what the completion offers at the end of LINE (run in
# DIR), one word a line, sorted. The words are split as bash splits them
# for completion: at blanks, and "--opt=value" into "--opt" "=" "value".
complete_line() {
	bash --norc --noprofile -c '
		. "$1" >/dev/null 2>&1 || exit 3
		. "$2" || exit 3
		line=$3
		COMP_WORDS=()
		for w in $line; do
			if [[ $w == --*=* ]]; then
				COMP_WORDS+=("${w%%=*}" "=")
				[ -n "${w#*=}" ] && COMP_WORDS+=("${w#*=}")
			else
				COMP_WORDS+=("$w")
			fi
		done
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		cd "$4" || exit 3
		_dkim_setup dkim-setup "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
	' complete "$BC" "$COMP" "$1" "${2:-/}"
}
# expect "LINE" "word word ..." [DIR]
expect() {
	local got
	got=$(complete_line "$1" "${3:-/}" | tr '\n' ' ')
	check_eq "'$1' offers: ${2:-nothing}" "$2" "${got% }"
}

check "the completion file is valid bash" bash -n "$COMP"
check_eq "complete -p names the function" "complete -F _dkim_setup dkim-setup" \
	"$(bash --norc -c ". '$BC' >/dev/null 2>&1; . '$COMP'; complete -p dkim-setup")"

# commands: check and record; none after a command or --batch
expect "dkim-setup " "check record retire rotate status"
expect "dkim-setup re" "record retire"
expect "dkim-setup ro" "rotate"
expect "dkim-setup check " ""
expect "dkim-setup --batch " ""
expect "dkim-setup --batch -d example.com " ""
# a value that happens to be a command word is still a value
expect "dkim-setup -d check " "check record retire rotate status"

# options: --batch only in the wizard's command line
expect "dkim-setup --ba" "--batch"
expect "dkim-setup check --ba" ""
expect "dkim-setup --ts" "--tsig-key"
expect "dkim-setup record --js" "--json"

# values
expect "dkim-setup -a " "ed25519 rsa"
expect "dkim-setup --algorithm e" "ed25519"
expect "dkim-setup -b " "1024 2048 3072 4096"
expect "dkim-setup --bits 3" "3072"
expect "dkim-setup -m " "exim none postfix rspamd"
expect "dkim-setup --mta=po" "postfix"
expect "dkim-setup --batch --mta e" "exim"
expect "dkim-setup -s " "$(date +%Y%m)"
if [ -r /etc/mailname ]; then
	read -r mailname </etc/mailname
	expect "dkim-setup -d " "$mailname"
fi
expect "dkim-setup --wait " ""

# paths: directories for --root, files for --tsig-key and --key
D=$(t_tmpdir)
mkdir "$D/sandbox" "$D/keys dir"
: >"$D/tsig.key"
expect "dkim-setup --root " "keys dir sandbox" "$D"
expect "dkim-setup --root s" "sandbox" "$D"
expect "dkim-setup --tsig-key " "keys dir sandbox tsig.key" "$D"
expect "dkim-setup --tsig-key t" "tsig.key" "$D"
expect "dkim-setup check --key ts" "tsig.key" "$D"

# Offered what the program documents: every long option of --help, and the
# values --help lists for -a, -b and -m.
help=$("$DKIM_SETUP" --help)
offered=" $(complete_line "dkim-setup --" | tr '\n' ' ')"
for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
	check_contains "completion offers $opt (from --help)" " $opt " "$offered"
done
for opt in $offered; do
	check_contains "--help documents $opt (offered by the completion)" "$opt" "$help"
done
vals() { grep -oE -- "$1 [a-z0-9|]+" <<<"$help" | head -n 1 | cut -d' ' -f2 | tr '|' '\n' | sort | tr '\n' ' '; }
got_a=$(complete_line "dkim-setup -a " | tr '\n' ' ')
got_m=$(complete_line "dkim-setup -m " | tr '\n' ' ')
check_eq "-a values are --help's" "$(vals --algorithm)" "$got_a"
check_eq "-m values are --help's" "$(vals --mta)" "$got_m"
bits_help=$(grep -E -- '--bits' <<<"$help" | grep -oE '\b[0-9]{4}\b' | sort -n | tr '\n' ' ')
check_eq "-b values are --help's" "$bits_help" "$(complete_line "dkim-setup -b " | tr '\n' ' ')"
