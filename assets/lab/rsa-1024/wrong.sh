# a 2048-bit key under a new selector, its record never published
dkim-setup --batch -d "$LAB_DOMAIN" -s 202602 -b 2048 --mta exim >/dev/null
