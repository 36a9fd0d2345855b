lab_check 202601 && [ "$(lab_txt 202601._domainkey | wc -l)" = 1 ]
