# restarting the signer does not change what Postfix passes to it
systemctl restart opendkim
