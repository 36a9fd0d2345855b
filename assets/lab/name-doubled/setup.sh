# The whole name pasted into a panel that adds the zone itself.
lab_key 202601
publish 202601._domainkey.shop.example.test "$(lab_value 202601)"
