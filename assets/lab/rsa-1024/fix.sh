# A new 2048-bit key under a new selector; the mail server keeps signing
# with the old one until DNS serves the new record (dkim-setup never points
# the signer at a record nobody can fetch): publish it, then switch.
dkim-setup --batch -d "$LAB_DOMAIN" -s 202602 -b 2048 --mta exim >/dev/null
publish 202602._domainkey "$(lab_value 202602)"
dkim-setup --batch -d "$LAB_DOMAIN" -s 202602 --mta exim --wait 30 >/dev/null
