# tests/lib/elf.sh: what a built binary's ELF headers say about its
# hardening (needs lib.sh; readelf and objdump from binutils).

# elf_hardening BIN WHAT: one check each for PIE, full RELRO (GNU_RELRO +
# BIND_NOW), a non-executable stack, the stack protector and FORTIFY; the
# evidence lines go to the log as diagnostics.
elf_hardening() {
	local bin=$1 what=$2 hdr dyn seg syms chk
	hdr=$(readelf -hW "$bin" 2>&1)
	dyn=$(readelf -dW "$bin" 2>&1)
	seg=$(readelf -lW "$bin" 2>&1)
	syms=$(objdump -T "$bin" 2>&1)
	chk=$(grep -oE '__[a-z_]+_chk\b' <<<"$syms" | grep -v '^__stack_chk' | sort -u | tr '\n' ' ')
	diag "$what: $(grep -E '^ *Type:' <<<"$hdr" | tr -s ' ')"
	diag "$what: $(grep -E '\((FLAGS|FLAGS_1)\)' <<<"$dyn" | tr -s ' ' | tr '\n' ';')"
	diag "$what: $(grep -E 'GNU_RELRO|GNU_STACK' <<<"$seg" | tr -s ' ' | tr '\n' ';')"
	diag "$what: stack protector: $(grep -oE '__stack_chk_fail' <<<"$syms" | head -n 1); FORTIFY: $chk"
	check_match "$what is PIE (ELF type DYN)" 'Type: +DYN' "$hdr"
	check_match "$what is PIE (FLAGS_1 PIE)" 'FLAGS_1.*PIE' "$dyn"
	check_match "$what binds now (BIND_NOW)" '\(FLAGS\) +BIND_NOW|FLAGS_1.* NOW' "$dyn"
	check_match "$what has a GNU_RELRO segment" 'GNU_RELRO' "$seg"
	check_match "$what has a non-executable stack" 'GNU_STACK( +0x[0-9a-f]+)+ RW ' "$seg"
	check_contains "$what calls __stack_chk_fail (stack protector)" "__stack_chk_fail" "$syms"
	check_match "$what calls FORTIFY's checked functions (__*_chk)" '__(s?n?printf|memcpy|strcpy|read|realpath|vsnprintf|fprintf)_chk' "$syms"
}
