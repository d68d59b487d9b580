#!/usr/bin/env bash
# Load benchmark: the release server on SQLite, wrk on loopback.
#   1. /healthz at full speed (the ceiling),
#   2. GET /beta/deviceManagement/depOnboardingSettings/{id} with a valid token at full speed,
#   3. the same GET paced at half of (2)'s rate, for its latency percentiles,
#   4. the server's peak RSS.
# Usage: benches/load.sh [seconds per run, default 15]. Needs wrk (apt-get install wrk).
source "$(dirname "$0")/common.sh"
DURATION=${1:-15}
build_release
start_gateway "$BIN" "${PORT:-18080}"

echo "== /healthz (ceiling)"
HEALTH=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$BASE/healthz" | tee /dev/stderr | rate)
echo "== authenticated GET (full speed)"
GET=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$URL" | tee /dev/stderr | rate)

# Pace each connection with wrk's delay() so that the total is half the measured GET rate.
HALF=$(python3 -c "print(max(1, int(float('$GET') / 2)))")
DELAY_MS=$(python3 -c "print($CONNS * 1000.0 / $HALF)")
PACE="$WORK/pace.lua"
echo "function delay() return $DELAY_MS end" > "$PACE"
echo "== authenticated GET paced at ~$HALF req/s"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$PACE" -H "Authorization: Bearer $TOKEN" "$URL" | tee "$WORK/paced.txt"

RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo
echo "healthz req/s:            $HEALTH"
echo "authenticated GET req/s:  $GET ($(pct "$GET" "$HEALTH")% of healthz)"
echo "paced GET latency:        $(awk '/ 50%| 99%/ {printf "%s %s  ", $1, $2}' "$WORK/paced.txt")"
echo "peak RSS:                 $((RSS_KB / 1024)) MB"
