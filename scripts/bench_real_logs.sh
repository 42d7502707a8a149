#!/usr/bin/env bash
# Log-reader speed on the logs people actually paste: a ~400 MB file made by repeating the real
# logs of ../shared/logs/real (whole, in name order), read by `logs` (reader threads and one
# thread, in child processes, peak memory VmHWM) and, in the same run, by ripgrep counting the
# lines that match any of five patterns (CHECKPOINT, ERROR, Status:, operation [0-9]+,
# \([0-9]+\)$). Best of --runs each; prints wall and CPU time, MB/s and the ratios. Goals: at
# most 2.0x ripgrep's wall time with reader threads, peak memory under 100 MB. Nothing here is
# asserted: the machine's speed varies, so only ratios from one run mean anything.
# Last measured (2026-12, 2 vCPUs, load about 2): 0.73-0.77 s wall with reader threads against
# ripgrep's 0.17-0.18 s (4.1-4.3x); peak memory 25 MB. After the next round (the scan's own
# table, four walkers; alternating with the build before under load 2.5-5): -7 to -13 % CPU;
# in a quiet window 0.69 s against 0.18 s (3.9x). Second round (branch logspeed2, 2026-12,
# 2 vCPUs, load 1-3, alternating with the build before it): 0.62-0.65 s wall, 1.20-1.28 s CPU
# against ripgrep's 0.16-0.17 s (3.80-3.95x; the build before 3.90-4.17x in the same runs);
# one thread 1.13-1.23 s; peak memory 25-26 MB. See the README's Benchmarks section.
#
#   scripts/bench_real_logs.sh [SIZE_MB] [DIR]      (default 400, ../shared/logs/real)
#
# Installs ripgrep from the distribution (apt-get) if it is missing. Release build.
set -euo pipefail
SIZE_MB="${1:-400}"
cd "$(dirname "$0")/.."
DIR="${2:-$(cd .. && pwd)/shared/logs/real}"
if [ ! -d "$DIR" ]; then
    echo "scripts/bench_real_logs.sh: $DIR not found (the shared real logs sit beside the checkout)" >&2
    exit 2
fi
if ! command -v rg >/dev/null 2>&1; then
    (apt-get install -y ripgrep || (apt-get update && apt-get install -y ripgrep)) >/dev/null
fi
# A file built from another directory or size must not be reused.
FILE="${TMPDIR:-/tmp}/restore-doctor-bench-real-${SIZE_MB}mb-$(echo "$DIR" | cksum | cut -d' ' -f1).log"
cargo run --release -p logs --example bench -- --size-mb "$SIZE_MB" --from "$DIR" --five \
    --file "$FILE" --runs 3
