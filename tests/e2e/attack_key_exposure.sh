#!/bin/bash
# attack_key_exposure: prove with strace that the private key is never, even
# for an instant, readable by anyone but root: every file created under
# /etc/ssl/private is opened O_CREAT|O_EXCL|O_NOFOLLOW with a mode that gives
# nothing to group or others, nothing ever widens it (fchmod/chmod), nothing
# opens an existing file there for writing, and the key reaches its name only
# by rename from such a temp file. Run with umask 000 (the worst case: the
# mode passed to open is all that protects the key) on the plain build.
. "$TOP/tests/lib/lib.sh"
need_root
command -v strace >/dev/null || skip_all "strace not installed"
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
T=$(t_tmpdir)
SB=$T/root
mkdir -p "$SB/etc/ssl/certs"    # /etc/ssl/private is created by the run

trace() {   # trace NAME ARGS...
	local name=$1; shift
	(umask 000; strace -f -y -qq -e trace=open,openat,openat2,creat,fchmod,fchmodat,chmod,fchown,fchownat,chown,lchown,rename,renameat,renameat2,link,linkat,mkdir,mkdirat,truncate,ftruncate \
		-o "$T/$name.trace" "$PLAIN" --batch --root "$SB" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null)
}

# The checker: prints one "ok"/"FAIL" line per rule and a summary count.
cat >"$T/check.py" <<'PY'
import re, sys
sb, path = sys.argv[1], sys.argv[2]
priv = sb + "/etc/ssl/private"
lines = open(path).read().splitlines()
fails, n_create, n_rename = [], 0, 0
octal = lambda s: int(s, 8)
for l in lines:
    m = re.search(r'\b(openat2?|open|creat)\((.*)\) = (\d+)<([^>]*)>', l)
    if m and m.group(4).startswith(sb):
        args, target = m.group(2), m.group(4)
        wr = "O_WRONLY" in args or "O_RDWR" in args
        if "O_CREAT" in args or m.group(1) == "creat":
            mode = octal(args.rsplit(",", 1)[1].strip())
            if not ("O_EXCL" in args and "O_NOFOLLOW" in args):
                fails.append("created without O_EXCL|O_NOFOLLOW: " + l)
            if target.startswith(priv):
                n_create += 1
                if mode & 0o077:
                    fails.append("created in private/ with mode %o: %s" % (mode, l))
                if not re.search(r'/\.dkim-setup\.[0-9a-f]{12}\.tmp$', target):
                    fails.append("created in private/ under a non-temp name: " + l)
        elif wr:
            fails.append("an existing file opened for writing: " + l)
    m = re.search(r'\bfchmod\((\d+)<([^>]*)>, (0\d+)\)', l)
    if m and m.group(2).startswith(priv + "/") and octal(m.group(3)) & 0o077:
        fails.append("fchmod widens a file in private/: " + l)
    m = re.search(r'\bfchmod\((\d+)<([^>]*)>, (0\d+)\)', l)
    if m and m.group(2) == priv and octal(m.group(3)) & 0o007:
        fails.append("private/ itself opened to others: " + l)
    if re.search(r'\b(chmod|fchmodat)\(', l) and "ssl/private" in l:
        fails.append("chmod by name in private/ (racy): " + l)
    if re.search(r'\b(truncate|ftruncate)\(', l) and "ssl/private" in l:
        fails.append("truncate in private/: " + l)
    m = re.search(r'\bmkdirat?\(.*"([^"]*)", (0\d+)\)', l)
    if m and m.group(1).endswith("private") and octal(m.group(2)) & 0o007:
        fails.append("private/ created with others' bits: " + l)
    m = re.search(r'\brenameat2?\((\d+)<([^>]*)>, "([^"]*)", (\d+)<([^>]*)>, "([^"]*)"', l)
    if m and m.group(5) == priv:
        n_rename += 1
        if not re.match(r'\.dkim-setup\.[0-9a-f]{12}\.tmp$', m.group(3)):
            fails.append("a name in private/ comes from elsewhere: " + l)
for f in fails:
    print("FAIL " + f[:300])
print("creates=%d renames=%d fails=%d" % (n_create, n_rename, len(fails)))
PY

scenario() {   # scenario NAME EXPECT_CREATES ARGS...
	local name=$1 want=$2; shift 2
	trace "$name" "$@"
	local rc=$?
	local res
	res=$(/usr/bin/python3 "$T/check.py" "$SB" "$T/$name.trace")
	echo "$res" | grep '^FAIL' | head -n 5 | sed 's/^/# /'
	check_eq "$name: exit status" 0 "$rc"
	check_match "$name: every rule holds over $(wc -l <"$T/$name.trace") traced calls" \
		"creates=$want renames=$want fails=0" "$(echo "$res" | tail -n 1)"
}

scenario "new RSA-2048 key, umask 000" 1 -d example.com -s s1
check_eq "  ... private/ is 0710 root:ssl-cert" "710 root ssl-cert" "$(stat -c '%a %U %G' "$SB/etc/ssl/private")"
check_eq "  ... the key is 0600 root:root" "600 root root" "$(stat -c '%a %U %G' "$SB/etc/ssl/private/example.com-s1-private.pem")"
scenario "same key again (reused)" 0 -d example.com -s s1
scenario "--force replacement with a backup, umask 000" 1 -d example.com -s s1 --force
check "  ... the backup was made by linkat inside private/" \
	grep -q 'linkat(.*ssl/private>, "example.com-s1-private.pem", .*"example.com-s1-private.pem.bak-' "$T/--force replacement with a backup, umask 000.trace"
scenario "new Ed25519 key" 1 -d example.com -s s2 -a ed25519
scenario "new RSA-4096 key" 1 -d example.com -s s3 -b 4096
check "nothing anywhere under private/ is readable, writable or searchable by others" \
	test -z "$(find "$SB/etc/ssl/private" -perm /o=rwx -print)"
check "no key file under private/ gives anything to its group" \
	test -z "$(find "$SB/etc/ssl/private" -type f -perm /g=rwx -print)"
