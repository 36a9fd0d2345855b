# A new master key and its record; the mail server's copy still the old key.
lab_key 202601
lab_rekey 202601
publish 202601._domainkey "$(lab_value 202601)"
