# tests/lib/snapshot.sh: what the test suite must leave exactly as it found
# it on the machine that runs it (used by tests/run.sh around every test).
#  host_snapshot DIR     record into DIR: the packages (dpkg -l: name, version,
#                        status), dpkg's stat overrides, every path under /etc
#                        (type, mode, owner, group, size, mtime, link target)
#                        and the daemons (executables of processes whose
#                        parent is init)
#  host_leftovers NAME=VALUE  processes still running whose environment has
#                        that entry (the suite's marker: everything it started)
#  host_compare A B      the differences between two snapshots, as a diff;
#                        status 1 when there is one
# SNAPSHOT_IGNORE: an extended regex of snapshot lines to leave out (for a
# machine where something else changes /etc while the suite runs).

_snap_filter() {
	if [ -n "${SNAPSHOT_IGNORE:-}" ]; then grep -Ev -- "$SNAPSHOT_IGNORE"; else cat; fi
}

host_snapshot() {
	local d=$1 p exe
	mkdir -p "$d"
	if command -v dpkg-query >/dev/null; then
		dpkg-query -W -f='package ${binary:Package} ${Version} ${db:Status-Abbrev}\n' | sort
		dpkg-statoverride --list 2>/dev/null | sed 's/^/statoverride /' | sort
	fi | _snap_filter >"$d/packages"
	find /etc -xdev -printf 'etc %p %y %m %u %g %s %T@ %l\n' 2>/dev/null | sort | _snap_filter >"$d/etc"
	# Daemons: what runs with init as its parent. Left out: shells (on a
	# shared machine, other people's detached shells come and go) and the
	# processes of test runs (this one's are found by host_leftovers; another
	# run's, in another clone, are not this run's doing).
	for p in /proc/[0-9]*; do
		[ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = 1 ] || continue
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in */bash | */sh | */dash | memfd:* | *" (deleted)") continue ;; esac
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qE '^(DKIM_TEST_RUN|DKIM_SETUP)=' && continue
		echo "daemon $exe $(stat -c %U "$p" 2>/dev/null)"
	done | sort -u | _snap_filter >"$d/daemons"
}

host_leftovers() {
	local mark=$1 p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "$mark"; then
			echo "left running: pid ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c 1-160)"
		fi
	done
}

host_compare() {
	local a=$1 b=$2 f rc=0
	for f in packages etc daemons; do
		diff -U0 "$a/$f" "$b/$f" | grep -E '^[-+][^-+]' || continue
		rc=1
	done
	return $rc
}
