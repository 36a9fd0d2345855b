#!/bin/bash
# signals_wizard: SIGINT, SIGTERM and SIGHUP delivered to the curses wizard
# (tmux, 80x24) at each step (SIGINT asks "Quit?", answered y): the domain
# and selector forms, the key choice,
# right after asking for the key (during generation), the record screen and
# the DNS wait step (watcher thread running). Each time: the program ends
# (bounded), the terminal is back in cooked mode with echo, no sanitizer
# report, no temp file, and no private key without its public half.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/tui.sh"
tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
NS=127.0.0.1@9   # nothing listens: the wait step shows errors, never leaves loopback

# go STEP: start the wizard in a fresh sandbox and walk to STEP.
go() {
	ROOT=$(t_tmpdir)
	TUI_ENV="LC_ALL=C.UTF-8" tui_run --root "$ROOT" --nameserver "$NS"
	tui_wait 'Step 2 of 8' || return 1
	[ "$1" = domain ] && return 0
	tui_type example.test
	tui_wait '^  OK' || return 1
	tui_keys Enter
	tui_wait 'Step 3 of 8' || return 1
	[ "$1" = selector ] && return 0
	tui_keys Enter
	tui_wait 'RSA 2048 bits' || return 1
	[ "$1" = key ] && return 0
	tui_keys Down Down Enter   # RSA-4096: generation takes a while
	[ "$1" = keygen ] && return 0
	tui_wait 'Step 5 of 8' 60 || return 1
	[ "$1" = record ] && return 0
	tui_keys Enter
	tui_wait 'Step 6 of 8' || return 1
}

for step in domain selector key keygen record wait; do
	for sig in INT TERM HUP; do
		if ! go "$step"; then
			not_ok "$sig at the $step step: could not reach the step"
			tmux_ send-keys -t t C-c
			[ -n "${TUI_PID:-}" ] && kill -9 "$TUI_PID" 2>/dev/null
			tui_wait_exit 5
			continue
		fi
		kill -s "$sig" "$TUI_PID"
		if [ "$sig" = INT ]; then
			# Ctrl-C asks first (a stray key must not end a setup half way).
			if tui_wait 'y = quit|y = yes' 10; then
				tui_keys y
			else
				not_ok "INT at the $step step: no quit question"
			fi
		fi
		if tui_wait_exit 15; then
			why=""
			tui_term_sane || why="$why terminal not restored;"
			tui_no_asan || why="$why sanitizer report;"
			tui_no_partial "$ROOT" || why="$why partial files;"
			if [ -z "$why" ]; then
				ok "$sig at the $step step: ended (status $TUI_STATUS), terminal restored, nothing partial"
			else
				not_ok "$sig at the $step step (status $TUI_STATUS):$why"
			fi
		else
			not_ok "$sig at the $step step: still running after 15 s"
		fi
	done
done
