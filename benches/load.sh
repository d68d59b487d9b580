#!/usr/bin/env bash
# Load benchmark: the release server on SQLite, wrk on loopback.
#   1. /healthz at full speed (the ceiling),
#   2. GET /beta/deviceManagement/depOnboardingSettings/{id} with a valid token at full speed,
#   3. the same GET paced at half of (2)'s rate, for its latency percentiles,
#   4. the server's peak RSS.
# Usage: benches/load.sh [seconds per run, default 15]. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/dep-gateway
WORK=$(mktemp -d)
export DEP_GATEWAY_DATA_DIR="$WORK" DEP_GATEWAY_BIND="127.0.0.1:$PORT" DEP_GATEWAY_LOG=warn
# One tenant at full speed would exceed Intune's limits (2,000 requests / 20 s) within a
# second: keep throttling on (its cost is part of the hot path) with limits it never reaches.
export DEP_GATEWAY_THROTTLING__TENANT_REQUESTS=4000000000 DEP_GATEWAY_THROTTLING__APP_REQUESTS=4000000000
"$BIN" serve & PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

TENANT=$(cat /proc/sys/kernel/random/uuid)
TOKEN=$("$BIN" token --tenant "$TENANT" --ttl 7200)
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/beta/deviceManagement/depOnboardingSettings" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"tokenName":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="http://127.0.0.1:$PORT/beta/deviceManagement/depOnboardingSettings/$ID"

rate() { awk '/Requests\/sec/ {print $2}'; }
echo "== /healthz (ceiling)"
HEALTH=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/healthz" | tee /dev/stderr | rate)
echo "== authenticated GET (full speed)"
GET=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$URL" | tee /dev/stderr | rate)

# Pace each connection with wrk's delay() so that the total is half the measured GET rate.
HALF=$(python3 -c "print(max(1, int(float('$GET') / 2)))")
DELAY_MS=$(python3 -c "print($CONNS * 1000.0 / $HALF)")
PACE=$(mktemp --suffix=.lua)
echo "function delay() return $DELAY_MS end" > "$PACE"
echo "== authenticated GET paced at ~$HALF req/s"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$PACE" -H "Authorization: Bearer $TOKEN" "$URL" | tee "$WORK/paced.txt"
rm -f "$PACE"

RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo
echo "healthz req/s:            $HEALTH"
echo "authenticated GET req/s:  $GET ($(python3 -c "print(round(100*float('$GET')/float('$HEALTH'),1))")% of healthz)"
echo "paced GET latency:        $(awk '/ 50%| 99%/ {printf "%s %s  ", $1, $2}' "$WORK/paced.txt")"
echo "peak RSS:                 $((RSS_KB / 1024)) MB"
