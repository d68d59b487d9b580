#!/usr/bin/env bash
# Shared by load.sh and metrics.sh (sourced): the release binary, a gateway on a fresh SQLite
# directory with throttling out of reach, a token and one onboarding setting to GET, wrk's rate.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
GATEWAY_PIDS=()
BENCH_DIRS=()
trap 'kill "${GATEWAY_PIDS[@]}" 2>/dev/null || true; rm -rf "${BENCH_DIRS[@]}"' EXIT

# The release binary of this checkout, in BIN (BENCH_BIN: an already built binary instead).
build_release() {
  if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; return; fi
  cargo build --release -q
  BIN=${CARGO_TARGET_DIR:-target}/release/dep-gateway
}

# start_gateway BINARY PORT [VAR=VALUE ...]: serves on 127.0.0.1:PORT with the extra environment;
# sets PID, WORK (its data directory), TOKEN and URL (GET …/depOnboardingSettings/{id}).
start_gateway() {
  local bin=$1 port=$2
  shift 2
  WORK=$(mktemp -d)
  BENCH_DIRS+=("$WORK")
  # One tenant at full speed would exceed Intune's limits (2,000 requests / 20 s) within a
  # second: keep throttling on (its cost is part of the hot path) with limits it never reaches.
  env DEP_GATEWAY_DATA_DIR="$WORK" DEP_GATEWAY_BIND="127.0.0.1:$port" DEP_GATEWAY_LOG=warn \
    DEP_GATEWAY_THROTTLING__TENANT_REQUESTS=4000000000 \
    DEP_GATEWAY_THROTTLING__APP_REQUESTS=4000000000 "$@" "$bin" serve &
  PID=$!
  GATEWAY_PIDS+=("$PID")
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  local tenant id
  tenant=$(cat /proc/sys/kernel/random/uuid)
  TOKEN=$(DEP_GATEWAY_DATA_DIR="$WORK" "$bin" token --tenant "$tenant" --ttl 7200)
  id=$(curl -sf -X POST "$BASE/beta/deviceManagement/depOnboardingSettings" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"tokenName":"bench"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  URL="$BASE/beta/deviceManagement/depOnboardingSettings/$id"
}

# Stops the gateway started last.
stop_gateway() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
}

# Requests per second out of wrk's report on stdin.
rate() { awk '/Requests\/sec/ {print $2}'; }

# wrk_get SECONDS [wrk options...]: the authenticated GET at full speed, its req/s.
wrk_get() {
  local seconds=$1
  shift
  wrk -t"$THREADS" -c"$CONNS" -d"${seconds}s" "$@" -H "Authorization: Bearer $TOKEN" "$URL" | rate
}

# pct A B: A as a percentage of B.
pct() { python3 -c "print(round(100*float('$1')/float('$2'),1))"; }
