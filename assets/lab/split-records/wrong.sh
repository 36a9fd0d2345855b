# keep only the first part: one record, but cut short
v=$(lab_value 202601)
publish 202601._domainkey "${v:0:200}"
