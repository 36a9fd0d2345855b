# Solved: every selector the mail server signs with has a key of 2048 bits
# or more, published right.
sels=$(lab_signer_selectors)
[ -n "$sels" ] || exit 1
for s in $sels; do
	lab_check "$s" || exit 1
	[ "$(lab_check_json "$s" key_diagnosis)" = null ] || exit 1
done
