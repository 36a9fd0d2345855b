# the whole name again, with a trailing dot: the panel still adds the zone
publish 202601._domainkey.shop.example.test. "$(lab_value 202601)"
