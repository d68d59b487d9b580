#!/usr/bin/env bash
# Cost of the audit trail on a write, on one build (wrk on loopback, SQLite, one tenant):
#   - audited: PATCH /beta/deviceManagement/depOnboardingSettings/{id} — read, apply, update the
#     row, the diff old → new and one auditEvent INSERT, in one write transaction,
#   - unaudited: PUT /beta/deviceManagement/depGateway.legacyDefaultToken naming the token
#     already designated — a write transaction under the same tenant lock that reads the
#     designation and rewrites its row (delete + insert, committed), but changes nothing and
#     so records no event. The gateway has no switch that turns the trail off (every accepted
#     write is audited, as in Intune), so this is the nearest unaudited write;
# in ROUNDS interleaved rounds (default 2), with the authenticated GET for scale. The audited
# write does a little more than the unaudited one besides its event, so the ratio bounds the
# audit's cost from above. The trail's $count around each run checks that every PATCH
# recorded its event and the unaudited write none.
# Usage: [BENCH_BIN=target/release/dep-gateway] benches/audit.sh [seconds per run,
# default 10]. Needs wrk. Without BENCH_BIN it builds the release binary first.
source "$(dirname "$0")/common.sh"
DURATION=${1:-10}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18083}
build_release

LUA=$(mktemp -d)
BENCH_DIRS+=("$LUA")
cat > "$LUA/patch.lua" <<'LUAEOF'
wrk.method = "PATCH"
wrk.body = '{"tokenName":"bench-renamed"}'
wrk.headers["Content-Type"] = "application/json"
response = function(status)
  if status ~= 204 then error("PATCH answered " .. status) end
end
LUAEOF
designate_lua() {
  cat > "$LUA/designate.lua" <<LUAEOF
wrk.method = "PUT"
wrk.body = '{"depOnboardingSettingId":"$1"}'
wrk.headers["Content-Type"] = "application/json"
response = function(status)
  if status ~= 204 then error("PUT answered " .. status) end
end
LUAEOF
}

# events BINARY: the tenant's auditEvents/$count.
events() {
  local bin=$1 reader
  reader=$(DEP_GATEWAY_DATA_DIR="$WORK" "$bin" token --tenant "$TENANT" --scope DeviceManagementApps.Read.All --ttl 600)
  curl -sf "$BASE/beta/deviceManagement/auditEvents/\$count" -H "Authorization: Bearer $reader"
}

# Writes have their own (lower) limits: out of reach too.
start_gateway "$BIN" "$PORT" DEP_GATEWAY_THROTTLING__TENANT_WRITES=4000000000 \
  DEP_GATEWAY_THROTTLING__APP_WRITES=4000000000
TENANT=$(python3 -c 'import json,sys,base64; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["tid"])' "$TOKEN")
DEFAULT="$BASE/beta/deviceManagement/depGateway.legacyDefaultToken"
# The bench's setting is designated once (one event); designating it again changes nothing.
SETTING_ID=${URL##*/}
curl -sf -X PUT "$DEFAULT" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"depOnboardingSettingId\":\"$SETTING_ID\"}"
designate_lua "$SETTING_ID"

RESULTS=$(mktemp)
BENCH_DIRS+=("$RESULTS")
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round" >&2
  before=$(events "$BIN")
  patch=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$LUA/patch.lua" -H "Authorization: Bearer $TOKEN" "$URL")
  after=$(events "$BIN")
  patched=$(echo "$patch" | awk '/requests in/ {print $1}')
  audited=$(echo "$patch" | rate)
  unaudited=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$LUA/designate.lua" -H "Authorization: Bearer $TOKEN" "$DEFAULT" | rate)
  untouched=$(events "$BIN")
  get=$(wrk_get "$DURATION")
  echo "$audited $unaudited $get $patched $((after - before)) $((untouched - after))" | tee -a "$RESULTS" >&2
done
stop_gateway

echo
echo "round  audited PATCH/s  unaudited write/s  GET/s  write time audited/unaudited  PATCHes  events  events by the unaudited write"
python3 - "$RESULTS" <<'PY'
import sys
for i, line in enumerate(l.split() for l in open(sys.argv[1]) if l.strip()):
    a, u, g, n, e, z = line
    print(f"{i+1:5} {float(a):>16,.0f} {float(u):>18,.0f} {float(g):>6,.0f} {float(u)/float(a):>30.2f}x {n:>8} {e:>7} {z:>8}")
PY
