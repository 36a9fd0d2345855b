# Solved when the proof through the running signer verifies (it checks that
# Postfix sends both smtpd and non_smtpd mail to the signer).
dkim-setup check -d "$LAB_DOMAIN" -s 202601 --prove
