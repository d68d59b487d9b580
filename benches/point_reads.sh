#!/usr/bin/env bash
# Point reads (issue 11 item 3): every single-entity GET — onboarding setting, enrollment
# profile, imported identity, VPP token — with wrk at full speed, next to the reference measured
# in the same run: /healthz on SQLite (target >= 35 %), `pgbench -S -M prepared` at the same
# concurrency on PostgreSQL (target >= 50 %).
# Usage: benches/point_reads.sh [seconds per run, default 10] [backends, default "sqlite postgres"]
# Needs wrk and pgbench (apt-get install wrk postgresql-client). PG admin URL: $PG.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BACKENDS=${2:-sqlite postgres}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18090}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else
  cargo build --release -q
  BIN=${CARGO_TARGET_DIR:-target}/release/dep-gateway
fi
rate() { awk '/Requests\/sec/ {print $2}'; }
pct() { python3 -c "print(round(100*float('$1')/float('$2'),1))"; }
post() { curl -sf -X POST "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
echo "# nproc=$(nproc) wrk -t$THREADS -c$CONNS -d${DURATION}s"

for BACKEND in $BACKENDS; do
  WORK=$(mktemp -d)
  export DEP_GATEWAY_DATA_DIR="$WORK" DEP_GATEWAY_BIND="127.0.0.1:$PORT" DEP_GATEWAY_LOG=warn
  export DEP_GATEWAY_THROTTLING__TENANT_REQUESTS=4000000000 DEP_GATEWAY_THROTTLING__APP_REQUESTS=4000000000
  unset DEP_GATEWAY_DATABASE_URL
  DB=""
  if [ "$BACKEND" = postgres ]; then
    DB="dg_bench_$(cat /proc/sys/kernel/random/uuid | tr -d -)"
    psql "$PG" -qc "CREATE DATABASE \"$DB\""
    export DEP_GATEWAY_DATABASE_URL="${PG%/*}/$DB"
  fi
  "$BIN" serve & PID=$!
  trap 'kill $PID 2>/dev/null; rm -rf "$WORK"; [ -n "$DB" ] && psql "$PG" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"' EXIT
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  TOKEN=$("$BIN" token --tenant "$(cat /proc/sys/kernel/random/uuid)" --ttl 7200)
  G="http://127.0.0.1:$PORT/beta/deviceManagement/depOnboardingSettings"
  SETTING=$(post "$G" '{"tokenName":"bench"}' | id_of)
  PROFILE=$(post "$G/$SETTING/enrollmentProfiles" \
    '{"@odata.type":"#microsoft.graph.depIOSEnrollmentProfile","displayName":"bench"}' | id_of)
  post "$G/$SETTING/importedAppleDeviceIdentities/importAppleDeviceIdentityList" \
    '{"importedAppleDeviceIdentities":[{"serialNumber":"C02BENCH0001","platform":"ios"}]}' >/dev/null
  IDENTITY=$(curl -sf "$G/$SETTING/importedAppleDeviceIdentities" -H "Authorization: Bearer $TOKEN" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"][0]["id"])')
  VPPFILE=$(python3 -c 'import base64,json,uuid; print(base64.b64encode(json.dumps({"token":"t"+uuid.uuid4().hex,"expDate":"2031-01-01T00:00:00Z","orgName":"Bench"}).encode()).decode())')
  VPP=$(post "http://127.0.0.1:$PORT/beta/deviceAppManagement/vppTokens" "{\"token\":\"$VPPFILE\"}" | id_of)

  if [ "$BACKEND" = postgres ]; then
    psql "${PG%/*}/$DB" -qc "CREATE SCHEMA pgb" >/dev/null
    PGOPTIONS="-c search_path=pgb" pgbench -q -i -s 1 "${PG%/*}/$DB" >/dev/null 2>&1
    REF=$(PGOPTIONS="-c search_path=pgb" pgbench -n -S -M prepared -c "$CONNS" -j "$THREADS" -T "$DURATION" "${PG%/*}/$DB" \
      | awk '/^tps/ {print $3; exit}')
    REF_NAME="pgbench -S -M prepared"
    TARGET=50
  else
    REF=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/healthz" | rate)
    REF_NAME="/healthz"
    TARGET=35
  fi
  echo "$BACKEND  $REF_NAME: $REF /s"
  for PAIR in "setting $G/$SETTING" "profile $G/$SETTING/enrollmentProfiles/$PROFILE" \
              "identity $G/$SETTING/importedAppleDeviceIdentities/$IDENTITY" \
              "vppToken http://127.0.0.1:$PORT/beta/deviceAppManagement/vppTokens/$VPP"; do
    set -- $PAIR
    curl -sf "$2" -H "Authorization: Bearer $TOKEN" >/dev/null || { echo "GET $1 failed" >&2; exit 1; }
    R=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$2" | rate)
    echo "$BACKEND  GET $1: $R req/s = $(pct "$R" "$REF") % of $REF_NAME (target >= $TARGET %)"
  done
  echo "$BACKEND  peak RSS: $(( $(awk '/VmHWM/ {print $2}' "/proc/$PID/status") / 1024 )) MB"
  kill $PID; wait $PID 2>/dev/null || true
  rm -rf "$WORK"
  [ -n "$DB" ] && psql "$PG" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
  trap - EXIT
done
