#!/usr/bin/env bash
# Runs a scaled-out convirza-mcp on loopback: redis-server (the shared state
# store), the standalone simulator of both upstreams, three replicas and
# HAProxy in front of them; and tears it all down.
#
#   deploy/local.sh start    # prints the front URL and the bearer token
#   deploy/local.sh roll [N...]  # restarts replicas N... (default all), one at a time
#   deploy/local.sh stop
#   deploy/local.sh status
#
# roll is a rolling update: each replica is stopped and started again with
# the settings of now (REPLICA_ENV, GENERATION, the binary as it is now). When
# what they serve changes (policy, settings, version), raise GENERATION:
# the first replica restarted takes over, and HAProxy stops sending
# requests to the others (their /readyz fails) until they are restarted
# too. Without a higher generation, a restarted replica whose policy
# differs stays out (not ready) while the old ones run.
#
# Needs: redis-server and haproxy (Debian: apt-get install redis-server
# haproxy), and the binary (CONVIRZA_MCP_BIN, default bin/convirza-mcp,
# built when missing). Settings (environment, all optional):
#   RUN_DIR       where pids, logs and the generated secrets go (default /tmp/convirza-mcp-deploy)
#   FRONT_PORT    HAProxy's port (18080)
#   REPLICAS      how many replicas to run behind HAProxy, 1 to 3 (default 3)
#   REPLICA_PORTS the three replicas' ports, "P1 P2 P3" (default FRONT_PORT+1..3)
#   REDIS_PORT    (16379); SANDBOX_PORT (19090)
#   ACCESS_TTL    the simulator's access-token lifetime, e.g. 5s to watch renewals (default 7 days)
#   REPLICA_ENV   extra "NAME=value ..." for every replica
#   GENERATION    the replicas' CONVIRZA_MCP_POLICY_GENERATION (default 0); raise it for a roll that changes what they serve
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$PATH:/usr/sbin:/sbin" # Debian's haproxy, for a non-root PATH
run="${RUN_DIR:-/tmp/convirza-mcp-deploy}"
front="${FRONT_PORT:-18080}"
redis_port="${REDIS_PORT:-16379}"
sandbox_port="${SANDBOX_PORT:-19090}"
bin="${CONVIRZA_MCP_BIN:-$root/bin/convirza-mcp}"
read -r -a replica_ports <<<"${REPLICA_PORTS:-$((front + 1)) $((front + 2)) $((front + 3))}"
[ "${#replica_ports[@]}" -eq 3 ] || { echo "local.sh: REPLICA_PORTS must name three ports" >&2; exit 2; }
replicas="${REPLICAS:-3}"
case "$replicas" in 1 | 2 | 3) ;; *) echo "local.sh: REPLICAS must be 1, 2 or 3" >&2; exit 2 ;; esac

wait_for() { # url, what
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "local.sh: $2 did not come up ($1); see $run/*.log" >&2
	return 1
}

# start_replica starts replica $1 (1 to 3) on its port, with the secrets
# and the simulator's URLs start wrote to the run directory.
start_replica() {
	local i="$1" port="${replica_ports[$(($1 - 1))]}" urls api oauth tdapi tdtoken
	urls="$(grep '^{' "$run/sandbox.log")"
	api="$(sed -E 's/.*"api_url":"([^"]+)".*/\1/' <<<"$urls")"
	oauth="$(sed -E 's/.*"oauth_url":"([^"]+)".*/\1/' <<<"$urls")"
	tdapi="$(sed -E 's/.*"talkdesk_api_url":"([^"]+)".*/\1/' <<<"$urls")"
	tdtoken="$(sed -E 's/.*"talkdesk_token_url":"([^"]+)".*/\1/' <<<"$urls")"
	env CONVIRZA_EMAIL=admin@summit-demo.example CONVIRZA_PASSWORD=sandbox-demo \
		CONVIRZA_API_URL="$api" CONVIRZA_OAUTH_URL="$oauth" \
		TALKDESK_ACCOUNT=summit-demo TALKDESK_CLIENT_ID=sbx-talkdesk-client TALKDESK_CLIENT_SECRET='sbx-talkdesk+secret/0=' \
		TALKDESK_API_URL="$tdapi" TALKDESK_TOKEN_URL="$tdtoken" \
		CONVIRZA_MCP_TRANSPORT=http CONVIRZA_MCP_ADDR="127.0.0.1:$port" \
		CONVIRZA_MCP_AUTH_TOKEN="$(tr -d '/+=' <"$run/auth-token")" CONVIRZA_MCP_CONFIRMATION_KEY="$(cat "$run/confirmation-key")" \
		CONVIRZA_MCP_STORE="redis://127.0.0.1:$redis_port/0" CONVIRZA_MCP_STORE_KEY="$(cat "$run/store-key")" \
		CONVIRZA_MCP_TRUSTED_PROXIES=127.0.0.1 CONVIRZA_MCP_REPLICA="r$i" \
		CONVIRZA_MCP_TOOLSETS=all CONVIRZA_MCP_LOG_FORMAT=json \
		CONVIRZA_MCP_POLICY_GENERATION="${GENERATION:-0}" \
		${REPLICA_ENV:-} \
		"$bin" serve >> "$run/replica$i.log" 2>&1 &
	echo $! > "$run/replica$i.pid"
}

start() {
	command -v redis-server >/dev/null || { echo "local.sh: redis-server missing (apt-get install redis-server)" >&2; exit 1; }
	command -v haproxy >/dev/null || { echo "local.sh: haproxy missing (apt-get install haproxy)" >&2; exit 1; }
	command -v curl >/dev/null || { echo "local.sh: curl missing (apt-get install curl)" >&2; exit 1; }
	[ -x "$bin" ] || (cd "$root" && go build -o "$bin" ./cmd/convirza-mcp)
	mkdir -p "$run"
	chmod 700 "$run"
	secret() { [ -s "$run/$1" ] || head -c 32 /dev/urandom | base64 > "$run/$1"; cat "$run/$1"; }
	secret auth-token >/dev/null
	secret confirmation-key >/dev/null
	secret store-key >/dev/null

	redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize yes --pidfile "$run/redis.pid" --logfile "$run/redis.log" --dir "$run"

	local ttl=()
	[ -n "${ACCESS_TTL:-}" ] && ttl=(--access-ttl "$ACCESS_TTL")
	"$bin" sandbox --addr "127.0.0.1:$sandbox_port" "${ttl[@]}" > "$run/sandbox.log" 2>&1 &
	echo $! > "$run/sandbox.pid"
	local urls
	for _ in $(seq 50); do urls="$(grep '^{' "$run/sandbox.log" || true)"; [ -n "$urls" ] && break; sleep 0.1; done
	[ -n "$urls" ] || { echo "local.sh: the simulator printed no URLs; see $run/sandbox.log" >&2; exit 1; }

	for i in $(seq "$replicas"); do : >"$run/replica$i.log"; start_replica "$i"; done
	for i in $(seq "$replicas"); do wait_for "http://127.0.0.1:${replica_ports[$((i - 1))]}/healthz" "replica $i"; done

	local backends=()
	for i in $(seq "$replicas"); do backends+=("MCP_REPLICA$i=127.0.0.1:${replica_ports[$((i - 1))]}"); done
	env MCP_FRONT="127.0.0.1:$front" "${backends[@]}" haproxy -D -p "$run/haproxy.pid" -f "$root/deploy/haproxy.cfg"
	wait_for "http://127.0.0.1:$front/healthz" "HAProxy"
	echo "front:   http://127.0.0.1:$front/mcp   (Authorization: Bearer $(cat "$run/auth-token" | tr -d '/+='))"
	echo "logs:    $run/*.log"
}

# alive: the process exists and is not a zombie waiting for its parent.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ ! -r "/proc/$1/stat" ] || ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# stop_one sends SIGTERM to the process named by a pid file and waits for
# it to end (SIGKILL after 15 s: replicas finish in-flight calls first).
stop_one() {
	local f="$run/$1.pid" pid
	[ -s "$f" ] || return 0
	pid="$(cat "$f")"
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 150); do alive "$pid" || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# roll restarts replicas one at a time, each ready before the next stops.
roll() {
	[ -s "$run/sandbox.pid" ] && alive "$(cat "$run/sandbox.pid")" || { echo "local.sh: roll: nothing is running (start first)" >&2; exit 1; }
	local which=("$@") i
	[ "${#which[@]}" -gt 0 ] || read -r -a which <<<"$(seq -s ' ' "$replicas")"
	for i in "${which[@]}"; do
		case "$i" in 1 | 2 | 3) ;; *) echo "local.sh: roll: no replica $i (1 to 3)" >&2; exit 2 ;; esac
		[ -s "$run/replica$i.pid" ] || { echo "local.sh: roll: replica $i is not running" >&2; exit 1; }
	done
	for i in "${which[@]}"; do
		stop_one "replica$i"
		start_replica "$i"
		wait_for "http://127.0.0.1:${replica_ports[$((i - 1))]}/readyz" "replica $i (ready; if its policy or version differs from the running replicas', raise GENERATION above theirs)"
		echo "replica $i: restarted, generation ${GENERATION:-0}"
	done
}

stop() {
	for p in haproxy replica1 replica2 replica3 sandbox redis; do stop_one "$p"; done
	echo "stopped"
}

status() {
	for p in redis sandbox replica1 replica2 replica3 haproxy; do
		if [ -s "$run/$p.pid" ] && alive "$(cat "$run/$p.pid")"; then echo "$p: running"; else echo "$p: stopped"; fi
	done
}

case "${1:-}" in
start) start ;;
roll) shift; roll "$@" ;;
stop) stop ;;
status) status ;;
*) echo "usage: deploy/local.sh start|roll [N...]|stop|status" >&2; exit 2 ;;
esac
