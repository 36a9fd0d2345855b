# The default build is hardened (the program runs as root and parses DNS
# answers and other people's config files): PIE, full RELRO, stack
# protector, FORTIFY. Read from the binary itself, not from the Makefile.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/elf.sh"
command -v readelf >/dev/null && command -v objdump >/dev/null || skip_all "binutils missing"
BIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
[ -x "$BIN" ] || skip_all "no $BIN (make all)"
elf_hardening "$BIN" "build/dkim-setup"

# The compiler and flags come from the environment (as dpkg-buildflags
# exports them) and the hardening flags are added to them; read from the
# commands make would run, in a copy of the tree (nothing is built).
D=$(t_tmpdir)
tar -C "$TOP" -cf - --exclude=./build --exclude=./demo --exclude=./.git . | tar -C "$D" -xf -
cmds() { (cd "$D" && rm -rf build && env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS "$@" make -n build/dkim-setup 2>&1); }
compile() { grep -E -- '-c -o build/obj/main.o' <<<"$1"; }
link() { grep -E -- '-o build/dkim-setup ' <<<"$1"; }

out=$(cmds)
check_match "make's built-in cc is not used: gcc by default" '^gcc ' "$(compile "$out")"
for f in -Werror -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2 -O2; do
	check_contains "default compile has $f" " $f " "$(compile "$out") "
done
for f in -pie -Wl,-z,relro -Wl,-z,now; do
	check_contains "default link has $f" " $f " "$(link "$out") "
done
out=$(cmds CC=x86_64-linux-gnu-gcc CFLAGS="-O3 -g -fno-plt" CPPFLAGS="-DMARK_CPP=1" LDFLAGS="-Wl,--as-needed")
check_match "CC from the environment" '^x86_64-linux-gnu-gcc ' "$(compile "$out")"
for f in -O3 -fno-plt -DMARK_CPP=1 -fstack-protector-strong -D_FORTIFY_SOURCE=2; do
	check_contains "environment compile has $f" " $f " "$(compile "$out") "
done
for f in -Wl,--as-needed -pie -Wl,-z,now; do
	check_contains "environment link has $f" " $f " "$(link "$out") "
done
out=$(cmds CFLAGS="-O0 -g")
check_eq "no FORTIFY at -O0 (glibc would warn, -Werror fail)" "" "$(compile "$out" | grep -o -- '-D_FORTIFY_SOURCE=2')"
out=$(cmds CPPFLAGS="-D_FORTIFY_SOURCE=3")
check_eq "FORTIFY from CPPFLAGS is not defined a second time" "-D_FORTIFY_SOURCE=3" \
	"$(compile "$out" | grep -oE -- '-D_FORTIFY_SOURCE=[0-9]' | tr '\n' ' ' | sed 's/ $//')"
out=$(cmds WERROR=0)
check_eq "WERROR=0 drops -Werror" "" "$(compile "$out" | grep -o -- '-Werror ')"
