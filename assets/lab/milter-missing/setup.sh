# Postfix + OpenDKIM configured by dkim-setup; then the milter dropped from
# non_smtpd_milters (mail from sendmail and pickup is not passed to it).
lab_postfix_prepare
lab_key 202601 2048 postfix
publish 202601._domainkey "$(lab_value 202601)"
postconf -e "non_smtpd_milters ="
lab_daemon opendkim start
lab_daemon postfix start
