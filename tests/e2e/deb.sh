# The Debian package: `make deb` builds it with dpkg-buildpackage (debian/,
# debhelper 13) in a throwaway Debian root (tests/lib/troot.sh) with only
# the Build-Depends, lintian finds no error, its binary is hardened, and
# installed in that root it runs:
# --version, its manual through man-db, `record` for a key in
# /etc/ssl/private, its bash completion through bash-completion; and it
# purges without a trace. The host's packages are never touched.
. "$TOP/tests/lib/lib.sh"
need_root
[ -f "$TOP/tests/lib/troot.sh" ] || skip_all "tests/lib/troot.sh (throwaway roots, issue 10) is not in this tree yet"
command -v dpkg-parsechangelog >/dev/null || skip_all "dpkg-dev missing (make deps)"
. "$TOP/tests/lib/troot.sh"
. "$TOP/tests/lib/elf.sh"

version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
check_eq "debian/changelog's version is the Makefile's VERSION" "$version" \
	"$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)"

# Build in a throwaway root that holds build-essential and debian/control's
# Build-Depends and nothing else the build could lean on (troot's base is
# python3, knot, tmux and run-time libraries; man-db and bash-completion are
# for the checks of the installed package), without network: the
# Build-Depends are complete. dpkg-buildpackage writes next to the tree it
# builds, so make deb builds a copy: nothing lands beside or in the checkout
# (mounted read-only in the root anyway).
bdeps=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$TOP/debian/control" |
	sed '1s/^Build-Depends://; /^[A-Z][A-Za-z-]*:/d' | tr ',' '\n' |
	sed 's/[(<].*//; s/^ *//; s/ *$//; /^$/d; s/^debhelper-compat$/debhelper/' | tr '\n' ' ')
diag "Build-Depends: $bdeps"
# man-db and bash-completion for the installed package's checks below.
# Making the root downloads packages (mmdebstrap): like the MTA tests, this
# test must run outside tests/run.sh's loopback-only network namespace.
if ! troot_ensure deb "build-essential $bdeps man-db bash-completion"; then
	[ -z "$(ip -o route show 2>/dev/null)" ] &&
		diag "no network route here: run deb.sh outside unshare -n (tests/run.sh treats it like mta_*)"
	not_ok "making the root"
	exit 1
fi
troot_new deb || { not_ok "copying the root"; exit 1; }
D=$(t_tmpdir)
start=$SECONDS
# dpkg-buildpackage writes its results into the parent of the tree it
# builds: none of them may land beside the checkout (in the fresh root the
# checkout is /root/dkim-setup, where HOME's dot files come and go).
built_beside() {
	find "$TROOT$(dirname "$TOP")" -maxdepth 1 \( -name '*.deb' -o -name '*.changes' \
		-o -name '*.buildinfo' -o -name '*.dsc' -o -name '*.tar.*' \) -printf '%f\n' | sort
}
troot_run make -C "$TOP" deb DEB_DIR=/tmp/deb >"$D/build.log" 2>&1
rc=$?
diag "make deb in the build root: status $rc in $((SECONDS - start)) s"
check_eq "make deb (dpkg-buildpackage -us -uc -b) succeeds with only the Build-Depends" 0 "$rc"
[ "$rc" = 0 ] || diag "$(tail -n 30 "$D/build.log")"
check_match "dh_auto_test ran make check-unit" 'check-unit: all [0-9]+ unit test programs passed' "$(cat "$D/build.log")"
check_eq "no package file written beside the checkout" "" "$(built_beside)"
cp -r "$TROOT/tmp/deb" "$D/deb"
rm -rf "$D/deb/src"
deb=$D/deb/dkim-setup_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { not_ok "no $deb"; exit 1; }

fields=$(dpkg-deb -f "$deb")
check_match "Section: admin" $'(^|\n)Section: admin\n' "$fields"
for lib in libc6 libldns3 libssl3 libncursesw6; do
	check_match "Depends (from shlibs) names $lib" $'(^|\n)Depends: .*'"$lib" "$fields"
done
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/sbin/dkim-setup ./usr/share/man/man8/dkim-setup.8.gz \
	./usr/share/bash-completion/completions/dkim-setup ./usr/share/dkim-setup/training/welcome.txt \
	./usr/share/doc/dkim-setup/copyright ./usr/share/doc/dkim-setup/changelog.gz; do
	check_match "the package holds $f" "(^|"$'\n'")$f("$'\n'"|$)" "$files"
done

if command -v lintian >/dev/null; then
	lint=$(lintian --fail-on error --profile debian -I --pedantic "$D/deb/"*.changes 2>&1)
	rc=$?
	check_eq "lintian finds no error" 0 "$rc"
	lint=$(grep -E '^[EWIPX]: ' <<<"$lint")
	diag "lintian: $(grep -c '^E: ' <<<"$lint") errors, $(grep -c '^W: ' <<<"$lint") warnings," \
		"$(grep -c '^[IPX]: ' <<<"$lint") info/pedantic/experimental tags"
	[ -n "$lint" ] && diag "$(cut -d' ' -f1-3 <<<"$lint" | sort | uniq -c)"
else
	diag "lintian is not installed: not checked"
fi

dpkg-deb -x "$deb" "$D/x"
elf_hardening "$D/x/usr/sbin/dkim-setup" "the packaged dkim-setup"
check "the packaged binary reads its texts from /usr/share/dkim-setup" \
	grep -qE '^/usr/share/dkim-setup(/|$)' <<<"$(strings "$D/x/usr/sbin/dkim-setup")"

# Install it where it was built: the run-time libraries are there, so
# dpkg -i needs no network, and checks the Depends.
out=$(troot_run dpkg -i "/tmp/deb/$(basename "$deb")" 2>&1)
check_eq "dpkg -i installs it in the root" "install ok installed" \
	"$(troot_run dpkg-query -W -f='${Status}' dkim-setup 2>&1)"
[[ $out == *"Setting up dkim-setup"* ]] || diag "$out"

check_eq "dkim-setup --version" "dkim-setup $version" "$(troot_run dkim-setup --version 2>&1)"
check_eq "it is /usr/sbin/dkim-setup" "/usr/sbin/dkim-setup" "$(troot_run sh -c 'command -v dkim-setup' 2>&1)"
check_eq "man -w finds the manual" "/usr/share/man/man8/dkim-setup.8.gz" "$(troot_run man -w dkim-setup 2>&1)"
page=$(troot_run env MANPAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8 man dkim-setup 2>&1)
check_match "man dkim-setup shows the page" 'DKIM-SETUP\(8\)' "$page"
check_match "man dkim-setup shows the synopsis" 'SYNOPSIS' "$page"
check_contains "man dkim-setup documents --batch" "--batch" "$page"

# record: the checked-in test key where the program keeps keys
install -d -m 0700 "$TROOT/etc/ssl/private"
install -m 0600 "$TOP/tests/data/rsa2048.pem" "$TROOT/etc/ssl/private/example.com-s1-private.pem"
out=$(troot_run dkim-setup record -d example.com -s s1 2>&1)
check_contains "dkim-setup record prints the key's record" "Value:  $(cat "$TOP/tests/data/rsa2048.record")" "$out"
check_contains "dkim-setup record names the host" "Name:   s1._domainkey.example.com" "$out"
check_contains "dkim-setup record prints the zone-file form" "$(head -n 1 "$TOP/tests/data/rsa2048.zone")" "$out"
check_eq "record writes nothing (only the key in /etc/ssl/private)" "example.com-s1-private.pem" \
	"$(ls -A "$TROOT/etc/ssl/private")"

# bash-completion finds the completion where the package put it
out=$(troot_run bash --norc -c '. /usr/share/bash-completion/bash_completion
	__load_completion dkim-setup 2>/dev/null || _comp_load dkim-setup
	complete -p dkim-setup' 2>&1)
check_eq "bash-completion loads the package's completion" "complete -F _dkim_setup dkim-setup" "$out"

out=$(troot_run dpkg --purge dkim-setup 2>&1)
check_eq "dpkg --purge removes it" "" "$(troot_run dpkg-query -W -f='${Status}' dkim-setup 2>/dev/null | grep installed)"
check "purge leaves no /usr/share/dkim-setup" test ! -e "$TROOT/usr/share/dkim-setup"
check "purge leaves no binary" test ! -e "$TROOT/usr/sbin/dkim-setup"
