# tests/lib/tui.sh: driving the curses wizard in a real terminal (tmux).
# Needs lib.sh. A private tmux server (-L) per test file, killed at exit.
#   tui_start [W H]          server + one pane running an interactive bash
#   tui_run ARGS...          start $DKIM_SETUP ARGS in the pane (pid in $TUI_DIR/pid)
#   tui_keys KEY...          send keys (counted in TUI_KEYS)
#   tui_type TEXT            send literal text (counted as one keystroke group)
#   tui_wait REGEX [SECS]    wait until the screen matches (bounded); 1 on timeout
#   tui_screen               the screen as text
#   tui_wait_exit [SECS]     wait for the program to end; sets TUI_STATUS
#   tui_term_sane            the terminal is back in cooked mode with echo
command -v tmux >/dev/null || skip_all "tmux missing"

TUI_SOCK=dkwiz$$
TUI_KEYS=0
tmux_() { tmux -L "$TUI_SOCK" -f /dev/null "$@"; }

tui_start() {
	local w=${1:-80} h=${2:-24}
	TUI_DIR=$(t_tmpdir)
	tmux_ new-session -d -s t -x "$w" -y "$h" "env -i PATH=$PATH HOME=$TUI_DIR TERM=screen bash --norc --noprofile" ||
		return 1
	at_exit "tmux -L '$TUI_SOCK' kill-server 2>/dev/null"
	tmux_ set -g window-size manual
	tmux_ set -s set-clipboard on
	tmux_ set -s escape-time 0
	tmux_ send-keys -t t "PS1='tui\$ '; cd '$TUI_DIR'" Enter
	tui_wait 'tui\$' 5
}

# ASan reports go to a log file: the pane is a terminal.
tui_run() {
	rm -f "$TUI_DIR/pid" "$TUI_DIR/status"
	{
		echo '#!/bin/bash'
		echo "echo \$\$ >'$TUI_DIR/pid'"
		echo "export ASAN_OPTIONS=log_path=$TUI_DIR/asan:detect_leaks=1:exitcode=99"
		echo "export UBSAN_OPTIONS=log_path=$TUI_DIR/ubsan:print_stacktrace=1"
		printf 'exec env %s %q' "${TUI_ENV:-}" "$DKIM_SETUP"
		printf ' %q' "$@"
		echo
	} >"$TUI_DIR/run.sh"
	tmux_ send-keys -t t "clear; bash $TUI_DIR/run.sh; echo \$? >$TUI_DIR/status" Enter
	local i
	for i in $(seq 1 100); do [ -s "$TUI_DIR/pid" ] && break; sleep 0.05; done
	TUI_PID=$(cat "$TUI_DIR/pid" 2>/dev/null)
}

tui_keys() {
	local k
	for k in "$@"; do
		tmux_ send-keys -t t "$k"
		TUI_KEYS=$((TUI_KEYS + 1))
		sleep 0.15
	done
}

tui_type() {
	tmux_ send-keys -t t -l "$1"
	TUI_KEYS=$((TUI_KEYS + 1))
	sleep 0.2
}

tui_screen() { tmux_ capture-pane -p -t t; }

tui_wait() {
	local re=$1 secs=${2:-10} i
	for i in $(seq 1 $((secs * 10))); do
		if tui_screen | grep -Eq -- "$re"; then return 0; fi
		sleep 0.1
	done
	diag "timeout waiting for /$re/; screen:"
	tui_screen | sed 's/^/#   /'
	return 1
}

tui_wait_exit() {
	local secs=${1:-15} i
	for i in $(seq 1 $((secs * 10))); do
		if [ -s "$TUI_DIR/status" ]; then
			TUI_STATUS=$(cat "$TUI_DIR/status")
			return 0
		fi
		sleep 0.1
	done
	TUI_STATUS=timeout
	[ -n "${TUI_PID:-}" ] && kill -9 "$TUI_PID" 2>/dev/null
	return 1
}

tui_term_sane() {
	rm -f "$TUI_DIR/stty"
	tmux_ send-keys -t t "stty -a >$TUI_DIR/stty.tmp 2>&1; mv $TUI_DIR/stty.tmp $TUI_DIR/stty" Enter
	local i
	for i in $(seq 1 50); do [ -s "$TUI_DIR/stty" ] && break; sleep 0.1; done
	grep -Eq '(^| )icanon( |$)' "$TUI_DIR/stty" && grep -Eq '(^| )echo( |$)' "$TUI_DIR/stty" &&
		tui_screen | grep -q 'tui\$'
}

# No sanitizer report was written.
tui_no_asan() {
	! ls "$TUI_DIR"/asan.* "$TUI_DIR"/ubsan.* >/dev/null 2>&1
}

# No temporary or half-made key under ROOT: no .dkim-setup.*.tmp, and every
# private key has its public half.
tui_no_partial() {
	local root=$1 f pub
	if find "$root" -name '*.tmp' | grep -q .; then
		diag "temporary files left: $(find "$root" -name '*.tmp')"
		return 1
	fi
	for f in "$root"/etc/ssl/private/*-private.pem; do
		[ -e "$f" ] || continue
		pub=$root/etc/ssl/certs/$(basename "$f" -private.pem)-public.pem
		[ -s "$pub" ] || { diag "no public half for $f"; return 1; }
		openssl pkey -in "$f" -noout 2>/dev/null || { diag "$f is not a whole key"; return 1; }
	done
	return 0
}
