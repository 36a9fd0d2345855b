# The value in two TXT records instead of one record of two strings.
lab_key 202601
v=$(lab_value 202601)
publish 202601._domainkey "${v:0:200}"
publish --add 202601._domainkey "${v:200}"
