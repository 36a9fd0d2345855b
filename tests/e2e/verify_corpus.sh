#!/bin/bash
# The proof's verifier (src/verify.c: libopendkim, keys from our own lookup)
# against dkimpy, an independent verifier, on one corpus: RFC 8463's
# example, dkimpy's signed test messages, messages dkimpy signs here in
# every canonicalisation with l=, repeated and over-signed headers, RSA and
# Ed25519, each also changed after signing (must fail, or must still pass),
# and the messages our own Exim, OpenDKIM and rspamd signed
# (tests/data/corpus). Both answer key lookups from the same table, so no
# DNS is involved; the verdict on every signature must be the same.
. "$TOP/tests/lib/lib.sh"

DKV=$TOP/build/tests/dkverify
[ -x "$DKV" ] || { not_ok "build/tests/dkverify is built (make unit)"; exit 1; }
C=$(t_tmpdir)/corpus
n=$(/usr/bin/python3 "$TOP/tests/lib/dkim_corpus.py" "$C" "$TOP/tests/data/corpus") ||
	{ not_ok "the corpus is written"; exit 1; }
diag "corpus: $n messages"

# dkimpy's verdicts in one process (dkim_verify.py --keys, per message)
/usr/bin/python3 - "$C" "$TOP/tests/lib/dkim_verify.py" <<'PY' || { not_ok "dkimpy ran over the corpus"; exit 1; }
import glob, io, os, runpy, sys
c, script = sys.argv[1], sys.argv[2]
for f in sorted(glob.glob(os.path.join(c, "*.eml"))):
    out = io.StringIO()
    sys.argv = [script, f, "--keys", os.path.join(c, "KEYS")]
    old, sys.stdout = sys.stdout, out
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        pass
    finally:
        sys.stdout = old
    open(f + ".dkimpy", "w").write(out.getvalue())
PY
agree=0 pass=0 fail=0
disagree=()
for f in "$C"/*.eml; do
	# "pass|fail d= s= a=" per signature; the reasons' words differ
	ours=$("$DKV" "$f" "$C/KEYS" 2>&1 | awk '{ print $1, $2, $3, $4 }')
	theirs=$(awk '{ print $1, $2, $3, $4 }' "$f.dkimpy")
	if [ "$ours" = "$theirs" ]; then
		agree=$((agree + 1))
	else
		disagree+=("$(basename "$f"): ours [$ours] dkimpy [$theirs]")
	fi
	pass=$((pass + $(grep -c '^pass' <<<"$ours")))
	fail=$((fail + $(grep -c '^fail' <<<"$ours")))
done
diag "signatures: $pass pass, $fail fail; messages agreeing: $agree of $n"
for d in "${disagree[@]}"; do diag "disagree: $d"; done
check_eq "libopendkim and dkimpy agree on every message of the corpus" "$n" "$agree"
check "the corpus has passing and failing signatures" test "$pass" -gt 40 -a "$fail" -gt 40

# the verdicts that matter most, named
v() { "$DKV" "$C"/*-"$1".eml "$C/KEYS" | head -n 1 | cut -d' ' -f1; }
check_eq "RFC 8463 example: Ed25519 and RSA pass" "pass d=football.example.com s=brisbane a=ed25519-sha256|pass d=football.example.com s=test a=rsa-sha256" \
	"$("$DKV" "$C"/*-dkimpy-rfc6376.signed.msg.eml "$C/KEYS" | tr '\n' '|' | sed 's/|$//')"
check_eq "simple/simple: whitespace added in the body fails" fail "$(v rsa2048-simple-simple-ws-in-body)"
check_eq "relaxed/relaxed: whitespace added in the body passes" pass "$(v rsa2048-relaxed-relaxed-ws-in-body)"
check_eq "l=: text appended after signing passes" pass "$(v ed25519-l-text-appended)"
check_eq "over-signed header added afterwards fails" fail "$(v rsa2048-oversigned-header-added)"
check_eq "a second instance of a repeated header changed fails" fail "$(v ed25519-relaxed-relaxed-repeated-header-changed)"
check_eq "record of another key fails" fail "$(v rsa2048-other-key)"
check_eq "revoked record fails" fail "$(v ed25519-revoked)"
check_eq "a message without a signature has none" "no DKIM-Signature" "$("$DKV" "$C"/*-no-signature.eml "$C/KEYS")"
exit $T_FAILED
