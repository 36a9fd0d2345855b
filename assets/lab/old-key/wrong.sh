# the record published again, from the backup of the first key's record
publish 202601._domainkey "$(kdig +short 202601._domainkey.shop.example.test TXT | tr -d '" ')"
