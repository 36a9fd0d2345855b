# The zone-file form, quote marks and all, pasted into a field that keeps them.
lab_key 202601
v=$(lab_value 202601)
publish 202601._domainkey "\"${v:0:250}\" \"${v:250}\""
