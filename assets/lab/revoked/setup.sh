# The current selector "retired" by mistake: p= emptied.
lab_key 202601
publish 202601._domainkey "v=DKIM1; k=rsa; p="
