#!/usr/bin/env bash
# Cost of the metrics and of the traces on the hot path, all on one build: the authenticated
# GET /beta/deviceManagement/depOnboardingSettings/{id} at full speed (wrk on loopback, SQLite) on
#   - this build with traces off (no OTLP endpoint: no span, no exporter); every request is
#     counted by operation and status class with its latency (the metrics cannot be switched
#     off: they are always on, as /metrics serves them),
#   - the same while a scraper renders /metrics ten times a second,
#   - this build exporting a span per request over OTLP/HTTP to a local sink that answers 200,
# each next to /healthz on the same server (the ceiling: no auth, no database, no metrics
# recorded), in ROUNDS interleaved rounds (default 2); then one scrape's latency.
# GET/healthz bounds the whole cost of a read (token check, throttling, database, metrics): at
# 90 % or more the metrics cost under 10 %. The scraped and OTLP rows are against the plain one.
# Usage: [BENCH_BIN=target/release/dep-gateway] benches/metrics.sh [seconds per run,
# default 10]. Needs wrk. Without BENCH_BIN it builds the release binary first.
source "$(dirname "$0")/common.sh"
DURATION=${1:-10}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18081}
SINK_PORT=$((PORT + 1))
build_release

# The OTLP sink: 200 to every export, counting them.
SINK_COUNT=$(mktemp)
BENCH_DIRS+=("$SINK_COUNT")
python3 - "$SINK_PORT" "$SINK_COUNT" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
count = 0
class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("content-length", 0)))
        count += 1
        open(sys.argv[2], "w").write(str(count))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
GATEWAY_PIDS+=("$!")

# measure LABEL BINARY SCRAPE [VAR=VALUE ...]: prints "LABEL healthz get".
measure() {
  local label=$1 bin=$2 scrape=$3 scraper= health get
  shift 3
  start_gateway "$bin" "$PORT" "$@"
  health=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$BASE/healthz" | rate)
  if [ "$scrape" = yes ]; then
    ( while true; do curl -sf "$BASE/metrics" >/dev/null; sleep 0.1; done ) & scraper=$!
  fi
  get=$(wrk_get "$DURATION")
  [ -n "$scraper" ] && kill "$scraper"
  if [ "$label" = metrics ]; then
    SCRAPE_MS=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/metrics" | python3 -c 'import sys; print(round(1000*float(sys.stdin.read()),2))')
  fi
  stop_gateway
  echo "$label $health $get"
}

RESULTS=$(mktemp)
BENCH_DIRS+=("$RESULTS")
run() { measure "$@" >> "$RESULTS"; tail -1 "$RESULTS" >&2; }
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round" >&2
  run metrics "$BIN" no
  run scraped "$BIN" yes
  run otlp "$BIN" no DEP_GATEWAY_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT"
done

echo
echo "variant   healthz req/s   GET req/s   GET/healthz   GET/plain GET (same round)"
python3 - "$RESULTS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds, current = [], []
for row in rows:
    if current and row[0] == rows[0][0]:
        rounds.append(current)
        current = []
    current.append(row)
rounds.append(current)
for r in rounds:
    ref = next(float(get) for label, _, get in r if label == "metrics")
    for label, health, get in r:
        h, g = float(health), float(get)
        print(f"{label:9} {h:>13,.0f} {g:>11,.0f} {100*g/h:>12.1f}% {100*g/ref:>12.1f}%")
PY
echo "one scrape: ${SCRAPE_MS} ms; OTLP export requests received by the sink: $(cat "$SINK_COUNT" 2>/dev/null || echo 0)"
