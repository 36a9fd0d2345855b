#!/bin/bash
# attack_files: the files dkim-setup writes, under attack (as root, in --root
# sandboxes): symlinks planted at the key, temp, public-key and config paths,
# symlinked directories, hard links, directories writable by others, an
# existing key, a read-only and a full file system. Every refusal is a clear
# one-line error with exit 3 (2 for "exists already"), the planted target is
# never touched, and nothing is left half-written.
. "$TOP/tests/lib/lib.sh"
need_root
T=$(t_tmpdir)
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
K=etc/ssl/private/example.com-s1-private.pem
P=etc/ssl/certs/example.com-s1-public.pem

# A fresh sandbox laid out like Debian.
mk_sandbox() {
	local sb=$1
	rm -rf "$sb"
	mkdir -p "$sb/etc/ssl/private" "$sb/etc/ssl/certs" "$sb/tmp"
	chmod 0710 "$sb/etc/ssl/private"
	chmod 1777 "$sb/tmp"
}
# run SB ARGS...: the batch mode, stdout/stderr into $T/out, $T/err; rc in $rc.
run() {
	local sb=$1; shift
	"$DKIM_SETUP" --batch --root "$sb" -d example.com -s s1 "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
one_line() { [ "$(wc -l <"$T/err")" -ge 1 ] && grep -q '^dkim-setup: ' "$T/err"; }
no_tmp() { [ -z "$(find "$1" -name '.dkim-setup.*.tmp' -print -quit)" ]; }
sum() { md5sum <"$1" | cut -d' ' -f1; }
plant_target() {   # a file outside the sandbox that must stay untouched
	printf 'PLANTED TARGET %s\n' "$1" >"$T/target"
	chmod 0644 "$T/target"
	tsum=$(sum "$T/target")
}
target_intact() {
	[ -f "$T/target" ] && [ ! -L "$T/target" ] && [ "$(sum "$T/target")" = "$tsum" ] &&
		[ "$(stat -c %a "$T/target")" = 644 ]
}

# ---- a symlink at the key path --------------------------------------------
SB=$T/sb
for force in "" --force; do
	mk_sandbox "$SB"
	plant_target key
	ln -s "$T/target" "$SB/$K"
	run "$SB" -a ed25519 $force
	check_eq "symlink at the key path ${force:-(no --force)}: exit 3" 3 "$rc"
	check_match "  ... says it is a symlink" 'symlink' "$(cat "$T/err")"
	check "  ... target untouched, link still a link, no temp file" \
		eval 'target_intact && [ -L "$SB/$K" ] && no_tmp "$SB"'
done
mk_sandbox "$SB"
ln -s "$T/dangling-target" "$SB/$K"
run "$SB" -a ed25519 --force
check "dangling symlink at the key path: exit 3 and the target is not created" \
	eval '[ "$rc" = 3 ] && [ ! -e "$T/dangling-target" ]'

# ---- a symlink at the public key path (a file we replace) ------------------
mk_sandbox "$SB"
plant_target pub
ln -s "$T/target" "$SB/$P"
run "$SB" -a ed25519
check_eq "symlink at the public key path: exit 3" 3 "$rc"
check "  ... target untouched, no temp file" eval 'target_intact && [ -L "$SB/$P" ] && no_tmp "$SB"'
rm "$SB/$P"
run "$SB" -a ed25519
check "  ... a re-run after removing the link completes the pair (private + public)" \
	eval '[ "$rc" = 0 ] && [ -f "$SB/$K" ] && [ -f "$SB/$P" ] && [ ! -L "$SB/$P" ]'

# ---- symlinks at config paths --------------------------------------------------
mk_sandbox "$SB"
plant_target mailname
printf 'evil.example\n' >"$T/target"; tsum=$(sum "$T/target")
ln -s "$T/target" "$SB/etc/mailname"
"$DKIM_SETUP" --batch --root "$SB" -s s1 -a ed25519 >"$T/out" 2>"$T/err" </dev/null
rc=$?
check "/etc/mailname as a symlink out of the sandbox is not followed (no domain: exit 2)" \
	eval '[ "$rc" = 2 ] && ! grep -q evil "$T/out" "$T/err" && [ ! -e "$SB/$K" ]'
# The MTA step, one planted symlink at a time (the others real), on fake but
# complete Exim (unsplit and split config) and Postfix+OpenDKIM layouts: the
# link's target (a file or a directory outside the sandbox) stays untouched
# and the link stays a link, whatever the MTA code decides.
mk_mta() {   # mk_mta SB exim|exim-split|postfix
	mk_sandbox "$1"
	mkdir -p "$1/usr/sbin"
	case $2 in
	exim*)
		mkdir -p "$1/etc/exim4/conf.d/main"
		printf '#!/bin/sh\nexit 0\n' >"$1/usr/sbin/exim4"
		local split=false
		[ "$2" = exim-split ] && split=true
		printf "dc_eximconfig_configtype='internet'\ndc_use_split_config='%s'\n" "$split" \
			>"$1/etc/exim4/update-exim4.conf.conf"
		printf '# local macros\n' >"$1/etc/exim4/exim4.conf.localmacros"
		printf '# split local macros\n' >"$1/etc/exim4/conf.d/main/000_localmacros"
		;;
	postfix)
		mkdir -p "$1/etc/postfix" "$1/etc/opendkim" "$1/etc/default"
		printf '#!/bin/sh\nexit 0\n' >"$1/usr/sbin/postfix"
		cp "$1/usr/sbin/postfix" "$1/usr/sbin/opendkim"
		printf 'smtpd_milters = inet:localhost:10028\n' >"$1/etc/postfix/main.cf"
		printf 'Syslog yes\n' >"$1/etc/opendkim.conf"
		printf 'RUNDIR=/run/opendkim\n' >"$1/etc/default/opendkim"
		;;
	esac
	chmod 0755 "$1"/usr/sbin/*
}
# A layout without a planted link must work (so the refusals below are ours).
for kind in exim exim-split postfix; do
	mk_mta "$SB" "$kind"
	run "$SB" -a rsa -b 1024 -m "${kind%-split}"
	check_eq "--mta ${kind%-split} on the $kind layout works without planted links" 0 "$rc"
done
n_cfg=0
plant_cfg() {   # plant_cfg KIND PATH
	local kind=$1 c=$2
	mk_mta "$SB" "$kind"
	rm -rf "$T/tgt"
	mkdir -p "$T/tgt"
	if [ -d "$SB/$c" ]; then
		cp -a "$SB/$c/." "$T/tgt/"
		rm -rf "${SB:?}/$c"
		ln -s "$T/tgt" "$SB/$c"
	else
		mkdir -p "$(dirname "$SB/$c")"
		if [ -f "$SB/$c" ]; then cp -a "$SB/$c" "$T/tgt/file"; rm -f "$SB/$c"; else printf 'PLANTED\n' >"$T/tgt/file"; fi
		ln -s "$T/tgt/file" "$SB/$c"
	fi
	local before after
	before=$(cd "$T/tgt" && find . -printf '%p %m %s\n' | sort; cat "$T"/tgt/* 2>/dev/null | md5sum)
	run "$SB" -a rsa -b 1024 -m "${kind%-split}"
	after=$(cd "$T/tgt" && find . -printf '%p %m %s\n' | sort; cat "$T"/tgt/* 2>/dev/null | md5sum)
	n_cfg=$((n_cfg + 1))
	check "$kind: symlink at /$c: target untouched, link intact (exit $rc: $(grep -o 'refusing[^:]*' "$T/err" | head -n 1))" \
		eval '[ "$before" = "$after" ] && [ -L "$SB/$c" ] && [ "$rc" != 0 ] && no_tmp "$SB"'
}
for c in etc/exim4/exim4.conf.localmacros etc/exim4/update-exim4.conf.conf etc/exim4/dkim \
	etc/exim4/dkim/example.com-s1-private.pem etc/exim4; do
	plant_cfg exim "$c"
done
for c in etc/exim4/conf.d/main/000_localmacros etc/exim4/conf.d/main etc/exim4/conf.d; do
	plant_cfg exim-split "$c"
done
for c in etc/postfix/main.cf etc/postfix etc/opendkim.conf etc/opendkim etc/opendkim/key.table \
	etc/opendkim/signing.table etc/dkimkeys etc/dkimkeys/example.com-s1.private; do
	plant_cfg postfix "$c"
done
diag "$n_cfg config paths attacked one at a time"

# ---- the temp path -----------------------------------------------------------
# Its name is random; make it predictable (getrandom() of 6 bytes -> zeros)
# and plant a symlink exactly there: O_EXCL|O_NOFOLLOW must refuse it.
cat >"$T/zero_rand.c" <<'C'
#define _GNU_SOURCE
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	if (len == 6) { memset(buf, 0, len); return 6; }   /* fsutil's temp name */
	return syscall(SYS_getrandom, buf, len, flags);
}
C
if gcc -shared -fPIC -o "$T/zero_rand.so" "$T/zero_rand.c" 2>"$T/cc.err"; then
	mk_sandbox "$SB"
	plant_target tmp
	ln -s "$T/target" "$SB/etc/ssl/private/.dkim-setup.000000000000.tmp"
	LD_PRELOAD=$T/zero_rand.so "$PLAIN" --batch --root "$SB" -d example.com -s s1 -a ed25519 \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
	check_eq "symlink planted at the (forced) temp name: exit 3" 3 "$rc"
	check_match "  ... with a clear reason" 'cannot create a file in /etc/ssl/private: File exists' "$(cat "$T/err")"
	check "  ... target untouched, the planted link left alone, no key written" \
		eval 'target_intact && [ -L "$SB/etc/ssl/private/.dkim-setup.000000000000.tmp" ] && [ ! -e "$SB/$K" ]'
else
	not_ok "building the getrandom shim: $(cat "$T/cc.err")"
fi
# Links at other temp-like names are neither followed nor removed.
mk_sandbox "$SB"
plant_target tmps
for i in $(seq 20); do
	ln -s "$T/target" "$SB/etc/ssl/private/.dkim-setup.$(openssl rand -hex 6).tmp"
	ln -s "$T/target" "$SB/etc/ssl/certs/.dkim-setup.$(openssl rand -hex 6).tmp"
done
run "$SB" -a ed25519
check "40 planted temp-name symlinks: run succeeds, target untouched, all 40 still there" \
	eval '[ "$rc" = 0 ] && target_intact && [ "$(find "$SB/etc/ssl" -name ".dkim-setup.*.tmp" -type l | wc -l)" = 40 ]'

# ---- symlinked directory components -----------------------------------------
for comp in etc etc/ssl etc/ssl/private etc/ssl/certs; do
	mk_sandbox "$SB"
	rm -rf "$T/evil"
	mkdir -p "$T/evil"
	cp -a "$SB/$comp/." "$T/evil/"
	rm -rf "${SB:?}/$comp"
	ln -s "$T/evil" "$SB/$comp"
	before=$(find "$T/evil" | sort | md5sum)
	run "$SB" -a ed25519
	check "symlinked directory /$comp: exit 3, nothing written through it" \
		eval '[ "$rc" = 3 ] && [ "$(find "$T/evil" | sort | md5sum)" = "$before" ] && grep -q symlink "$T/err"'
done

# ---- hard links ---------------------------------------------------------------
# The key name is a hard link to another file (same file system).
for force in "" --force; do
	mk_sandbox "$SB"
	printf 'VICTIM\n' >"$SB/etc/victim"
	chmod 0644 "$SB/etc/victim"
	ln "$SB/etc/victim" "$SB/$K"
	run "$SB" -a ed25519 $force
	if [ -z "$force" ]; then
		check "hard link at the key path: exit 3 (hard-linked files are not read)" \
			eval '[ "$rc" = 3 ] && grep -q "hard link" "$T/err"'
	else
		check "hard link at the key path, --force: replaced by a new file (rc $rc)" \
			eval '[ "$rc" = 0 ] && [ "$(stat -c %i "$SB/$K")" != "$(stat -c %i "$SB/etc/victim")" ]'
	fi
	check "  ... the linked file keeps its content and mode" \
		eval '[ "$(cat "$SB/etc/victim")" = VICTIM ] && [ "$(stat -c %a "$SB/etc/victim")" = 644 ]'
done
# Someone holds a second name for the key: a replacement never writes through it.
mk_sandbox "$SB"
run "$SB" -a ed25519
ln "$SB/$K" "$SB/tmp/second-name"
old=$(sum "$SB/$K")
run "$SB" -a ed25519 --force
check "a hard link to the key elsewhere: --force makes a new inode, the other name keeps the old bytes" \
	eval '[ "$rc" = 0 ] && [ "$(stat -c %i "$SB/$K")" != "$(stat -c %i "$SB/tmp/second-name")" ] &&
	      [ "$(sum "$SB/tmp/second-name")" = "$old" ] && [ "$(sum "$SB/$K")" != "$old" ]'
check "  ... and the new key is 0600 with one link" \
	eval '[ "$(stat -c %a:%h "$SB/$K")" = 600:1 ]'

# ---- directories writable by others, or owned by someone else ---------------------
for d in etc etc/ssl etc/ssl/private etc/ssl/certs; do
	for how in 0777 0757 nobody; do
		mk_sandbox "$SB"
		if [ "$how" = nobody ]; then chown nobody "$SB/$d"; else chmod "$how" "$SB/$d"; fi
		run "$SB" -a ed25519
		if [ "$d" = etc/ssl/certs ]; then
			# The private key is written first; the public half fails.
			check "/$d $how: exit 3, and a re-run once fixed completes the pair" \
				eval '[ "$rc" = 3 ] && grep -Eq "writable by others|belongs to uid" "$T/err" && no_tmp "$SB" &&
				      chmod 0755 "$SB/$d" && chown root "$SB/$d" && run "$SB" -a ed25519 &&
				      [ -f "$SB/$K" ] && [ -f "$SB/$P" ]'
		else
			check "/$d $how: exit 3 with the reason, no key written" \
				eval '[ "$rc" = 3 ] && grep -Eq "writable by others|belongs to uid" "$T/err" && [ ! -e "$SB/$K" ] && no_tmp "$SB"'
		fi
	done
done

# ---- an existing key ------------------------------------------------------------------
mk_sandbox "$SB"
run "$SB" -a ed25519
old=$(sum "$SB/$K"); oldpub=$(sum "$SB/$P")
run "$SB" -a ed25519
check "same request again: exit 0, key unchanged" eval '[ "$rc" = 0 ] && [ "$(sum "$SB/$K")" = "$old" ] && grep -q unchanged "$T/out"'
run "$SB" -a rsa -b 1024
check "another key type without --force: exit 2, key unchanged, says --force" \
	eval '[ "$rc" = 2 ] && [ "$(sum "$SB/$K")" = "$old" ] && grep -q -- --force "$T/err" && [ ! -e "$SB/var/backups/dkim-setup" ]'
run "$SB" -a ed25519 --force
bak=$(ls "$SB/var/backups/dkim-setup/etc/ssl/private" | grep -- '-private.pem.2' | head -n 1)
pbak=$(ls "$SB/var/backups/dkim-setup/etc/ssl/certs" | grep -- '-public.pem.2' | head -n 1)
check "--force: exit 0, a new key" eval '[ "$rc" = 0 ] && [ "$(sum "$SB/$K")" != "$old" ]'
check "  ... the old private key kept as $bak: same bytes, 0600 root" \
	eval '[ -n "$bak" ] && [ "$(sum "$SB/var/backups/dkim-setup/etc/ssl/private/$bak")" = "$old" ] &&
	      [ "$(stat -c %a:%U "$SB/var/backups/dkim-setup/etc/ssl/private/$bak")" = 600:root ] &&
	      [ "$(stat -c %a "$SB/var/backups/dkim-setup")" = 700 ] && [ -z "$(ls "$SB/etc/ssl/private" | grep -v -- -private.pem$)" ]'
check "  ... the old public key kept as $pbak: same bytes, 0644" \
	eval '[ -n "$pbak" ] && [ "$(sum "$SB/var/backups/dkim-setup/etc/ssl/certs/$pbak")" = "$oldpub" ] &&
	      [ "$(stat -c %a "$SB/var/backups/dkim-setup/etc/ssl/certs/$pbak")" = 644 ]'
check "  ... new key 0600 root, public matches it" \
	eval '[ "$(stat -c %a:%U "$SB/$K")" = 600:root ] &&
	      [ "$(openssl pkey -in "$SB/$K" -pubout)" = "$(cat "$SB/$P")" ]'
sleep 1
run "$SB" -a ed25519 --force
check "a second --force keeps both backups (distinct names)" \
	eval '[ "$rc" = 0 ] && [ "$(ls "$SB/var/backups/dkim-setup/etc/ssl/private" | grep -c -- "-private.pem.2")" = 2 ]'

# ---- read-only and full file systems (a private mount namespace) ----------------------
# Everything mounted here stays inside `unshare -m`: nothing reaches the
# host's mount table. Results come back as files in $T.
if ! unshare -m true 2>/dev/null; then
	skip_note="unshare -m not permitted"
	diag "SKIP read-only/full file system: $skip_note"
else
	M=$T/mnt
	mkdir -p "$M"
	export DKIM_SETUP T M K P
	unshare -m bash -c '
		set -u
		mount -t tmpfs -o size=256k,mode=0755 dkim-test "$M" || exit 10
		sb=$M/sb
		mkdir -p $sb/etc/ssl/private $sb/etc/ssl/certs && chmod 0710 $sb/etc/ssl/private
		"$DKIM_SETUP" --batch --root $sb -d example.com -s s1 -a ed25519 >/dev/null 2>&1 || exit 11
		md5sum <$sb/$K >$T/ro.before
		# read-only: replace the key
		mount -o remount,ro $M || exit 12
		"$DKIM_SETUP" --batch --root $sb -d example.com -s s1 -a rsa -b 1024 --force >/dev/null 2>$T/ro.err
		echo $? >$T/ro.rc
		md5sum <$sb/$K >$T/ro.after
		{ find $sb -name ".dkim-setup.*"; find $sb/var/backups/dkim-setup -type f 2>/dev/null; } >$T/ro.left
		"$DKIM_SETUP" --batch --root $sb -d example.com -s s2 -a ed25519 >/dev/null 2>$T/ro2.err
		echo $? >$T/ro2.rc
		ls $sb/etc/ssl/private >$T/ro2.ls
		# full: fill the file system, then replace the key with a bigger one
		mount -o remount,rw $M || exit 13
		dd if=/dev/zero of=$M/filler bs=4k 2>/dev/null
		sync
		"$DKIM_SETUP" --batch --root $sb -d example.com -s s1 -a rsa -b 4096 --force >/dev/null 2>$T/full.err
		echo $? >$T/full.rc
		md5sum <$sb/$K >$T/full.after
		{ find $sb -name ".dkim-setup.*"; find $sb/var/backups/dkim-setup -type f 2>/dev/null; } >$T/full.left
		"$DKIM_SETUP" --batch --root $sb -d example.com -s s3 -a rsa -b 4096 >/dev/null 2>$T/full2.err
		echo $? >$T/full2.rc
		find $sb -name "*-s3-*" -o -name ".dkim-setup.*" >$T/full2.left
		umount $M
	'
	ns_rc=$?
	check_eq "read-only/full scenarios ran in a private mount namespace" 0 "$ns_rc"
	check "the tmpfs did not leak into the host's mount table" eval '! grep -q " $M " /proc/mounts'
	check_eq "read-only fs, replacing a key: exit 3" 3 "$(cat "$T/ro.rc" 2>/dev/null)"
	check_match "  ... clear error" 'Read-only file system' "$(cat "$T/ro.err" 2>/dev/null)"
	check "  ... old key intact, no temp file or backup left" \
		eval '[ "$(cat "$T/ro.before")" = "$(cat "$T/ro.after")" ] && [ ! -s "$T/ro.left" ]'
	check "read-only fs, a new key: exit 3, no file" \
		eval '[ "$(cat "$T/ro2.rc")" = 3 ] && ! grep -q s2 "$T/ro2.ls" && grep -q "Read-only" "$T/ro2.err"'
	check_eq "full fs, replacing a key with RSA-4096: exit 3" 3 "$(cat "$T/full.rc" 2>/dev/null)"
	check_match "  ... clear error" 'No space left on device' "$(cat "$T/full.err" 2>/dev/null)"
	check "  ... old key intact, no temp file or backup left" \
		eval '[ "$(cat "$T/ro.before")" = "$(cat "$T/full.after")" ] && [ ! -s "$T/full.left" ]'
	check "full fs, a new RSA-4096 key: exit 3, no partial or truncated file" \
		eval '[ "$(cat "$T/full2.rc")" = 3 ] && [ ! -s "$T/full2.left" ]'
fi
