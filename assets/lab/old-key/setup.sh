# The record of the first key; the server now signs with a second one.
lab_key 202601
publish 202601._domainkey "$(lab_value 202601)"
dkim-setup --batch --force -d "$LAB_DOMAIN" -s 202601 --mta exim >/dev/null
