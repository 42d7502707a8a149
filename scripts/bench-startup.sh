#!/usr/bin/env bash
# Start-up cost: `explain 4013 --json` against a bare `--version`, both release builds, run
# alternately N times in the same run. The knowledge base must not be parsed slowly at every
# start: the goal is a ratio of at most 2.
# Usage: scripts/bench-startup.sh [N]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
cargo build --release -q -p restore-doctor
bin=target/release/restore-doctor
"$bin" explain 4013 --json >/dev/null   # warm the page cache

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 20 --runs "$n" "$bin --version" "$bin explain 4013 --json" --export-json target/bench-startup.json >/dev/null
  python3 - <<'PY'
import json
r = json.load(open("target/bench-startup.json"))["results"]
v, e = r[0]["mean"], r[1]["mean"]
print(f"--version            {v*1e3:.3f} ms (hyperfine mean)")
print(f"explain 4013 --json  {e*1e3:.3f} ms")
print(f"ratio                {e/v:.2f}  (goal <= 2)")
PY
  exit 0
fi

# No hyperfine: interleave the two commands and sum the wall time of each.
python3 - "$bin" "$n" <<'PY'
import subprocess, sys, time
binary, n = sys.argv[1], int(sys.argv[2])
cmds = {"version": [binary, "--version"], "explain": [binary, "explain", "4013", "--json"]}
tot = {k: 0.0 for k in cmds}
for _ in range(n):
    for k, c in cmds.items():
        t = time.perf_counter(); subprocess.run(c, stdout=subprocess.DEVNULL, check=True); tot[k] += time.perf_counter() - t
v, e = tot["version"] / n, tot["explain"] / n
print(f"--version            {v*1e3:.3f} ms (mean of {n})")
print(f"explain 4013 --json  {e*1e3:.3f} ms")
print(f"ratio                {e/v:.2f}  (goal <= 2)")
PY
