# An RSA-1024 key, published right.
lab_key 202601 1024
publish 202601._domainkey "$(lab_value 202601)"
