# make install / uninstall with DESTDIR and PREFIX.
. "$TOP/tests/lib/lib.sh"
D=$(t_tmpdir)
make -s -C "$TOP" install DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
check "binary installed" test -x "$D/usr/sbin/dkim-setup"
check "manual installed" test -f "$D/usr/share/man/man8/dkim-setup.8"
check "assets directory installed" test -d "$D/usr/share/dkim-setup"
check_match "installed binary runs" '^dkim-setup [0-9]' "$("$D/usr/sbin/dkim-setup" --version)"
make -s -C "$TOP" uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
check "uninstall removes the binary" test ! -e "$D/usr/sbin/dkim-setup"
check "uninstall removes the manual" test ! -e "$D/usr/share/man/man8/dkim-setup.8"
