systemctl start opendkim
