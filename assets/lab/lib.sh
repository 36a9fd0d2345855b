# assets/lab/lib.sh: helpers for the scenarios' scripts (see README).
# The lab sources this before each setup.sh, check.sh, fix.sh and wrong.sh,
# with LAB_DIR, LAB_ROOT, LAB_ZONE, LAB_DOMAIN, LAB_PORT and LAB_PROG set, the
# current directory the lab's, and the lab shell's wrappers first in PATH:
# `dkim-setup` works in the sandbox against the lab's DNS server, `publish`
# is the DNS panel, `kdig` asks the lab's server.

# lab_key SELECTOR [BITS] [MTA]: the way an admin set the server up: a key
# for LAB_DOMAIN made by dkim-setup, the mail server (default: the sandbox's
# Exim) configured to sign with it. The record is not published.
lab_key() {
	dkim-setup --batch -d "$LAB_DOMAIN" -s "$1" -b "${2:-2048}" --mta "${3:-exim}" >/dev/null
}

# lab_rekey SELECTOR [BITS]: a new key under the same selector (the old one
# is kept as a backup), made without touching the mail server.
lab_rekey() {
	dkim-setup --batch --force -d "$LAB_DOMAIN" -s "$1" -b "${2:-2048}" --mta none >/dev/null
}

# lab_value SELECTOR: the TXT value of SELECTOR's key in the sandbox, joined.
lab_value() {
	dkim-setup record -d "$LAB_DOMAIN" -s "$1" --json |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["record"]["value"])'
}

# lab_check SELECTOR: does `dkim-setup check` say all is well (the record
# served everywhere, matching the key, every signer's copy the same key)?
lab_check() {
	dkim-setup check -d "$LAB_DOMAIN" -s "$1" >/dev/null 2>&1
}

# lab_check_json SELECTOR FIELD: one top-level field of `check --json`
# (null when absent).
lab_check_json() {
	dkim-setup check -d "$LAB_DOMAIN" -s "$1" --json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else v)' "$2"
}

# lab_txt NAME: the TXT strings served at NAME (relative to the zone), one
# record a line, as kdig prints them.
lab_txt() {
	kdig +short "$1.$LAB_ZONE" TXT
}

# lab_signer_selectors: the selectors the sandbox's Exim signs LAB_DOMAIN's
# mail with (its line in /etc/exim4/dkim/domains, which dkim-setup writes),
# one a line.
lab_signer_selectors() {
	sed -n "s/^$LAB_DOMAIN: *//p" "$LAB_ROOT/etc/exim4/dkim/domains" 2>/dev/null | tr ' :,' '\n\n\n' | sed '/^$/d'
}

# lab_split STRING N: STRING in pieces of at most N characters, one a line.
lab_split() {
	local s=$1
	while [ -n "$s" ]; do echo "${s:0:$2}"; s=${s:$2}; done
}
