#!/usr/bin/env bash
# Load test of the web API on loopback: 200 concurrent connections (wrk), a bounded duration
# per endpoint, against a release build of the server (`web::serve_blocking`, what
# `restore-doctor serve` runs) with a fresh SQLite file.
# Endpoints: GET /api/explain/4013, POST /api/diagnose (JSON body; once the same body, answered
# from the server's memo of diagnoses, once a different body every request, computed by the
# engine each time), and as the peer measured in
# the same run, GET /static/app.js (a static asset: the server's floor). Reports requests/s,
# errors (connect/read/write/timeout and non-2xx) and p50/p99 latency, and the p99 ratio to the
# peer. Goal: no errors, p99 < 20 ms.
#
#   scripts/bench-web.sh                 # 10 s per endpoint, 200 connections
#   DURATION=5s CONNS=100 scripts/bench-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-200}
THREADS=${THREADS:-2}
PORT=${PORT:-7419}

if ! command -v wrk >/dev/null; then
    echo "bench-web: wrk is not installed (Debian: apt-get install wrk)" >&2
    exit 2
fi

# The web crate's example server runs the same code as `restore-doctor serve`
# (web::serve_blocking) without building the rest of the CLI.
cargo build --release -q -p web --example serve
work=$(mktemp -d)
target/release/examples/serve "127.0.0.1:$PORT" "$work/bench.sqlite3" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/api/explain/4013" >/dev/null 2>&1 && break
    sleep 0.1
done
ulimit -n 4096 2>/dev/null || true

cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("RESULT rps=%.0f requests=%d errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests / (summary.duration / 1e6), summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA
cat "$work/report.lua" >"$work/diagnose.lua"
cat >>"$work/diagnose.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"device": "iPhone X", "error": 4013, "host": "windows_itunes", "tried": ["cable_swap"], "observed": ["recent_drop"], "text": "it stopped at the same point twice"}'
LUA

# Every request different (a per-thread counter in the text): no answer comes from the memo.
cat "$work/report.lua" >"$work/diagnose_unique.lua"
cat >>"$work/diagnose_unique.lua" <<'LUA'
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"device": "iPhone X", "error": 4013, "host": "windows_itunes", "tried": ["cable_swap"], "observed": ["recent_drop"], "text": "it stopped at the same point twice (thread %d request %d)"}', tid, n)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
LUA

run() { # name url script
    local line
    line=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s -s "$3" "$2" | grep '^RESULT')
    printf '%-22s %s\n' "$1" "${line#RESULT }"
    echo "$line" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/' >"$work/$1.p99"
}

echo "restore-doctor web benchmark: $CONNS connections, $THREADS wrk threads, $DURATION each, $(nproc) cores"
run peer_static "http://127.0.0.1:$PORT/static/app.js" "$work/report.lua"
run explain_4013 "http://127.0.0.1:$PORT/api/explain/4013" "$work/report.lua"
run diagnose_same "http://127.0.0.1:$PORT/api/diagnose" "$work/diagnose.lua"
run diagnose_unique "http://127.0.0.1:$PORT/api/diagnose" "$work/diagnose_unique.lua"
peer=$(cat "$work/peer_static.p99")
for n in explain_4013 diagnose_same diagnose_unique; do
    awk -v a="$(cat "$work/$n.p99")" -v b="$peer" -v n="$n" \
        'BEGIN { if (b > 0) printf "%-22s p99 / peer p99 = %.2f\n", n, a / b }'
done
