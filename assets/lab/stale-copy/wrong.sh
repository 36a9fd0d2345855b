# the record of the copy's (old) key published: now DNS disagrees with the master
old=$(ls "$LAB_ROOT"/var/backups/dkim-setup/etc/ssl/certs/shop.example.test-202601-public.pem.* 2>/dev/null | head -n 1)
p=$(grep -v -- ----- "$old" | tr -d '\n')
publish 202601._domainkey "v=DKIM1; k=rsa; p=$p"
