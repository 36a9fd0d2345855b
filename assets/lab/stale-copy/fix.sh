dkim-setup --batch -d "$LAB_DOMAIN" -s 202601 --mta exim >/dev/null
publish 202601._domainkey "$(lab_value 202601)"
