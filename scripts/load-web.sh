#!/usr/bin/env bash
# Load test of `restore-doctor serve` on loopback with wrk (issue 16), against a release build
# of the server (`web::serve_blocking` through the web crate's example, what `serve` runs) with
# a fresh SQLite file. Three figures:
#
#  1. variety: POST /api/diagnose, a different body on every request (every device the server
#     knows × every documented code × subsets of the `tried` vocabulary, some observations and
#     hosts), $CONNS connections for $DURATION. Goal: p99 <= 20 ms, 0 errors.
#  2. heavy: GET /api/explain/4013 on $EXPLAIN_CONNS connections while $HEAVY_CONNS other
#     connections send the heaviest diagnose the limits allow (20,000 characters of free text,
#     64 tried, 64 observed, every question answered; each one different, so none is answered
#     from the memo).
#     Goal: explain p99 <= 20 ms. The heavy requests' own latency is printed too.
#  3. memory: the server's resident memory before, at its peak and after the runs. Goal: back
#     under 100 MB.
#
#   scripts/load-web.sh                          # 15 s each, 200 connections
#   DURATION=5s CONNS=100 scripts/load-web.sh
#   SERVE_BIN=/tmp/old/target/release/examples/serve scripts/load-web.sh   # compare a build
#
# wrk is installed from Debian when it is missing. The machine's other work shows in the
# figures: run it on a quiet machine and more than once before believing a number.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNS=${CONNS:-200}
THREADS=${THREADS:-2}
HEAVY_CONNS=${HEAVY_CONNS:-8}
EXPLAIN_CONNS=${EXPLAIN_CONNS:-20}
PORT=${PORT:-7423}

if ! command -v wrk >/dev/null; then
    echo "load-web: installing wrk (Debian package)" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >&2
fi

# SERVE_BIN: another build of the same example to compare (e.g. of an older commit).
if [ -z "${SERVE_BIN:-}" ]; then
    cargo build --release -q -p web --example serve
    SERVE_BIN=target/release/examples/serve
fi
work=$(mktemp -d)
ulimit -n 4096 2>/dev/null || true
"$SERVE_BIN" "127.0.0.1:$PORT" "$work/load.sqlite3" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$PORT/api/explain/4013" >/dev/null 2>&1 && break
    sleep 0.1
done

rss() { awk -v k="$1:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$server/status"; }
# CPU seconds the server has used (user + system): per request, a figure other load on the
# machine does not change much.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$server/stat"; }

# The server's own lists: every device and every documented code, as Lua tables.
curl -fs "http://127.0.0.1:$PORT/api/devices" >"$work/devices.json"
curl -fs "http://127.0.0.1:$PORT/api/codes" >"$work/codes.json"
curl -fs "http://127.0.0.1:$PORT/api/openapi.json" >"$work/openapi.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
devices = [d["product_type"] for d in json.load(open(f"{work}/devices.json"))["devices"]]
codes = [c["code"] for c in json.load(open(f"{work}/codes.json"))["codes"] if isinstance(c.get("code"), int)]
api = json.load(open(f"{work}/openapi.json"))
props = api["components"]["schemas"]["DiagnoseRequest"]["properties"]
tried = props["tried"]["items"]["enum"]
hosts = [h for h in props["host"]["enum"] if h]
lua = lambda xs: "{" + ", ".join(json.dumps(x) for x in xs) + "}"
with open(f"{work}/data.lua", "w") as f:
    f.write(f"devices = {lua(devices)}\ncodes = {lua(codes)}\ntried_words = {lua(tried)}\nhosts = {lua(hosts)}\n")
print(f"   {len(devices)} devices x {len(codes)} codes x {2 ** len(tried)} tried subsets")
PY

cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("RESULT rps=%.0f requests=%d errors=%d (status %d, timeout %d) p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests / (summary.duration / 1e6), summary.requests, errors, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
  thread:set("nthreads", tonumber(os.getenv("WRK_THREADS") or "2"))
end
LUA

# 1. A different body on every request: request m of the run (over all threads) picks device
#    m mod D, code (m / D) mod C and the tried subset numbered m / (D*C) (scrambled), so no two
#    requests of a run are the same.
{ cat "$work/data.lua" "$work/report.lua"; cat <<'LUA'
local observations = {"recent_drop", "liquid_exposure=no", "same_failure_point", "boot_loop=no", "detected_in_dfu"}
local n = 0
request = function()
  local m = n * nthreads + (tid - 1)
  n = n + 1
  local D, C = #devices, #codes
  local device = devices[m % D + 1]
  local code = codes[math.floor(m / D) % C + 1]
  local subset = math.floor(m / (D * C))
  subset = (subset * 40503 + 12345) % (2 ^ #tried_words)
  local tried = {}
  for i = 1, #tried_words do
    if math.floor(subset / 2 ^ (i - 1)) % 2 == 1 and #tried < 5 then
      tried[#tried + 1] = '"' .. tried_words[i] .. '"'
    end
  end
  local observed = {}
  if m % 3 == 0 then observed[#observed + 1] = '"' .. observations[m % #observations + 1] .. '"' end
  local host = hosts[m % #hosts + 1]
  local body = string.format('{"device": "%s", "error": %d, "host": "%s", "tried": [%s], "observed": [%s]}',
    device, code, host, table.concat(tried, ", "), table.concat(observed, ", "))
  return wrk.format("POST", "/api/diagnose", {["Content-Type"] = "application/json"}, body)
end
LUA
} >"$work/variety.lua"

# 2. The heaviest diagnose the limits allow, different every time.
{ cat "$work/data.lua" "$work/report.lua"; cat <<'LUA'
local sentence = "my iphone 8 plus fails with error 4013 at the same percentage in itunes on windows, tried two cables and another usb port, it was dropped last week and the screen was replaced, now it shows the cable logo and boot loops. "
local text = string.rep(sentence, math.floor(19000 / #sentence))
local function list(words, n)
  local out = {}
  for i = 1, n do out[i] = '"' .. words[(i - 1) % #words + 1] .. '"' end
  return table.concat(out, ", ")
end
local tried = list(tried_words, 64)
local observed = list({"recent_drop", "liquid_exposure=no", "same_failure_point", "boot_loop", "recent_repair", "attempts=3"}, 64)
-- Every question of the stable --observed vocabulary answered (the most the engine takes).
local questions = {"liquid_exposure", "recent_drop", "recent_repair", "speaker_greyed_out", "no_service",
  "face_id_broken", "true_tone_missing", "boot_loop", "not_detected", "detected_in_dfu",
  "detected_in_recovery", "same_failure_point", "error_varies", "works_with_earpiece_flex_disconnected",
  "low_storage", "battery_dead", "charging_problem", "old_host_software", "update_interrupted",
  "hub_or_adapter", "port_debris", "downgrade_attempt", "device_locked"}
local answers = {}
for i, q in ipairs(questions) do answers[i] = string.format('"%s": "%s"', q, (i % 2 == 0) and "yes" or "no") end
answers = table.concat(answers, ", ")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"device": "iPhone 8 Plus", "error": 4013, "host": "windows_itunes", "tried": [%s], "observed": [%s], "answers": {%s}, "text": "%s (%d-%d)"}',
    tried, observed, answers, text, tid, n)
  return wrk.format("POST", "/api/diagnose", {["Content-Type"] = "application/json"}, body)
end
LUA
} >"$work/heavy.lua"
cp "$work/report.lua" "$work/explain.lua"

check() { # script: one request must answer 200
    local status
    status=$(WRK_THREADS=1 wrk -t1 -c1 -d1s -s "$1" "http://127.0.0.1:$PORT/" 2>&1 | grep -c 'Non-2xx' || true)
    if [ "$status" != 0 ]; then
        echo "load-web: $1 gets non-2xx answers:" >&2
        WRK_THREADS=1 wrk -t1 -c1 -d1s -s "$1" "http://127.0.0.1:$PORT/" >&2 || true
    fi
}
check "$work/variety.lua"
check "$work/heavy.lua"

echo "restore-doctor web load: $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), server pid $server, rss $(rss VmRSS) MB after warm-up"
cpu0=$(cpu)
line=$(WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency \
    -s "$work/variety.lua" "http://127.0.0.1:$PORT/" | grep '^RESULT')
cpu1=$(cpu)
requests=$(echo "$line" | sed -E 's/.*requests=([0-9]+).*/\1/')
printf '1. variety  %-4s conns %s\n' "$CONNS" "${line#RESULT }"
awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" \
    'BEGIN {printf "   server CPU %.1f s, %.0f us per request\n", b - a, (b - a) / n * 1e6}'

WRK_THREADS=1 wrk -t1 -c"$HEAVY_CONNS" -d"$DURATION" --timeout 10s -s "$work/heavy.lua" \
    "http://127.0.0.1:$PORT/" >"$work/heavy.out" &
heavy=$!
sleep 1
line=$(WRK_THREADS=1 wrk -t1 -c"$EXPLAIN_CONNS" -d"$DURATION" --timeout 5s -s "$work/explain.lua" \
    "http://127.0.0.1:$PORT/api/explain/4013" | grep '^RESULT')
wait "$heavy"
printf '2. explain  %-4s conns %s\n' "$EXPLAIN_CONNS" "${line#RESULT }"
printf '   heavy    %-4s conns %s\n' "$HEAVY_CONNS" "$(grep '^RESULT' "$work/heavy.out" | sed 's/^RESULT //')"

sleep 3
echo "3. memory   peak $(rss VmHWM) MB, after $(rss VmRSS) MB"
