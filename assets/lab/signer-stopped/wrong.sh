# restarting Postfix does not start its filter
systemctl restart postfix
