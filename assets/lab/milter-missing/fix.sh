dkim-setup --batch -d "$LAB_DOMAIN" -s 202601 --mta postfix >/dev/null
systemctl reload postfix
