# The record screen for every DNS host of assets/providers.txt and for an
# unknown one (tmux, 80x24): the host named from the zone's NS names (served
# by Knot), the word its panel uses for the Name field, and the value form it
# accepts. Dry runs: nothing is written.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/knot.sh"
. "$TOP/tests/lib/tui.sh"
command -v knotd >/dev/null || skip_all "knotd missing"

knot_start example.test "$(knot_basic_zone example.test)" || { not_ok "knotd starts"; exit 1; }
tui_start 80 24 || { not_ok "tmux starts"; exit 1; }
ROOT=$(t_tmpdir)
export TUI_ENV="LC_ALL=C.UTF-8"

set_ns() {
	knotc_ zone-begin example.test >/dev/null
	knotc_ zone-unset example.test @ NS >/dev/null 2>&1
	knotc_ zone-set example.test @ 300 NS "$1" >/dev/null
	knotc_ zone-commit example.test >/dev/null
}

# NS name | host | Name field | value form (one / chunks)
while IFS='|' read -r ns host field form; do
	set_ns "$ns"
	tui_run --dry-run --root "$ROOT" --nameserver "127.0.0.1@$KNOT_PORT" -d example.test -s p1
	tui_wait 'Step 2 of 8' && tui_keys Enter Enter Enter
	if ! tui_wait 'Step 5 of 8' 30; then
		not_ok "$host: record step"
	else
		scr=$(tmux_ capture-pane -p -J -t t)
		if [ "$host" = unknown ]; then
			check_match "unknown host: the general advice" 'a DNS host dkim-setup does not know' "$(tr -s '\n ' '  ' <<<"$scr")"
			all=$(tmux_ capture-pane -p -J -t t; tui_keys NPage; tmux_ capture-pane -p -J -t t; tui_keys NPage; tmux_ capture-pane -p -J -t t)
			check_match "unknown host: the quoted strings too" 'The same as quoted strings' "$all"
			check_match "unknown host: and the zone-file form" 'Zone-file form' "$all"
		else
			check_match "$host: named from its NS name $ns" "Your DNS is at $host " "$scr"
		fi
		check_match "$host: its Name field ($field) takes p1._domainkey" "$field: +p1\\._domainkey" "$scr"
		if [ "$form" = chunks ]; then
			check "$host: the value as quoted strings" grep -Eq '^ +"v=DKIM1; k=rsa; p=' <<<"$scr"
		else
			check "$host: the value as one string" grep -Eq '^ +v=DKIM1; k=rsa; p=' <<<"$scr"
		fi
	fi
	tui_keys F10
	tui_wait 'Quit\?' 3 && tui_keys y
	tui_wait_exit 10
done <<'LIST'
ada.ns.cloudflare.com.|Cloudflare|Name|one
ns57.domaincontrol.com.|GoDaddy|Host|one
dns1.registrar-servers.com.|Namecheap|Host|one
dns200.anycast.me.|OVH|Sub-domain|one
ns1045.ui-dns.de.|IONOS|Host name|one
hydrogen.ns.hetzner.com.|Hetzner|Name|chunks
ns-171-a.gandi.net.|Gandi|Name|one
docks09.rzone.de.|Strato|Präfix \(prefix\)|one
ns-1536.awsdns-00.co.uk.|Amazon Route 53|Record name|chunks
ns-cloud-a1.googledomains.com.|Google Cloud DNS|DNS name|chunks
ns1-05.azure-dns.com.|Azure DNS|Name|one
ns1.digitalocean.com.|DigitalOcean|Hostname|one
curitiba.ns.porkbun.com.|Porkbun|Host|one
ns11.infomaniak.ch.|Infomaniak|Source|one
ns1.example.test.|unknown|Name \(or Host\)|one
LIST
check "nothing written (dry runs)" test -z "$(find "$ROOT" -name '*.pem')"
check "no sanitizer reports" tui_no_asan
