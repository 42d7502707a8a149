#!/usr/bin/env bash
# Fleet benchmark: import a simulated shop history and run `fleet report` on it, each as its own
# process under /usr/bin/time -v, then score the flags against the planted faults.
#
#   scripts/bench-fleet.sh                       # 1M attempts, 40 stations, 200 cables, 50k devices, SQLite
#   ATTEMPTS=10000000 scripts/bench-fleet.sh     # the 10M scale run
#   PG=1 scripts/bench-fleet.sh                  # the same against a throwaway PostgreSQL server
#
# Prints one JSON line per run with import attempts/s, report wall seconds and peak RSS (MiB),
# and precision/recall. Timings depend on the machine: compare backends within one run.
set -euo pipefail
cd "$(dirname "$0")/.."

ATTEMPTS="${ATTEMPTS:-1000000}"
STATIONS="${STATIONS:-40}"
CABLES="${CABLES:-200}"
DEVICES="${DEVICES:-50000}"
SEED="${SEED:-7413}"

cargo build --release -q -p restore-doctor
BIN="$(pwd)/target/release/restore-doctor"
WORK="$(mktemp -d /tmp/restore-doctor-bench.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  if [ -n "${PG:-}" ]; then PG_TEST_DIR="$WORK/pg" scripts/pg-test-server.sh stop || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${PG:-}" ]; then
  DB="$(PG_TEST_DIR="$WORK/pg" scripts/pg-test-server.sh start)"
  BACKEND=postgres
else
  DB="$WORK/bench.sqlite3"
  BACKEND=sqlite
fi

seconds() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }

/usr/bin/time -v "$BIN" fleet simulate --db "$DB" --attempts "$ATTEMPTS" --stations "$STATIONS" \
  --cables "$CABLES" --devices "$DEVICES" --seed "$SEED" --truth "$WORK/truth.json" --json \
  >"$WORK/simulate.json" 2>"$WORK/simulate.time"
/usr/bin/time -v "$BIN" fleet report --db "$DB" --truth "$WORK/truth.json" --json \
  >"$WORK/report.json" 2>"$WORK/report.time"

jq -c --arg backend "$BACKEND" \
  --argjson sim_wall "$(seconds "$WORK/simulate.time")" --argjson sim_rss "$(rss_mib "$WORK/simulate.time")" \
  --argjson rep_wall "$(seconds "$WORK/report.time")" --argjson rep_rss "$(rss_mib "$WORK/report.time")" \
  --slurpfile sim "$WORK/simulate.json" \
  '{backend: $backend, attempts: $sim[0].attempts, stations: $sim[0].stations, cables: $sim[0].cables,
    devices: $sim[0].devices,
    import_attempts_per_second: ($sim[0].attempts_per_second | floor), import_seconds: $sim[0].seconds,
    simulate_process_wall_seconds: $sim_wall, simulate_peak_rss_mib: $sim_rss,
    report_wall_seconds: $rep_wall, report_peak_rss_mib: $rep_rss,
    cells: .model.cells, sweeps: .model.sweeps, converged: .model.converged,
    precision: .scores.all.precision, recall: .scores.all.recall,
    per_kind: (.scores | {stations: {p: .stations.precision, r: .stations.recall},
                          cables: {p: .cables.precision, r: .cables.recall},
                          ports: {p: .ports.precision, r: .ports.recall},
                          devices: {p: .devices.precision, r: .devices.recall}})}' \
  "$WORK/report.json"
