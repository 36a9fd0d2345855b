publish 202601._domainkey "$(lab_value 202601)"
