# make lab: every scenario of assets/lab is set up broken against a real Knot
# on loopback, `dkim-setup check` names its cause, lab-check says "not
# solved" (with no hint before anything was tried, the scenario's one-line
# hint after its wrong attempt, never the answer) and "solved" after its
# scripted fix; lab-clean stops the server by pid and leaves no process and
# no file outside the lab directory. The lab shell is walked once in tmux.
. "$TOP/tests/lib/lib.sh"
command -v knotd >/dev/null || skip_all "knotd missing"
command -v kdig >/dev/null || skip_all "kdig missing"

W=$(t_tmpdir)
[ "${LAB_E2E_INNER:-}" = 1 ] || export LAB_DIR=$W/lab HOME=$W/home TMPDIR=$W/tmp
mkdir -p "$HOME" "$TMPDIR"
LAB=$TOP/tests/demo/lab.sh
SC=$TOP/assets/lab
lab() { bash "$LAB" "$@"; }
# The checkout as git sees it (ignored files too), to find files left there.
tree_state() { git -C "$TOP" status --porcelain --ignored --untracked-files=all 2>/dev/null | grep -v '^!! build/' | sort; }
tree_before=$(tree_state)
at_exit "bash '$LAB' clean >/dev/null 2>&1"

# ---- the list -------------------------------------------------------------
list=$(lab list)
names=$(cd "$SC" && for d in */; do [ -f "$d/setup.sh" ] && echo "${d%/}"; done)
for n in $names; do
	check_match "make lab lists $n with its title" "$n +$(head -n 1 "$SC/$n/brief.txt" | sed 's/[][().*+?^$|\\]/\\&/g')" "$list"
done
out=$(lab check 2>&1); rc=$?
check_eq "lab-check with no scenario set up: exit 2" 2 "$rc"
check_match "  ... and says what to do" 'no scenario is set up: make lab SCENARIO=name' "$out"
out=$(lab start no-such 2>&1); rc=$?
check_eq "an unknown scenario: exit 2" 2 "$rc"
out=$(lab start ../lab 2>&1); rc=$?
check_eq "a path for a name: refused (exit 2)" 2 "$rc"

# ---- every scenario -------------------------------------------------------
# scenario_cycle NAME: set up, cause named, no hint yet, the wrong attempt
# hinted, the fix solved.
scenario_cycle() {
	local n=$1 t0=$SECONDS out rc port pid diagnosis
	out=$(lab start "$n" </dev/null 2>&1); rc=$?
	check_eq "$n: set up (not on a terminal: no shell; exit 0)" 0 "$rc"
	check_contains "$n: the brief is printed" "$(sed -n 2p "$SC/$n/brief.txt")" "$out"
	check_contains "$n: ... and says no shell was opened" "no shell opened" "$out"
	port=$(sed -n 's/^LAB_PORT=//p' "$LAB_DIR/env")
	pid=$(cat "$LAB_DIR/dns/server.pid" 2>/dev/null)
	check "$n: the lab's DNS server runs (pid $pid) after make lab returned" kill -0 "${pid:-0}"
	check_eq "$n: it serves shop.example.test on loopback" "ns1.shop.example.test." \
		"$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" shop.example.test NS)"
	# what the trainee runs in the lab shell
	check_match "$n: publish --list shows the zone's TXT records" "^[^ ]*\._domainkey\.[^ ]* 300 TXT \"" \
		"$("$LAB_DIR/bin/publish" --list)"
	diagnosis=$("$LAB_DIR/bin/dkim-setup" check -d shop.example.test -s 202601 \
		$(grep -qw prove "$SC/$n/needs" 2>/dev/null && echo --prove) 2>&1)
	check_match "$n: dkim-setup check names the cause" "$(cat "$SC/$n/cause")" "$diagnosis"
	out=$(lab check "$n" 2>&1); rc=$?
	check_eq "$n: lab-check before any attempt: not solved (exit 1)" 1 "$rc"
	check_contains "$n: ... nothing changed yet, no hint" "nothing has changed since the scenario began" "$out"
	lab run wrong.sh >/dev/null 2>&1
	out=$(lab check 2>&1); rc=$?
	check_eq "$n: lab-check after the wrong attempt: not solved (exit 1)" 1 "$rc"
	check_eq "$n: ... one line: the hint" "Not solved yet. Hint: $(head -n 1 "$SC/$n/hint.txt")" "$out"
	lab run fix.sh >/dev/null 2>&1
	out=$(lab check 2>&1); rc=$?
	check_eq "$n: lab-check after the fix: solved (exit 0)" 0 "$rc"
	check_contains "$n: ... and explains" "$(head -n 1 "$SC/$n/solved.txt")" "$out"
	diag "$n: $((SECONDS - t0)) s"
}

# Inside the throwaway root (the scenarios with a real signer): those only.
if [ "${LAB_E2E_INNER:-}" = 1 ]; then
	for n in $LAB_E2E_NAMES; do scenario_cycle "$n"; done
	out=$(lab clean 2>&1)
	check_eq "in the root: lab-clean stops the signer's daemons too" "" \
		"$(ls "$LAB_DIR/pids" 2>/dev/null)$(pgrep -x opendkim)$(pgrep -f '[/]usr/lib/postfix/sbin/master')"
	exit 0
fi

runnable=0 in_root=
for n in $names; do
	missing=$(lab list | grep -A1 "^  $n " | sed -n 's/.*(not here: needs \(.*\))/\1/p')
	if [ -n "$missing" ]; then
		ok "# SKIP $n: needs $missing"
		continue
	fi
	if grep -qw signer "$SC/$n/needs" 2>/dev/null; then
		in_root="$in_root $n"
		continue
	fi
	runnable=$((runnable + 1))
	scenario_cycle "$n"
done
check "at least the seven DNS and key scenarios ran ($runnable)" test "$runnable" -ge 7
if [ -n "$in_root" ] && [ ! -f "$TOP/build/roots/mta-postfix.tar" ]; then
	# this test runs without network: it uses the root the MTA tests build
	ok "# SKIP$in_root: no mta-postfix root yet (tests/run.sh mta_postfix builds it)"
elif [ -n "$in_root" ]; then
	# a real Postfix and OpenDKIM: this file again, inside a throwaway root
	( . "$TOP/tests/lib/mta.sh"
	  troot_ensure mta-postfix "$MTA_POSTFIX_PKGS" && troot_new mta-postfix &&
		LAB_E2E_INNER=1 LAB_E2E_NAMES="$in_root" LAB_IN_ROOT=1 LAB_DIR=/root/lab \
		troot_run bash "$(realpath "$0")" ) || not_ok "the signer scenarios in a throwaway root"
fi

# ---- the lab shell, in a real terminal -----------------------------------
if command -v tmux >/dev/null; then
	. "$TOP/tests/lib/tui.sh"
	tui_start 100 30 || not_ok "tmux starts"
	tmux_ send-keys -t t "clear; HOME='$HOME' LAB_DIR='$LAB_DIR' DKIM_SETUP='$DKIM_SETUP' TMPDIR='$TMPDIR' ASAN_OPTIONS=log_path=$TUI_DIR/asan UBSAN_OPTIONS=log_path=$TUI_DIR/ubsan bash '$LAB' start revoked; echo \$? >'$TUI_DIR/status'" Enter
	tui_wait '\[lab revoked\]' 30 && ok "on a terminal, make lab leaves the trainee at the lab shell's prompt" ||
		not_ok "lab shell prompt"
	tui_type "dkim-setup check -d shop.example.test -s 202601"; tui_keys Enter
	tui_wait "p= is empty: this selector's key is revoked" 15 && ok "  ... where dkim-setup check asks the lab's DNS server" || not_ok "check in the lab shell"
	tui_type "kdig +short 202601._domainkey.shop.example.test TXT"; tui_keys Enter
	tui_wait '"v=DKIM1; k=rsa; p="' 10 && ok "  ... kdig asks the lab's server too" || not_ok "kdig in the lab shell"
	tui_type "publish 202601._domainkey \"\$(dkim-setup record -d shop.example.test -s 202601 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"record\"][\"value\"])')\""
	tui_keys Enter
	tui_wait 'Set the TXT record at 202601._domainkey.shop.example.test.' 10 &&
		ok "  ... publish is the panel" || not_ok "publish in the lab shell"
	tui_type "lab-check"; tui_keys Enter
	tui_wait 'Solved: A revoked record' 15 && ok "  ... lab-check says solved" || not_ok "lab-check in the lab shell"
	tui_type "exit"; tui_keys Enter
	tui_wait 'Left the lab shell' 10 && ok "  ... exit leaves it and says the lab stays" || not_ok "leaving the lab shell"
	tui_wait_exit 10
	check_eq "  ... make lab's status" 0 "$TUI_STATUS"
	check "  ... the shell's history stayed in the lab" test -f "$LAB_DIR/history"
	check "  ... no sanitizer report" bash -c "! ls '$TUI_DIR'/asan.* '$TUI_DIR'/ubsan.* 2>/dev/null | grep -q ."
	out=$(make -s -C "$TOP" lab-check SCENARIO=revoked 2>&1); rc=$?
	check_eq "the lab stays after the shell: make lab-check SCENARIO=revoked says solved" "0 Solved: A revoked record" \
		"$rc $(head -n 1 <<<"$out")"
	out=$(make -s -C "$TOP" lab-check SCENARIO=quotes-pasted 2>&1); rc=$?
	check_match "  ... and refuses another scenario's name" "set up for revoked, not quotes-pasted" "$out"
fi

# ---- the clean-up ---------------------------------------------------------
pid=$(cat "$LAB_DIR/dns/server.pid" 2>/dev/null)
out=$(make -s -C "$TOP" lab-clean 2>&1); rc=$?
check_eq "make lab-clean: exit 0" 0 "$rc"
# (stopped: gone, or a zombie that its new parent, the lab having exited, has not reaped yet)
check "lab-clean: the DNS server (pid $pid) is stopped" \
	bash -c "! [ -e /proc/${pid:-0} ] || grep -q '^[0-9]* (.*) Z' /proc/${pid:-0}/stat"
# (the [/] keeps pgrep from finding the bash -c running it)
check "lab-clean: no process of the lab left" bash -c "! pgrep -f '[/]${LAB_DIR#/}'"
check "lab-clean: the lab directory is gone" test ! -e "$LAB_DIR"
check_eq "no file left in HOME" "" "$(find "$HOME" -mindepth 1 2>/dev/null)"
check_eq "no file left in TMPDIR" "" "$(find "$TMPDIR" -mindepth 1 2>/dev/null)"
check_eq "no file left in the checkout" "$tree_before" "$(tree_state)"
check "the host's /etc/ssl holds no key of the lab" \
	bash -c "! ls /etc/ssl/private/shop.example.test-* /etc/exim4/dkim/shop.example.test-* 2>/dev/null | grep -q ."
