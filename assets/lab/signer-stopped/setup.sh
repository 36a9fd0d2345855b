# Postfix + OpenDKIM configured by dkim-setup, the record published, and
# after the "reboot" only Postfix came up (OpenDKIM's milter default action
# is accept: mail leaves unsigned, nobody notices).
lab_postfix_prepare
lab_key 202601 2048 postfix
publish 202601._domainkey "$(lab_value 202601)"
lab_daemon postfix start
