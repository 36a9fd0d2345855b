#!/bin/bash
# attack_key_exposure: prove with strace that the private key is never, even
# for an instant, readable by anyone but root: every file created under
# /etc/ssl/private is opened O_CREAT|O_EXCL|O_NOFOLLOW with a mode that gives
# nothing to group or others, nothing ever widens it (fchmod/chmod), nothing
# opens an existing file there for writing, and the key reaches its name only
# by rename from such a temp file; the same for the signer copies in
# /etc/exim4/dkim (at most 0640) and /etc/dkimkeys (0600). Run with umask 000 (the worst case: the
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
# Directories that hold keys, and what a key file there may give away:
# nothing (0600) in the master directory and OpenDKIM's, read to the group
# (0640 root:Debian-exim) in Exim's.
keydirs = {sb + "/etc/ssl/private": 0o077, sb + "/etc/dkimkeys": 0o077, sb + "/etc/exim4/dkim": 0o037}
def keydir(p):
    for d, m in keydirs.items():
        if p == d or p.startswith(d + "/"):
            return d, m
    return None, None
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
            d, bad = keydir(target)
            if d is not None:
                n_create += 1
                if mode & bad:
                    fails.append("created in a key directory with mode %o: %s" % (mode, l))
                if not re.search(r'/\.dkim-setup\.[0-9a-f]{12}\.tmp$', target):
                    fails.append("created in a key directory under a non-temp name: " + l)
        elif wr:
            fails.append("an existing file opened for writing: " + l)
    m = re.search(r'\bfchmod\((\d+)<([^>]*)>, (0\d+)\)', l)
    if m:
        d, bad = keydir(m.group(2))
        if d is not None and m.group(2) != d and octal(m.group(3)) & bad:
            fails.append("fchmod widens a key file: " + l)
        if d is not None and m.group(2) == d and octal(m.group(3)) & 0o007:
            fails.append("a key directory opened to others: " + l)
    if re.search(r'\b(chmod|fchmodat)\(', l) and any(k[len(sb):] in l for k in keydirs):
        fails.append("chmod by name in a key directory (racy): " + l)
    if re.search(r'\b(truncate|ftruncate)\(', l) and any(k[len(sb):] in l for k in keydirs):
        fails.append("truncate in a key directory: " + l)
    m = re.search(r'\bmkdirat?\(.*"([^"]*)", (0\d+)\)', l)
    if m and m.group(1) in ("private", "dkimkeys", "dkim") and octal(m.group(2)) & 0o007:
        fails.append("a key directory created with others' bits: " + l)
    m = re.search(r'\brenameat2?\((\d+)<([^>]*)>, "([^"]*)", (\d+)<([^>]*)>, "([^"]*)"', l)
    if m and m.group(5) in keydirs:
        n_rename += 1
        if not re.match(r'\.dkim-setup\.[0-9a-f]{12}\.tmp$', m.group(3)):
            fails.append("a name in a key directory comes from elsewhere: " + l)
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
	local last
	last=$(echo "$res" | tail -n 1)
	if [ "$want" = some ]; then   # as many renames as creates, at least 2
		[[ $last =~ creates=([0-9]+)\ renames=([0-9]+) ]] &&
			[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" -ge 2 ] &&
			want=${BASH_REMATCH[1]}
	fi
	check_match "$name: every rule holds over $(wc -l <"$T/$name.trace") traced calls" \
		"creates=$want renames=$want fails=0" "$last"
}

scenario "new RSA-2048 key, umask 000" 1 -d example.com -s s1
# Debian's layout where the ssl-cert package made the group, else root's
sslgrp=$(getent group ssl-cert >/dev/null && echo ssl-cert || echo root)
check_eq "  ... private/ is 0710 root:$sslgrp" "710 root $sslgrp" "$(stat -c '%a %U %G' "$SB/etc/ssl/private")"
check_eq "  ... the key is 0600 root:root" "600 root root" "$(stat -c '%a %U %G' "$SB/etc/ssl/private/example.com-s1-private.pem")"
scenario "same key again (reused)" 0 -d example.com -s s1
scenario "--force replacement with a backup, umask 000" 1 -d example.com -s s1 --force
check "  ... the backup was made by linkat inside private/" \
	grep -q 'linkat(.*ssl/private>, "example.com-s1-private.pem", .*"example.com-s1-private.pem.bak-' "$T/--force replacement with a backup, umask 000.trace"
scenario "new Ed25519 key" 1 -d example.com -s s2 -a ed25519
scenario "new RSA-4096 key" 1 -d example.com -s s3 -b 4096
# The signer's copies: Exim's (0640 root:Debian-exim) and OpenDKIM's (0600).
mkdir -p "$SB/usr/sbin" "$SB/etc/exim4" "$SB/etc/postfix"
printf '#!/bin/sh\nexit 0\n' >"$SB/usr/sbin/exim4"
cp "$SB/usr/sbin/exim4" "$SB/usr/sbin/postfix"
cp "$SB/usr/sbin/exim4" "$SB/usr/sbin/opendkim"
chmod 0755 "$SB"/usr/sbin/*
printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='false'\n" >"$SB/etc/exim4/update-exim4.conf.conf"
printf 'smtpd_milters =\n' >"$SB/etc/postfix/main.cf"
scenario "Exim's key copies, umask 000" some -d example.com -s s4 -b 1024 -m exim
check_eq "  ... /etc/exim4/dkim/ copy is 0640 and the directory 0750" "640 750" \
	"$(stat -c %a "$SB/etc/exim4/dkim/example.com-s4-private.pem") $(stat -c %a "$SB/etc/exim4/dkim")"
scenario "OpenDKIM's key copies, umask 000" some -d example.com -s s5 -b 1024 -m postfix
check_eq "  ... /etc/dkimkeys/ copy is 0600 and the directory 0750" "600 750" \
	"$(stat -c %a "$SB/etc/dkimkeys/example.com-s5.private") $(stat -c %a "$SB/etc/dkimkeys")"
check "nothing anywhere under private/ is readable, writable or searchable by others" \
	test -z "$(find "$SB/etc/ssl/private" -perm /o=rwx -print)"
check "no key file under private/ gives anything to its group" \
	test -z "$(find "$SB/etc/ssl/private" -type f -perm /g=rwx -print)"
