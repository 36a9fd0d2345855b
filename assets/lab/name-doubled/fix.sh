publish --delete 202601._domainkey.shop.example.test
publish 202601._domainkey "$(lab_value 202601)"
