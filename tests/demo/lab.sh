#!/bin/bash
# make lab: a troubleshooting lab for trainers. Each scenario (assets/lab/NAME,
# see assets/lab/README) starts a sandbox and a local DNS server, as `make
# demo` does (tests/demo/sandbox.sh), in a named broken state; the trainee
# finds the cause with the tools of a real server and fixes it.
#   lab.sh list            the scenarios (make lab)
#   lab.sh start NAME      set up NAME, print its brief, open the lab shell
#                          when on a terminal (make lab SCENARIO=NAME)
#   lab.sh shell           the lab shell again, for the scenario set up
#   lab.sh check [NAME]    solved or not, a hint after a wrong attempt (make lab-check)
#   lab.sh clean           stop the DNS server by its pid, remove the lab (make lab-clean)
#   lab.sh run fix.sh|wrong.sh   for trainers and tests: the scenario's scripted
#                          right fix (the answer) or a plausible wrong one
# The lab lives in ./lab (LAB_DIR): the sandbox root, the DNS server's files,
# the wrappers of the lab shell and what the trainee did. Nothing is written
# outside it; the server listens on loopback only and outlives `make lab`
# until `make lab-clean` or the next scenario.
# A scenario that needs a real signer ("signer" in its needs file) runs in a
# throwaway Debian root with Postfix and OpenDKIM (tests/lib/troot.sh, as
# root): there dkim-setup works on the root's own /, the lab shell runs
# inside, and everything (daemons, DNS server, the root) ends with it.
set -eu
cd "$(dirname "$0")/../.."
top=$PWD
lab=${LAB_DIR:-$top/lab}
case $lab in /*) ;; *) lab=$top/$lab ;; esac
scenarios=${LAB_SCENARIOS:-$top/assets/lab}
zone=shop.example.test
prog=${DKIM_SETUP:-$top/build/dkim-setup}

. "$top/tests/demo/sandbox.sh"

# Inside the throwaway root (LAB_IN_ROOT=1, set by start_in_root): the
# root's / is the server. Refused anywhere else: it would change this
# machine's own mail configuration.
in_root=
if [ "${LAB_IN_ROOT:-}" = 1 ]; then
	[ "$(hostname)" = troot ] && [ ! -w "$top" ] ||
		{ echo "make lab: LAB_IN_ROOT is only for the throwaway root" >&2; exit 2; }
	in_root=1
fi

die() { echo "make lab: $*" >&2; exit 2; }

scenario_names() {
	local d
	for d in "$scenarios"/*/; do
		[ -f "$d/brief.txt" ] && [ -f "$d/setup.sh" ] && [ -f "$d/check.sh" ] && basename "$d"
	done
}

# What a scenario needs that this build or host may not have (its `needs`
# file: "prove" for `dkim-setup check --prove`, "signer" for a throwaway
# root with a real signer). Prints what is missing; empty when runnable.
scenario_missing() {
	local need out=
	[ -f "$scenarios/$1/needs" ] || return 0
	for need in $(sed 's/#.*//' "$scenarios/$1/needs"); do
		case $need in
		prove) "$prog" check --help 2>&1 | grep -q -- '--prove' ||
			out="$out dkim-setup check --prove (issue 12);" ;;
		signer) [ "$(id -u)" = 0 ] && [ -f "$top/tests/lib/troot.sh" ] ||
			out="$out a throwaway root with a real signer (root, tests/lib/troot.sh);" ;;
		*) out="$out \"$need\" (unknown need);" ;;
		esac
	done
	printf '%s' "${out# }"
}

list() {
	local name title missing
	echo "Troubleshooting scenarios (make lab SCENARIO=name):"
	echo
	for name in $(scenario_names); do
		title=$(head -n 1 "$scenarios/$name/brief.txt")
		missing=$(scenario_missing "$name")
		printf '  %-16s %s\n' "$name" "$title"
		[ -z "$missing" ] || printf '  %-16s (not here: needs %s)\n' "" "${missing%;}"
	done
	echo
	echo "make lab-check checks the scenario that is set up; make lab-clean removes the lab."
}

# The lab's state as it can be compared: what the zone serves (but the SOA,
# whose serial every change bumps) and the files of the sandbox root.
lab_state() {
	knotc -c "$lab/dns/knot.conf" zone-read "$zone" 2>/dev/null | grep -v ' SOA ' | sort
	if [ -n "$in_root" ]; then
		# the mail configuration, and which of the lab's daemons run
		find /etc/postfix /etc/opendkim.conf /etc/opendkim /etc/dkimkeys /etc/ssl/private \
			-type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
		local p
		for p in "$lab"/pids/*; do [ -f "$p" ] && sandbox_alive "$(cat "$p")" && echo "running ${p##*/}"; done
		return 0
	fi
	(cd "$lab/root" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# The wrappers of the lab shell: the tools of a real server, pointed at the
# sandbox and the lab's DNS server.
write_bin() {
	local rootopt="--root '$lab/root'" where="the sandbox $lab/root is \"/\""
	[ -z "$in_root" ] || { rootopt=; where="this throwaway root's own / is the server"; }
	mkdir -p "$lab/bin"
	cat >"$lab/bin/dkim-setup" <<EOF
#!/bin/bash
# The lab's dkim-setup: $where, and only the lab's
# DNS server ($zone on 127.0.0.1, port $SANDBOX_PORT) is asked.
case "\${1:-}" in
check | record | -h | --help | -V | --version) ;;
*) printf '%s\\n' "dkim-setup \$*" >>'$lab/actions' ;;
esac
case "\${1:-}" in
check | record | status | rotate | retire)
	cmd=\$1; shift
	exec '$prog' "\$cmd" $rootopt --nameserver 127.0.0.1@$SANDBOX_PORT "\$@" ;;
*) exec '$prog' $rootopt --nameserver 127.0.0.1@$SANDBOX_PORT "\$@" ;;
esac
EOF
	cat >"$lab/bin/kdig" <<EOF
#!/bin/bash
# The lab's kdig: asks the lab's DNS server unless told another (@server).
for a in "\$@"; do case \$a in @*) exec /usr/bin/kdig "\$@" ;; esac; done
exec /usr/bin/kdig @127.0.0.1 -p $SANDBOX_PORT "\$@"
EOF
	cat >"$lab/bin/lab-check" <<EOF
#!/bin/bash
exec bash '$top/tests/demo/lab.sh' check "\$@"
EOF
	ln -sf "$top/tests/demo/lab-publish" "$lab/bin/publish"
	chmod 0755 "$lab/bin/dkim-setup" "$lab/bin/kdig" "$lab/bin/lab-check"
	[ -n "$in_root" ] || return 0
	# No init in the root: this systemctl starts and stops the lab's daemons.
	cat >"$lab/bin/systemctl" <<EOF
#!/bin/bash
# The lab's systemctl (the root has no init): start, stop, restart, reload,
# status of opendkim and postfix.
set -a; . '$lab/env'; set +a
. '$scenarios/lib.sh'
[ \$# = 2 ] || { echo "usage: systemctl start|stop|restart|reload|status opendkim|postfix" >&2; exit 2; }
case \$1 in start | stop | restart | reload) printf '%s\\n' "systemctl \$*" >>'$lab/actions' ;; esac
lab_daemon "\${2%.service}" "\$1"
EOF
	chmod 0755 "$lab/bin/systemctl"
}

write_env() {
	cat >"$lab/env" <<EOF
LAB_SCENARIO=$1
LAB_DIR=$lab
LAB_ROOT=$([ -n "$in_root" ] && echo / || echo "$lab/root")
LAB_ZONE=$zone
LAB_DOMAIN=$zone
LAB_PORT=$SANDBOX_PORT
LAB_PROG=$prog
LAB_SCENARIO_DIR=$scenarios/$1
EOF
}

# Run a scenario's script (setup.sh, check.sh, fix.sh, wrong.sh) with the
# lab's variables, its wrappers first in PATH and assets/lab/lib.sh's helpers.
run_script() {
	local name=$1 script=$2
	(
		set -a
		. "$lab/env"
		set +a
		export PATH="$lab/bin:$PATH"
		. "$scenarios/lib.sh"
		cd "$lab"
		. "$scenarios/$name/$script"
	)
}

current() { sed -n 's/^LAB_SCENARIO=//p' "$lab/env" 2>/dev/null; }

start() {
	local name=$1 missing
	[ -n "$name" ] || die "which scenario? make lab lists them"
	case $name in */* | .*) die "no scenario named $name: make lab lists them" ;; esac
	[ -f "$scenarios/$name/setup.sh" ] || die "no scenario named $name: make lab lists them"
	missing=$(scenario_missing "$name")
	# LAB_IGNORE_NEEDS=1: try a scenario's setup before its needs are met
	[ -z "$missing" ] || [ "${LAB_IGNORE_NEEDS:-}" = 1 ] ||
		{ echo "make lab: $name needs ${missing%;}, which this build or host does not have" >&2; exit 3; }
	[ -x "$prog" ] || die "$prog is not built: run make"
	if [ -z "$in_root" ] && needs "$name" signer; then
		clean_lab
		start_in_root "$name"
		return
	fi
	clean_lab
	if [ -n "$in_root" ]; then
		mkdir -p "$lab/dns/db" "$lab/pids"
	else
		SANDBOX_MTA=exim sandbox_make "$lab" "$zone" ||
			die "cannot remove $lab (left by a run as another user): sudo rm -rf $lab"
	fi
	sandbox_dns_start "$lab" "$zone" detach || exit 3
	write_env "$name"
	write_bin
	: >"$lab/actions"
	if ! run_script "$name" setup.sh >"$lab/setup.log" 2>&1; then
		echo "make lab: setting up $name failed; its log ($lab/setup.log) ends:" >&2
		tail -n 8 "$lab/setup.log" | sed 's/^/  /' >&2
		clean_lab
		exit 3
	fi
	lab_state >"$lab/start.state"
	: >"$lab/actions"
	brief "$name"
	if [ -t 0 ] && [ -t 1 ] && [ -z "${LAB_NO_SHELL:-}" ]; then
		shell
	else
		echo "(Not on a terminal: the lab is set up; no shell opened.)"
	fi
}

needs() { [ -f "$scenarios/$1/needs" ] && sed 's/#.*//' "$scenarios/$1/needs" | grep -qw -- "$2"; }

# A scenario with a real signer: the lab runs inside a throwaway Debian root
# with Postfix and OpenDKIM (built once, cached in build/roots), its shell
# too; when the shell ends, the daemons, the DNS server and the root go.
start_in_root() {
	local name=$1
	echo "make lab: $name runs a real Postfix and OpenDKIM in a throwaway Debian root;"
	echo "  all of it ends when the lab shell ends (lab-check works inside it)."
	(
		. "$top/tests/lib/lib.sh"
		. "$top/tests/lib/mta.sh"
		troot_ensure mta-postfix "$MTA_POSTFIX_PKGS" >&2 || exit 3
		troot_new mta-postfix || exit 3
		LAB_IN_ROOT=1 LAB_DIR=/root/lab DKIM_SETUP=$prog LAB_IGNORE_NEEDS=${LAB_IGNORE_NEEDS:-} \
			troot_run bash "$top/tests/demo/lab.sh" start "$name"
	)
}

brief() {
	local name=$1
	echo
	sed '1{s/^/Scenario '"$name"': /;p;s/./=/g}' "$scenarios/$name/brief.txt"
	cat <<EOF

The lab: $([ -n "$in_root" ] && echo "a mail server in a throwaway root" || echo "a sandbox mail server ($lab/root is its \"/\")") for $zone,
whose DNS is a real server on this machine (127.0.0.1, port $(sed -n 's/^LAB_PORT=//p' "$lab/env")).
In the lab shell these work against it:
  dkim-setup check -d $zone -s SELECTOR     what receivers will find
  dkim-setup ...        the wizard and the other commands, in the sandbox
  kdig NAME TXT         ask the lab's DNS server
  publish ...           the DNS provider's panel (publish --help)
  lab-check             solved yet?   (make lab-check from outside)
EOF
	[ -z "$in_root" ] || echo "  systemctl ...         start, stop, reload opendkim and postfix (no init here)"
}

shell() {
	[ -f "$lab/env" ] || die "no scenario is set up: make lab SCENARIO=name"
	local name
	name=$(current)
	cat >"$lab/shellrc" <<EOF
[ -f "\$HOME/.bashrc" ] && . "\$HOME/.bashrc"
export PATH='$lab/bin':"\$PATH"
export HISTFILE='$lab/history'
PS1='[lab $name] \\w\\\$ '
cd '$lab'
echo
echo "Lab shell for $name: exit (or Ctrl-D) leaves it; the lab stays until make lab-clean."
EOF
	set +e
	bash --rcfile "$lab/shellrc" -i
	set -e
	echo
	echo "Left the lab shell. The DNS server still runs: make lab-check SCENARIO=$name,"
	echo "make lab SCENARIO=$name to start it again, make lab-clean to remove everything."
}

check() {
	local want=${1:-} name rc
	[ -f "$lab/env" ] || die "no scenario is set up: make lab SCENARIO=name"
	name=$(current)
	[ -z "$want" ] || [ "$want" = "$name" ] ||
		die "the lab is set up for $name, not $want (make lab SCENARIO=$want starts that one)"
	SANDBOX_PORT=$(sed -n 's/^LAB_PORT=//p' "$lab/env")
	sandbox_dns_up "$zone" || die "the lab's DNS server does not answer: make lab SCENARIO=$name starts again"
	set +e
	run_script "$name" check.sh >"$lab/check.log" 2>&1
	rc=$?
	set -e
	echo "$(date -u +%FT%TZ) $rc" >>"$lab/checks"
	if [ "$rc" = 0 ]; then
		echo "Solved: $(head -n 1 "$scenarios/$name/brief.txt")"
		echo
		cat "$scenarios/$name/solved.txt"
		return 0
	fi
	if [ ! -s "$lab/actions" ] && lab_state | cmp -s - "$lab/start.state"; then
		echo "Not solved: nothing has changed since the scenario began."
		echo "Start with what receivers see: dkim-setup check -d $zone -s SELECTOR"
	else
		echo "Not solved yet. Hint: $(head -n 1 "$scenarios/$name/hint.txt")"
	fi
	return 1
}

clean_lab() {
	[ -e "$lab" ] || return 0
	local p
	for p in "$lab"/pids/*; do
		[ -f "$p" ] || continue
		( set -a; . "$lab/env"; set +a; . "$scenarios/lib.sh"; lab_daemon "${p##*/}" stop )
	done
	sandbox_dns_stop "$lab"
	rm -rf "$lab" 2>/dev/null || die "cannot remove $lab (left by a run as another user): sudo rm -rf $lab"
}

cmd=${1:-list}
[ $# -gt 0 ] && shift
case $cmd in
list) list ;;
start | shell | check | clean | run)
	# (a scenario with a real signer needs root: its sandbox is a throwaway root)
	[ "$cmd" = start ] && [ -f "$scenarios/${1:-}/needs" ] && needs "${1:-}" signer ||
	sandbox_as_owner "$lab" "$0" "make lab" \
		"LAB_DIR=/root/dkim-lab make lab ...   (or any directory only root can change)" "$cmd" "$@"
	case $cmd in
	start) start "${1:-}" ;;
	shell) shell ;;
	check) check "${1:-}" ;;
	clean) clean_lab; echo "The lab is removed; its DNS server is stopped." ;;
	run)
		[ -f "$lab/env" ] || die "no scenario is set up: make lab SCENARIO=name"
		case ${1:-} in fix.sh | wrong.sh) ;; *) die "run fix.sh or run wrong.sh" ;; esac
		run_script "$(current)" "$1" ;;
	esac ;;
*) die "unknown command $cmd (list, start NAME, shell, check [NAME], clean, run fix.sh|wrong.sh)" ;;
esac
