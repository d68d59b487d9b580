#!/usr/bin/env bash
# Upstream-mode overhead: a local-mode gateway plays Graph (the upstream), a second gateway in
# upstream mode sits in front of it; wrk at 100 connections against
#   1. the upstream directly: GET …/depOnboardingSettings/{id} (multi-token),
#   2. the same call passed through the gateway,
#   3. the old GET /organization/{tid}/depOnboardingSettings/{id}, translated into (1).
# Usage: benches/upstream.sh [seconds per run, default 10]. Needs wrk. Everything shares the
# machine's cores, so compare figures within one run only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${CONNS:-100}
THREADS=${THREADS:-2}
UP_PORT=${UP_PORT:-18180}
GW_PORT=${GW_PORT:-18181}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else
  cargo build --release -q
  BIN=${CARGO_TARGET_DIR:-target}/release/dep-gateway
fi
UP_DIR=$(mktemp -d); GW_DIR=$(mktemp -d)
export DEP_GATEWAY_LOG=warn
export DEP_GATEWAY_THROTTLING__TENANT_REQUESTS=4000000000 DEP_GATEWAY_THROTTLING__APP_REQUESTS=4000000000
DEP_GATEWAY_DATA_DIR="$UP_DIR" DEP_GATEWAY_BIND="127.0.0.1:$UP_PORT" "$BIN" serve & UP=$!
DEP_GATEWAY_DATA_DIR="$GW_DIR" DEP_GATEWAY_BIND="127.0.0.1:$GW_PORT" \
  "$BIN" serve --upstream "http://127.0.0.1:$UP_PORT" & GW=$!
trap 'kill $UP $GW 2>/dev/null; rm -rf "$UP_DIR" "$GW_DIR"' EXIT
for port in $UP_PORT $GW_PORT; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done

TENANT=$(cat /proc/sys/kernel/random/uuid)
TOKEN=$(DEP_GATEWAY_DATA_DIR="$UP_DIR" "$BIN" token --tenant "$TENANT" --ttl 7200)
ID=$(curl -sf -X POST "http://127.0.0.1:$UP_PORT/beta/deviceManagement/depOnboardingSettings" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"tokenName":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
NEW="/beta/deviceManagement/depOnboardingSettings/$ID"
OLD="/beta/organization/$TENANT/depOnboardingSettings/$ID"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GW_PORT$OLD" >/dev/null

run() {
  echo "== $1"
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$2" \
    | tee /dev/stderr | awk '/ 50%| 99%|Requests\/sec/ {printf "%s %s  ", $1, $2} END {print ""}'
}
DIRECT=$(run "upstream directly" "http://127.0.0.1:$UP_PORT$NEW")
PASSED=$(run "passed through the gateway" "http://127.0.0.1:$GW_PORT$NEW")
TRANSLATED=$(run "old call translated by the gateway" "http://127.0.0.1:$GW_PORT$OLD")
echo
echo "upstream directly:      $DIRECT"
echo "passed through:         $PASSED"
echo "translated (old path):  $TRANSLATED"
