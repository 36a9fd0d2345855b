dkim-setup --batch -d "$LAB_DOMAIN" -s 202602 -b 2048 --mta exim >/dev/null
publish 202602._domainkey "$(lab_value 202602)"
