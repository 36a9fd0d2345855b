# tests/lib/knot.sh: a real authoritative server (Knot) on loopback for tests.
# Needs lib.sh. Usage:
#   knot_start ZONE ZONEFILE_CONTENT   -> sets KNOT_PORT, KNOT_DIR, KNOT_PID, KNOT_TSIG
#   knot_set_txt NAME "string1" "string2" ...   replace TXT at NAME (relative or FQDN.)
#   knot_del NAME [TYPE]
# The server listens on 127.0.0.1 and ::1 only, on a free private port, and is
# stopped by pid at exit. It accepts RFC 2136 updates signed with KNOT_TSIG
# (hmac-sha256, "algorithm:name:secret" form in $KNOT_DIR/tsig.key).
# KNOT_GLOBAL_MODULE=mod-stats (optional) counts queries (`knotc_ stats`).

knot_start() {
	local zone=$1 content=$2
	KNOT_DIR=$(t_tmpdir)
	KNOT_PORT=$(t_free_port)
	KNOT_ZONE=$zone
	local secret
	secret=$(head -c 32 /dev/urandom | base64)
	KNOT_TSIG="hmac-sha256:dkim-test:$secret"
	echo "$KNOT_TSIG" >"$KNOT_DIR/tsig.key"
	printf '%s\n' "$content" >"$KNOT_DIR/$zone.zone"
	mkdir -p "$KNOT_DIR/db"
	cat >"$KNOT_DIR/knot.conf" <<CONF
server:
    listen: [ 127.0.0.1@$KNOT_PORT, ::1@$KNOT_PORT ]
    rundir: "$KNOT_DIR"
    user: root:root
    pidfile: "$KNOT_DIR/knot.pid"
log:
  - target: "$KNOT_DIR/knot.log"
    any: info
database:
    storage: "$KNOT_DIR/db"
key:
  - id: dkim-test
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: dkim-test
    action: update
template:
  - id: default
    storage: "$KNOT_DIR"
    zonefile-sync: -1
    journal-content: none
$([ -n "${KNOT_GLOBAL_MODULE:-}" ] && echo "    global-module: $KNOT_GLOBAL_MODULE")
zone:
  - domain: $zone
    file: "$KNOT_DIR/$zone.zone"
    acl: update
CONF
	knotd -c "$KNOT_DIR/knot.conf" >"$KNOT_DIR/knotd.out" 2>&1 &
	KNOT_PID=$!
	at_exit "knot_stop"
	local i
	for i in $(seq 1 100); do
		if [ -n "$(kdig +short +time=1 +retry=0 @127.0.0.1 -p "$KNOT_PORT" "$zone" SOA 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	diag "knotd did not come up: $(cat "$KNOT_DIR/knotd.out" "$KNOT_DIR/knot.log" 2>/dev/null | tail -5)"
	return 1
}

knot_stop() {
	if [ -n "${KNOT_PID:-}" ] && kill -0 "$KNOT_PID" 2>/dev/null; then
		kill "$KNOT_PID"
		local i
		for i in $(seq 1 100); do kill -0 "$KNOT_PID" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$KNOT_PID" 2>/dev/null || true
		wait "$KNOT_PID" 2>/dev/null || true
	fi
	KNOT_PID=
}

knotc_() { knotc -c "$KNOT_DIR/knot.conf" "$@" 2>/dev/null; }

# Replace the TXT RRset at NAME with one record of the given strings.
knot_set_txt() {
	local name=$1; shift
	local rdata="" s
	for s in "$@"; do rdata="$rdata \"$s\""; done
	knotc_ zone-begin "$KNOT_ZONE" >/dev/null &&
	{ knotc_ zone-unset "$KNOT_ZONE" "$name" TXT >/dev/null 2>&1 || true; } &&
	knotc_ zone-set "$KNOT_ZONE" "$name" 300 TXT $rdata >/dev/null &&
	knotc_ zone-commit "$KNOT_ZONE" >/dev/null
}

# Add one more TXT record at NAME (keeps existing ones).
knot_add_txt() {
	local name=$1; shift
	local rdata="" s
	for s in "$@"; do rdata="$rdata \"$s\""; done
	knotc_ zone-begin "$KNOT_ZONE" >/dev/null &&
	knotc_ zone-set "$KNOT_ZONE" "$name" 300 TXT $rdata >/dev/null &&
	knotc_ zone-commit "$KNOT_ZONE" >/dev/null
}

knot_del() {
	local name=$1 type=${2:-}
	knotc_ zone-begin "$KNOT_ZONE" >/dev/null &&
	{ knotc_ zone-unset "$KNOT_ZONE" "$name" $type >/dev/null 2>&1 || true; } &&
	knotc_ zone-commit "$KNOT_ZONE" >/dev/null
}

# A minimal zone: SOA, NS on loopback names.
knot_basic_zone() {
	local zone=$1
	cat <<ZONE
\$ORIGIN $zone.
\$TTL 300
@   IN SOA ns1.$zone. hostmaster.$zone. 1 3600 600 86400 300
@   IN NS  ns1.$zone.
ns1 IN A   127.0.0.1
ns1 IN AAAA ::1
ZONE
}
