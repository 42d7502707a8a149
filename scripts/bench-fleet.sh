#!/usr/bin/env bash
# Fleet benchmark: import a simulated shop history, then build the fleet report from the
# database, each phase as its own process under /usr/bin/time -v (wall time, peak RSS), and score
# the report's flags against the planted faults.
#
#   scripts/bench-fleet.sh                       # 1M attempts, 40 stations, 200 cables, 50k devices, SQLite
#   ATTEMPTS=10000000 scripts/bench-fleet.sh     # the 10M scale run
#   PG=1 scripts/bench-fleet.sh                  # the same against a throwaway PostgreSQL server
#
# It uses the release build of `crates/store/examples/fleet_bench.rs` (the same library code as
# `restore-doctor fleet simulate|report`, built without the rest of the workspace). Prints one JSON
# line. Timings depend on the machine: compare backends within one run.
set -euo pipefail
cd "$(dirname "$0")/.."

ATTEMPTS="${ATTEMPTS:-1000000}"
STATIONS="${STATIONS:-40}"
CABLES="${CABLES:-200}"
DEVICES="${DEVICES:-50000}"
SEED="${SEED:-7413}"

cargo build --release -q -p store --example fleet_bench
BIN="$(pwd)/target/release/examples/fleet_bench"
WORK="$(mktemp -d /tmp/restore-doctor-bench.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  if [ -n "${PG:-}" ]; then PG_TEST_DIR="$WORK/pg" scripts/pg-test-server.sh stop || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${PG:-}" ]; then
  DB="$(PG_TEST_DIR="$WORK/pg" PG_FSYNC=on scripts/pg-test-server.sh start)"
  BACKEND=postgres
else
  DB="$WORK/bench.sqlite3"
  BACKEND=sqlite
fi

seconds() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }

/usr/bin/time -v "$BIN" simulate --db "$DB" --attempts "$ATTEMPTS" --stations "$STATIONS" \
  --cables "$CABLES" --devices "$DEVICES" --seed "$SEED" --truth "$WORK/truth.json" \
  >"$WORK/simulate.json" 2>"$WORK/simulate.time"
/usr/bin/time -v "$BIN" report --db "$DB" --truth "$WORK/truth.json" \
  >"$WORK/report.json" 2>"$WORK/report.time"

jq -c --arg backend "$BACKEND" \
  --argjson sim_wall "$(seconds "$WORK/simulate.time")" --argjson sim_rss "$(rss_mib "$WORK/simulate.time")" \
  --argjson rep_wall "$(seconds "$WORK/report.time")" --argjson rep_rss "$(rss_mib "$WORK/report.time")" \
  --slurpfile sim "$WORK/simulate.json" \
  '{backend: $backend, attempts: $sim[0].attempts, stations: $sim[0].stations, cables: $sim[0].cables,
    devices: $sim[0].devices,
    import_attempts_per_second: ($sim[0].attempts_per_second | floor), import_seconds: $sim[0].seconds,
    simulate_process_wall_seconds: $sim_wall, simulate_peak_rss_mib: $sim_rss,
    report_seconds: .report_seconds, report_read_seconds: .read_seconds, report_fit_seconds: .fit_seconds,
    report_process_wall_seconds: $rep_wall, report_peak_rss_mib: $rep_rss,
    cells: .model.cells, sweeps: .model.sweeps, converged: .model.converged,
    precision: .scores.all.precision, recall: .scores.all.recall,
    per_kind: (.scores | {stations: [.stations.precision, .stations.recall],
                          cables: [.cables.precision, .cables.recall],
                          ports: [.ports.precision, .ports.recall],
                          devices: [.devices.precision, .devices.recall]})}' \
  "$WORK/report.json"
