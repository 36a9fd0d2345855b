# make install / uninstall with DESTDIR and PREFIX.
. "$TOP/tests/lib/lib.sh"
D=$(t_tmpdir)
make -s -C "$TOP" install DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
check "binary installed" test -x "$D/usr/sbin/dkim-setup"
check "manual installed" test -f "$D/usr/share/man/man8/dkim-setup.8"
check "assets directory installed" test -d "$D/usr/share/dkim-setup"
check "training texts installed" test -f "$D/usr/share/dkim-setup/training/welcome.txt"
check "bash completion installed" test -f "$D/usr/share/bash-completion/completions/dkim-setup"
check "rotate --auto's timer and service installed" test -f "$D/usr/lib/systemd/system/dkim-setup-rotate.timer" -a -f "$D/usr/lib/systemd/system/dkim-setup-rotate.service"
check "  ... the service runs the installed binary" grep -q "^ExecStart=/usr/sbin/dkim-setup rotate --auto" "$D/usr/lib/systemd/system/dkim-setup-rotate.service"
check_match "  ... the timer is daily with a random delay" "OnCalendar=daily.*RandomizedDelaySec=" "$(tr '\n' ' ' <"$D/usr/lib/systemd/system/dkim-setup-rotate.timer")"
check "  ... not enabled (no link in timers.target.wants)" test ! -e "$D/etc/systemd/system/timers.target.wants/dkim-setup-rotate.timer"
if command -v systemd-analyze >/dev/null; then
	sed 's|^ExecStart=/usr/sbin/|ExecStart=/bin/true |' "$D/usr/lib/systemd/system/dkim-setup-rotate.service" >"$D/check.service"
	check "  ... systemd-analyze verify accepts the units" systemd-analyze verify --man=no "$D/check.service" "$D/usr/lib/systemd/system/dkim-setup-rotate.timer" 
fi
check "the units are not among the data files" test ! -e "$D/usr/share/dkim-setup/systemd"
check "the completion is not among the data files" test ! -e "$D/usr/share/dkim-setup/bash-completion"
check_match "installed binary runs" '^dkim-setup [0-9]' "$("$D/usr/sbin/dkim-setup" --version)"
# The data directory follows PREFIX at install time, even after a plain
# `make` built for /usr/local.
strs=$(strings "$D/usr/sbin/dkim-setup")
check "PREFIX=/usr binary reads /usr/share/dkim-setup" grep -qE '^/usr/share/dkim-setup(/|$)' <<<"$strs"
check_eq "PREFIX=/usr binary does not read /usr/local" "" "$(grep /usr/local/share <<<"$strs")"
make -s -C "$TOP" uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
check "uninstall removes the binary" test ! -e "$D/usr/sbin/dkim-setup"
check "uninstall removes the manual" test ! -e "$D/usr/share/man/man8/dkim-setup.8"
check "uninstall removes the units" test ! -e "$D/usr/lib/systemd/system/dkim-setup-rotate.timer"
check "uninstall removes the completion" test ! -e "$D/usr/share/bash-completion/completions/dkim-setup"
check "uninstall removes the data" test ! -e "$D/usr/share/dkim-setup"
# The build tree's own binary is for /usr/local again after a plain make.
make -s -C "$TOP" all >/dev/null 2>&1
check "make after make install PREFIX=/usr: back to the default" \
	grep -qE '^/usr/local/share/dkim-setup(/|$)' <<<"$(strings "$TOP/build/dkim-setup")"
