# the key published under another name, the revoked record left
publish 202602._domainkey "$(lab_value 202601)"
