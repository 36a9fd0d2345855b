# tests/lib/prove.sh: shared by tests/e2e/prove_*.sh (inside an MTA root,
# after mta_mail_env; needs knot.sh and mta.sh).
#  prove_publish JSON SEL   publish the record of a --batch --json run
#  prove_check OUT SEL ...  check --prove --json into OUT; prints the exit status
#  prove_outcome OUT        "status cause" of the proof
#  prove_dkimpy OUT         dkimpy's verdict on the message the proof got back

prove_publish() {
	mapfile -t strs < <(mta_json_strings <"$1")
	knot_set_txt "$2._domainkey" "${strs[@]}"
}
prove_check() {
	local out=$1 sel=$2; shift 2
	"$DKIM_SETUP" check --prove --json --nameserver "$NS" -d "$DOM" -s "$sel" "$@" >"$out" 2>"$out.err"
	echo $?
}
prove_outcome() { echo "$(mta_json_get proof.status <"$1") $(mta_json_get proof.cause <"$1")"; }
prove_dkimpy() {
	mta_json_get proof.message <"$1" >"$1.eml"
	mta_verify "$1.eml"
}
