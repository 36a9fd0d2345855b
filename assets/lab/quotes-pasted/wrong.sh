# the outer quotes removed, the inner pair left
v=$(lab_value 202601)
publish 202601._domainkey "${v:0:250}\" \"${v:250}"
