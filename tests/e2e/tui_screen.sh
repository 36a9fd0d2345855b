# The wizard's screen in a real terminal (tmux): validation in place, going
# back, resizing, NO_COLOR, the terminal types, help, a window too small.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/tui.sh"

tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
ROOT=$(t_tmpdir)
ROOT1=$ROOT   # keeps the keys of the first part
SEL=$(date -u +%Y%m)
NS=127.0.0.1@$(t_free_port)   # nobody answers: these tests never reach DNS

# ---- an invalid domain shows its reason in place ---------------------------
tui_run --root "$ROOT1" --nameserver "$NS"
tui_wait 'Step 2 of 8' || not_ok "starts"
tui_type 'shop_x.example'
tui_wait "'_' is not allowed" && ok "the reason is shown as you type" || not_ok "reason in place"
# in place: right below the field
scr=$(tui_screen)
row_field=$(grep -n '^  shop_x\.example' <<<"$scr" | cut -d: -f1)
row_why=$(grep -n "'_' is not allowed" <<<"$scr" | cut -d: -f1)
check "the reason sits under the field (rows $row_field, $row_why)" \
	test -n "$row_field" -a -n "$row_why" -a "$((row_why - row_field))" -le 2
tui_keys Enter
sleep 0.3
check_match "Enter does not go on with an invalid domain" 'Step 2 of 8' "$(tui_screen)"
tui_keys C-u
tui_type 'example.com.'
tui_wait '^  OK' && ok "a trailing dot is fine" || not_ok "trailing dot"
tui_keys C-u
tui_type 'a..b'
tui_wait 'empty label|empty' && ok "empty label refused" || not_ok "empty label"
tui_keys C-u
tui_wait 'Type the domain' && ok "an empty field says what to type" || not_ok "empty field"
tui_type 'Example.TEST'
tui_wait '^  OK' || not_ok "mixed case accepted"
tui_keys Enter
tui_wait 'Step 3 of 8' && check_match "domain normalised to lower case" '_domainkey\.example\.test\.' "$(tui_screen)"

# ---- going back and changing the selector -------------------------------
tui_keys Enter
tui_wait 'Step 4 of 8' || not_ok "key step"
tui_keys Escape
tui_wait 'Step 3 of 8' && ok "Esc goes back to the selector" || not_ok "Esc back"
check "the selector kept its value" grep -q "^  $SEL *\$" <<<"$(tui_screen)"
tui_keys C-u
tui_type 'bad sel'
tui_wait 'white space|not allowed' && ok "an invalid selector shows its reason" || not_ok "bad selector"
tui_keys C-u
tui_type 'mail2'
tui_wait '^  OK' || not_ok "selector ok"
tui_keys Enter
tui_wait 'selector mail2\?' && ok "the key step names the new selector" || not_ok "new selector"
tui_keys F9
tui_wait 'Step 3 of 8' && ok "F9 goes back too" || not_ok "F9 back"
tui_keys Tab
tui_wait 'Step 4 of 8' && ok "Tab goes forward" || not_ok "Tab forward"
tui_keys b
tui_wait 'Step 3 of 8' && ok "b goes back (letter for F9)" || not_ok "b back"
tui_keys Enter
tui_wait 'Step 4 of 8' || not_ok "key step again"

# ---- help ------------------------------------------------------------------------
tui_keys F1
tui_wait 'Ed25519 is small' && ok "F1 shows the step's help" || not_ok "F1 help"
tui_keys x
sleep 0.3
tui_keys '?'
tui_wait 'Ed25519 is small' && ok "? shows it too" || not_ok "? help"
tui_keys x

# ---- the key menu: 4096 warns, Ed25519 toggles --------------------------------
tui_keys Down Down
tui_wait 'Some DNS panels refuse it' && ok "RSA-4096 warns about long records" || not_ok "4096 warning"
tui_keys Down
tui_wait 'Warning: weak' && ok "RSA-1024 warns it is weak" || not_ok "1024 warning"
tui_keys Up Up
tui_keys e
tui_wait '\[x\] Also an Ed25519' && ok "e adds an Ed25519 selector" || not_ok "ed toggle"

# ---- resize ---------------------------------------------------------------------
tmux_ resize-window -t t -x 120 -y 40
tui_wait '^ dkim-setup: The key type {40,}Step 4 of 8' && ok "redrawn at 120x40" ||
	not_ok "120x40"
tmux_ resize-window -t t -x 60 -y 20
tui_wait 'make the window larger' && ok "60x20 says to make the window larger" || not_ok "60x20"
check_match "and says the size needed" '80x24' "$(tui_screen)"
tmux_ resize-window -t t -x 80 -y 24
tui_wait '^ dkim-setup: The key type +Step 4 of 8' && ok "back at 80x24" || not_ok "80x24 again"
check_match "the choices survived the resize" '\[x\] Also an Ed25519' "$(tui_screen)"
# make the keys (RSA-4096 + Ed25519): progress shown, keys still answered
tui_keys Down
tui_wait '> RSA 4096' || not_ok "4096 chosen"
tui_keys Enter
if tui_wait 'Generating' 3; then
	tui_keys F1
	if tui_wait 'Ed25519 is small' 3 && tui_screen | grep -q 'Generating'; then
		ok "keys answered while the key is made (progress shown)"
	else
		grep -q 'Step 5 of 8' <<<"$(tui_screen)" && diag "the key was ready before F1 arrived" ||
			not_ok "answers during key generation"
	fi
	tui_keys x
else
	diag "the key was made too fast to see the progress"
fi
tui_wait 'Step 5 of 8' 60 && ok "4096-bit key made" || not_ok "4096 made"
tui_keys Space Space Space
check_match "the second (Ed25519) record is shown" 'k=ed25519' "$(tui_screen)"
for page in 1 2 3 4; do
	stray=$(tui_screen | sed -n '4,20p' | grep -v '^  ' | grep -v '^ *$')
	check_eq "record page $page: nothing drawn outside the margins" "" "$stray"
	tui_keys PPage
done
check_match "the key is RSA-4096" '4096 bit' "$(openssl pkey -in "$ROOT/etc/ssl/private/example.test-mail2-private.pem" -noout -text 2>/dev/null | head -1)"
check "both keys on disk" test -s "$ROOT/etc/ssl/private/example.test-mail2-private.pem" -a \
	-s "$ROOT/etc/ssl/private/example.test-mail2-ed-private.pem"
check "no key for the selector given up" test ! -e "$ROOT/etc/ssl/private/example.test-$SEL-private.pem"
tmux_ resize-window -t t -x 60 -y 20
tui_wait 'make the window larger' || not_ok "small again"
tui_keys q
tui_wait 'Quit dkim-setup\?' && ok "q in a small window still asks" || not_ok "quit in small window"
tui_keys y
tui_wait_exit 10 && ok "quits" || not_ok "quits"
tmux_ resize-window -t t -x 80 -y 24
check "terminal usable" tui_term_sane

# ---- NO_COLOR and the terminal types ----------------------------------------
ROOT=$(t_tmpdir)   # a fresh root: no earlier keys to offer
colors() { tmux_ capture-pane -p -e -t t | grep -cE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7])(;[0-9;]*)?m'; }
tui_run --root "$ROOT" --nameserver "$NS" -d example.test
tui_wait 'Step 2 of 8' || not_ok "start"
check "colour by default" test "$(colors)" -gt 0
tui_keys F10
tui_wait_exit 10
TUI_ENV="NO_COLOR=1" tui_run --root "$ROOT" --nameserver "$NS" -d example.test
tui_wait 'Step 2 of 8' || not_ok "start NO_COLOR"
check_eq "no colour with NO_COLOR" 0 "$(colors)"
check "NO_COLOR: the header is in reverse video" grep -q $'\e\\[7m dkim-setup' <<<"$(tmux_ capture-pane -p -e -t t)"
tui_keys F10
tui_wait_exit 10

for term in xterm-256color screen tmux linux vt100; do
	for loc in C C.UTF-8; do
		TUI_ENV="TERM=$term LC_ALL=$loc" tui_run --root "$ROOT" --nameserver "$NS" -d example.test -s "t$RANDOM"
		if tui_wait 'Step 2 of 8' && tui_wait '1 Start > \[2 Domain\]   3 Selector' 2; then
			tui_keys Enter Enter
			if tui_wait 'RSA 2048 bits' 5; then ok "TERM=$term LC_ALL=$loc: header and menu drawn"
			else not_ok "TERM=$term LC_ALL=$loc: menu"; fi
		else
			not_ok "TERM=$term LC_ALL=$loc: header"
		fi
		tui_keys q   # the letter: vt100 has no F10 in terminfo
		tui_wait_exit 10
		check "TERM=$term LC_ALL=$loc: terminal usable after" tui_term_sane
	done
done
# ---- --training: the welcome, then each step's explanation; ^T / t again ----
TUI_ENV="LC_ALL=C.UTF-8" tui_run --training --root "$ROOT" --nameserver "$NS" -d example.test -s train1
tui_wait "$(head -n 1 "$TOP/assets/training/welcome.txt")" && ok "--training opens with the welcome" ||
	not_ok "welcome shown"
tui_keys x
tui_wait "$(head -n 1 "$TOP/assets/training/domain.txt" | sed 's/[()]/./g')" &&
	ok "then the domain step's explanation" || not_ok "domain explanation"
tui_keys x
tui_wait '\^T explain' && ok "the footer offers ^T on a text step" || not_ok "^T offered"
tui_keys C-t
tui_wait "$(head -n 1 "$TOP/assets/training/domain.txt" | sed 's/[()]/./g')" &&
	ok "^T shows it again" || not_ok "^T again"
tui_keys x Enter
tui_wait "$(head -n 1 "$TOP/assets/training/selector.txt" | sed 's/[()]/./g')" &&
	ok "the selector step explains itself" || not_ok "selector explanation"
tui_keys x Enter
tui_wait "$(head -n 1 "$TOP/assets/training/key.txt" | sed 's/[()]/./g')" && tui_keys x
tui_wait 't explain' && ok "t on a menu step" || not_ok "t offered"
tui_keys q
tui_wait_exit 10 && ok "quits" || not_ok "quits"
# ---- the pair's Ed25519 key is not offered as a setup of its own ------------
tui_run --root "$ROOT1" --nameserver "$NS"
tui_wait 'Step 1 of 8' && ok "a later run offers the keys left" || not_ok "resume offered"
check "the mail2 pair is offered once" test "$(tui_screen | grep -c 'selector mail2')" = 1
tui_keys Down Enter Enter Enter
tui_wait '\[x\] Also an Ed25519' && ok "continuing a pair keeps the Ed25519 key" || not_ok "pair kept"
tui_keys q
tui_wait_exit 10

# ---- the domain defaults to /etc/mailname ----------------------------------
MROOT=$(t_tmpdir)
mkdir -p "$MROOT/etc" && echo "Shop.Example." >"$MROOT/etc/mailname"
tui_run --root "$MROOT" --nameserver "$NS"
tui_wait 'Step 2 of 8' || not_ok "start with mailname"
check "the domain is prefilled from /etc/mailname, normalised" grep -q '^  shop\.example *$' <<<"$(tui_screen)"
check_match "and says where it came from" 'from /etc/mailname' "$(tui_screen | tr -s '\n ' '  ')"
tui_keys F10
tui_wait_exit 10

# ---- without a terminal: says to use --batch -----------------------------
out=$("$DKIM_SETUP" --root "$ROOT" -d example.test </dev/null 2>&1 >/dev/null); rc=$?
check_eq "no terminal: usage status" 2 "$rc"
check_match "no terminal: says to use --batch" '--batch' "$out"

check "no partial files" tui_no_partial "$ROOT"
check "no sanitizer reports" tui_no_asan
if ! tui_no_asan; then cat "$TUI_DIR"/asan.* "$TUI_DIR"/ubsan.* 2>/dev/null | head -40 | sed 's/^/# /'; fi
