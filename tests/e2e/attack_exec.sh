#!/bin/bash
# attack_exec: nothing runs a shell with untrusted text.
#  - statically: no system(), popen(), exec*p() or "sh -c" in src/;
#  - dynamically: every program a batch run starts (strace -f execve) is an
#    absolute path, and none is a shell.
# Extends by itself as the MTA/DNS code starts programs (update-exim4.conf,
# postfix check, opendkim-testkey, ...).
. "$TOP/tests/lib/lib.sh"
cd "$TOP" || exit 1

bad=$(grep -nE '\b(system|popen|execlp|execvp|execvpe|wordexp)[[:space:]]*\(|"/bin/(ba|da)?sh"|"sh"[[:space:]]*,[[:space:]]*"-c"' src/*.c)
check "no system()/popen()/exec*p()/sh -c in src/ ${bad:+($bad)}" test -z "$bad"
starts=$(grep -cE '\b(execv|execve|posix_spawn|fork)[[:space:]]*\(' src/*.c | awk -F: '{s+=$2} END {print s+0}')
diag "places that start programs (execv/execve/posix_spawn/fork): $starts"
# Every child is started by src/spawn.c (clean signals, fixed environment,
# no inherited descriptors, a deadline): nowhere else forks or execs.
elsewhere=$(grep -lE '\b(execv|execve|posix_spawn|fork|vfork|clone)[[:space:]]*\(' src/*.c | grep -v '^src/spawn\.c$' || true)
check "only src/spawn.c starts programs ${elsewhere:+(also: $elsewhere)}" test -z "$elsewhere"

command -v strace >/dev/null || { diag "strace missing: dynamic check skipped"; exit 0; }
need_root
T=$(t_tmpdir)
PLAIN=${DKIM_SETUP_PLAIN:-$TOP/build/dkim-setup}
for mta in none exim postfix; do
	SB=$T/$mta
	mkdir -p "$SB/etc/ssl/private" "$SB/etc/ssl/certs" "$SB/usr/sbin" "$SB/etc/exim4" "$SB/etc/postfix"
	chmod 0710 "$SB/etc/ssl/private"
	strace -f -qq -s 4096 -e trace=execve,execveat -o "$T/$mta.trace" \
		"$PLAIN" --batch --root "$SB" -d example.com -s s1 -a ed25519 -m "$mta" >/dev/null 2>&1 </dev/null
	execs=$(grep -E 'execve(at)?\(' "$T/$mta.trace" | grep -v ' = -1 ' | sed 1d)   # 1st: ourselves
	diag "--mta $mta started $(echo -n "$execs" | grep -c .) program(s)"
	shells=$(echo "$execs" | grep -E 'execve(at)?\(([^,]*, )?"[^"]*/(sh|bash|dash|zsh|busybox)"' || true)
	check "--mta $mta: no shell started" test -z "$shells"
	rel=$(echo "$execs" | grep -vE 'execve(at)?\((AT_FDCWD, )?"/' | grep . || true)
	check "--mta $mta: every program by absolute path" test -z "$rel"
done
