#!/usr/bin/env bash
# Issue 20's speed, release build, on an N-beneficiary ledger (default 1,000,000, every one on mobile money so that the
# result file is full size): one exported month, its carrier-ordered result file (seed 42), then
#   1. the result file reconciled by the CLI and, on a copy of the same ledger, uploaded through the API
#      (`POST /api/v1/batches/1/results`, curl, multipart) to `allowance serve`, three times alternately: the medians
#      and their ratio;
#   2. scripts/load.py: CLIENTS concurrent clients (default 32) for SECONDS (default 30) asking the dashboard (`/`)
#      and the batch page (`/batches/1`) with keep-alive connections, after one untimed request each; p50/p90/p99.
#
#   scripts/bench-serve.sh [--clients 32] [--seconds 30] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=32
DURATION=30
N=1000000
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS="$2"; shift 2 ;;
        --seconds) DURATION="$2"; shift 2 ;;
        *) N="$1"; shift ;;
    esac
done
WORK="$(mktemp -d /tmp/allowance-serve.XXXXXX)"
source scripts/bench-lib.sh
PORT=$((20000 + RANDOM % 20000))
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "N=$N: the month (import, create, approve, export, result file)" >&2
setup_month
LINES=$(($(wc -l < "$WORK/results.csv") - 1))
PASSWORD="bench-$RANDOM-$RANDOM-password"

# start_server DB: serves a copy of the month with an auditor account; sets SERVER, JAR and CSRF.
start_server() {
    printf '%s' "$PASSWORD" | "$BIN" user add auditor.bench --role auditor --password-stdin --db "$1" >/dev/null
    "$BIN" serve --db "$1" --port "$PORT" --max-upload-mb 2000 >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.1; done
    JAR="$WORK/jar"
    curl -s -c "$JAR" -H 'Content-Type: application/json' \
        -d "{\"user\":\"auditor.bench\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$PORT/api/v1/session" > "$WORK/session.json"
    CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$WORK/session.json")
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# The CLI and the API alternately, each on its own copy of the month as it stands before reconciling: this machine's
# speed varies from one minute to the next, and alternating is the only fair comparison.
CLI_WALLS=""
API_WALLS=""
for run in 1 2 3; do
    echo "run $run/3: reconcile by the CLI, then through the API" >&2
    rm -f "$WORK/copy.sqlite"*
    sqlite3 "$DB" ".backup '$WORK/copy.sqlite'"
    timed "$BIN" reconcile 1 "$WORK/results.csv" --by auditor --db "$WORK/copy.sqlite"
    CLI_WALLS="$CLI_WALLS $WALL"
    CLI_RSS=$RSS
    rm -f "$WORK/copy.sqlite"*
    sqlite3 "$DB" ".backup '$WORK/copy.sqlite'"
    start_server "$WORK/copy.sqlite"
    # `-H Expect:` as a browser sends it: curl otherwise waits a second for a "100 Continue" Hummingbird does not send.
    API_WALL=$( { /usr/bin/time -f '%e' curl -s -H 'Expect:' -o "$WORK/api.json" -w '%{http_code}' -b "$JAR" -H "X-CSRF-Token: $CSRF" \
        -F "file=@$WORK/results.csv;type=text/csv" "http://127.0.0.1:$PORT/api/v1/batches/1/results" > "$WORK/status.txt"; } 2>&1 )
    STATUS=$(cat "$WORK/status.txt")
    [ "$STATUS" = 200 ] || { echo "the API answered $STATUS: $(head -c 400 "$WORK/api.json")" >&2; exit 1; }
    API_WALLS="$API_WALLS $API_WALL"
    [ "$run" = 3 ] || stop_server
done

echo "load: $CLIENTS clients, $DURATION s, / and /batches/1" >&2
printf '%s' "$PASSWORD" | python3 scripts/load.py --url "http://127.0.0.1:$PORT" --user auditor.bench --password-stdin \
    --clients "$CLIENTS" --seconds "$DURATION" --path / --path /batches/1 > "$WORK/load.json"
SERVER_RSS=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status")

python3 - "$WORK/load.json" "$N" "$LINES" "$CLI_WALLS" "$CLI_RSS" "$API_WALLS" "$SERVER_RSS" "$(stat -c %s "$WORK/results.csv")" <<'EOF'
import json, statistics, sys
load = json.load(open(sys.argv[1]))
n, lines, cli_rss, server_rss, size = int(sys.argv[2]), int(sys.argv[3]), sys.argv[5], sys.argv[7], int(sys.argv[8])
cli = [float(x) for x in sys.argv[4].split()]
api = [float(x) for x in sys.argv[6].split()]
print(f"N = {n:,} beneficiaries, {lines:,} result lines ({size / 1e6:.0f} MB), release build")
print(f"reconcile, median of 3 alternating: CLI {statistics.median(cli):.2f} s (runs {', '.join(f'{x:.2f}' for x in cli)}; {cli_rss} MB), "
      f"API upload {statistics.median(api):.2f} s (runs {', '.join(f'{x:.2f}' for x in api)}), "
      f"ratio {statistics.median(api) / statistics.median(cli):.2f} (target at most 1.2)")
print(f"load: {load['clients']} clients, {load['seconds']} s, {load['requests_per_second']} requests/s; server peak {server_rss} MB")
for path, page in load["pages"].items():
    print(f"  {path:12} {page['requests']:6} requests, not 200: {page['not_200']}, p50 {page['p50_ms']} ms, p90 {page['p90_ms']} ms, "
          f"p99 {page['p99_ms']} ms (target 100), max {page['max_ms']} ms")
EOF
