#!/usr/bin/env bash
# Cost of the metrics on the hot path: the release server on SQLite, wrk on loopback.
#   1. /healthz at full speed (the ceiling; it records no metric),
#   2. GET /beta/deviceManagement/depOnboardingSettings/{id} with a valid token (counted by
#      operation and status class, latency histogram),
#   3. the same GET while a scraper renders /metrics ten times a second,
#   4. one scrape's latency.
# Compare (2)/(1) with benches/load.sh's ratio from before the metrics (README, Benchmarks).
# Usage: benches/metrics.sh [seconds per run, default 10]. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18081}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/dep-gateway
WORK=$(mktemp -d)
export DEP_GATEWAY_DATA_DIR="$WORK" DEP_GATEWAY_BIND="127.0.0.1:$PORT" DEP_GATEWAY_LOG=warn
export DEP_GATEWAY_THROTTLING__TENANT_REQUESTS=4000000000 DEP_GATEWAY_THROTTLING__APP_REQUESTS=4000000000
"$BIN" serve & PID=$!
SCRAPER=
trap 'kill $PID $SCRAPER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

TENANT=$(cat /proc/sys/kernel/random/uuid)
TOKEN=$("$BIN" token --tenant "$TENANT" --ttl 7200)
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/beta/deviceManagement/depOnboardingSettings" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"tokenName":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="http://127.0.0.1:$PORT/beta/deviceManagement/depOnboardingSettings/$ID"

rate() { awk '/Requests\/sec/ {print $2}'; }
HEALTH=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/healthz" | rate)
GET=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL" | rate)
( while true; do curl -sf "http://127.0.0.1:$PORT/metrics" >/dev/null; sleep 0.1; done ) & SCRAPER=$!
SCRAPED=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL" | rate)
kill $SCRAPER; SCRAPER=
SCRAPE_MS=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/metrics" | python3 -c 'import sys; print(round(1000*float(sys.stdin.read()),2))')
pct() { python3 -c "print(round(100*float('$1')/float('$2'),1))"; }
echo "healthz req/s:                      $HEALTH"
echo "authenticated GET req/s:            $GET ($(pct "$GET" "$HEALTH")% of healthz)"
echo "same, scraped 10x/s:                $SCRAPED ($(pct "$SCRAPED" "$HEALTH")% of healthz)"
echo "one scrape:                         ${SCRAPE_MS} ms"
echo "series for the GET:"
curl -s "http://127.0.0.1:$PORT/metrics" | grep 'http_requests_total{' || true
