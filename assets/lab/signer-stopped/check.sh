# Solved when the proof through the running signer verifies.
dkim-setup check -d "$LAB_DOMAIN" -s 202601 --prove
