#!/usr/bin/env bash
# Throughput through the balancer: starts the local deployment (local.sh)
# with 1, then 3 replicas behind HAProxy, and drives the front with
# cmd/loadtest on the stateless 2026-07-28 protocol (64 concurrent clients
# by default), printing calls/s and latency percentiles per round. Not part
# of CI. With 1 replica it also drives that replica directly, which
# shows what the balancer adds. Settings (environment): RUN_DIR, FRONT_PORT, REDIS_PORT,
# SANDBOX_PORT as for local.sh; CLIENTS (64), CALLS per client per round
# (200), ROUNDS (3), COUNTS (the replica counts to try, "1 3").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
export PATH="$PATH:/usr/sbin:/sbin"
export RUN_DIR="${RUN_DIR:-/tmp/convirza-mcp-bench}"
front="${FRONT_PORT:-18080}"
read -r first_replica _ <<<"${REPLICA_PORTS:-$((front + 1))}"

go build -o bin/convirza-mcp ./cmd/convirza-mcp
go build -o bin/loadtest ./cmd/loadtest
export CONVIRZA_MCP_BIN="$root/bin/convirza-mcp"
# Every load client holds the one token: lift the per-client cap; log
# warnings only, as cmd/loadtest's own server does.
export REPLICA_ENV="CONVIRZA_MCP_MAX_CALLS_PER_CLIENT=1000 CONVIRZA_MCP_LOG_LEVEL=warn"

trap 'deploy/local.sh stop >/dev/null' EXIT
for n in ${COUNTS:-1 3}; do
	echo "== $n replica(s) behind HAProxy"
	REPLICAS="$n" deploy/local.sh start >/dev/null
	token="$(tr -d '/+=\n' <"$RUN_DIR/auth-token")"
	CONVIRZA_MCP_AUTH_TOKEN="$token" bin/loadtest -url "http://127.0.0.1:$front" -modern \
		-sessions "${CLIENTS:-64}" -calls "${CALLS:-200}" -rounds "${ROUNDS:-3}"
	if [ "$n" = 1 ]; then
		echo "== the same replica, directly (no balancer)"
		CONVIRZA_MCP_AUTH_TOKEN="$token" bin/loadtest -url "http://127.0.0.1:$first_replica" -modern \
			-sessions "${CLIENTS:-64}" -calls "${CALLS:-200}" -rounds "${ROUNDS:-3}"
	fi
	deploy/local.sh stop >/dev/null
done
