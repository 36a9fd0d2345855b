# The manual lints clean and names every long option the program accepts.
. "$TOP/tests/lib/lib.sh"
command -v mandoc >/dev/null || skip_all "mandoc missing"
out=$(mandoc -Tlint -W warning "$TOP/man/dkim-setup.8" 2>&1); rc=$?
check_eq "mandoc -Tlint is clean" "0:" "$rc:$out"
for opt in $(grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' <("$DKIM_SETUP" --help) | grep -oE -- '--[a-z-]+'); do
	check "manual documents $opt" grep -q -- "${opt//-/\\\\-}" "$TOP/man/dkim-setup.8"
done
