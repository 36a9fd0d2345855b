# The key pair is all or nothing: when the public half cannot be written
# (a tiny full tmpfs at etc/ssl/certs, in a private mount namespace),
# batch exits 3 and leaves no new private key behind; a --force
# replacement gets the old private key back. Nothing reaches the host's
# mount table (unshare -m).
. "$TOP/tests/lib/lib.sh"
need_root
unshare -m true 2>/dev/null || skip_all "unshare -m not permitted"
T=$(t_tmpdir)
SB=$T/sb
mkdir -p "$SB/etc/ssl/private" "$SB/etc/ssl/certs"
chmod 0710 "$SB/etc/ssl/private"
export DKIM_SETUP SB T
unshare -m bash -c '
	mount -t tmpfs -o size=64k,mode=0755 dkim-certs "$SB/etc/ssl/certs" || exit 10
	"$DKIM_SETUP" --batch --root "$SB" -d example.test -s old --mta none >/dev/null 2>&1 || exit 11
	sha256sum <"$SB/etc/ssl/private/example.test-old-private.pem" >"$T/old.sum"
	dd if=/dev/zero of="$SB/etc/ssl/certs/filler" bs=4k 2>/dev/null
	sync
	"$DKIM_SETUP" --batch --root "$SB" -d example.test -s new --mta none >/dev/null 2>"$T/new.err"
	echo $? >"$T/new.rc"
	"$DKIM_SETUP" --batch --root "$SB" -d example.test -s old -b 3072 --force --mta none >/dev/null 2>"$T/force.err"
	echo $? >"$T/force.rc"
	sha256sum <"$SB/etc/ssl/private/example.test-old-private.pem" >"$T/force.sum"
	ls -A "$SB/etc/ssl/private" >"$T/private.ls"
	find "$SB" -name ".dkim-setup.*" >"$T/temps"
	umount "$SB/etc/ssl/certs"
'
rc=$?
check_eq "the mount namespace ran" 0 "$rc"
check_eq "public key cannot be written: exit 3" 3 "$(cat "$T/new.rc")"
check "  ... the error names the public key" grep -q "example.test-new-public.pem" "$T/new.err"
check "  ... no new private key left" eval '! grep -q example.test-new "$T/private.ls"'
check_eq "--force replacement whose public key cannot be written: exit 3" 3 "$(cat "$T/force.rc")"
check_eq "  ... the old private key is back, unchanged" "$(cat "$T/old.sum")" "$(cat "$T/force.sum")"
check_eq "  ... private/ holds only the old key" "example.test-old-private.pem" "$(cat "$T/private.ls")"
check "  ... no temp files" test ! -s "$T/temps"
