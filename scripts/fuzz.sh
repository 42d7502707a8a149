#!/usr/bin/env bash
# Run every restore-log fuzz target for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# Needs a nightly toolchain and cargo-fuzz (installed here from crates.io if missing).
# Targets (fuzz/fuzz_targets/): idevicerestore, futurerestore, restored, apple, wrapper
# (one per format parser), identity (product types, boards, IPSW and blob names in any
# format), prefixes (normalisation + prefix stripping + dispatch), analyzer (the whole
# streaming pipeline, also checking that chunking never changes the result) and corpus (the
# `bench logs` scoring: a labelled line found in a log and judged against the reading).
# Crashes land in fuzz/artifacts/<target>/; reproduce with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
SECONDS_PER_TARGET="${1:-60}"
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: a nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
TARGETS="idevicerestore futurerestore restored apple wrapper identity prefixes analyzer corpus"
for t in $TARGETS; do
    mkdir -p "fuzz/corpus/$t"
    # Seed every corpus with the fixtures: realistic lines of every format.
    cp -n crates/logs/tests/fixtures/*.log "fuzz/corpus/$t/" 2>/dev/null || true
    echo "== fuzz $t for ${SECONDS_PER_TARGET}s"
    (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=1024 -print_final_stats=1) \
        2>&1 | grep -E "^(== |Done|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|==[0-9]+== ERROR|thread .* panicked)" || true
    if ls "fuzz/artifacts/$t"/crash-* >/dev/null 2>&1; then
        echo "scripts/fuzz.sh: $t found a crash: fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
echo "all fuzz targets ran ${SECONDS_PER_TARGET}s without a crash"
