#!/usr/bin/env bash
# Run every test of restore-doctor, on a fresh machine too.
#
# Installs and starts what the tests need, and stops it afterwards:
#   - a throwaway PostgreSQL server on a free loopback port (the store's tests run against it
#     and against SQLite); its URL is exported as RESTORE_DOCTOR_TEST_PG;
#   - Debian's chromium and chromium-driver for the web UI's browser tests;
#   - tmux, which drives the interactive wizard through a real terminal in its tests.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p kb`).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
if ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if ! command -v chromedriver >/dev/null 2>&1; then need_apt+=(chromium-driver); fi
if ! command -v tmux >/dev/null 2>&1; then need_apt+=(tmux); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -x scripts/pg-test-server.sh ]; then
  echo "== starting a throwaway PostgreSQL server"
  RESTORE_DOCTOR_TEST_PG="$(scripts/pg-test-server.sh start)"
  export RESTORE_DOCTOR_TEST_PG
  trap 'scripts/pg-test-server.sh stop >/dev/null 2>&1 || true' EXIT
  echo "   $RESTORE_DOCTOR_TEST_PG"
fi
if command -v chromedriver >/dev/null 2>&1; then
  export RESTORE_DOCTOR_CHROMEDRIVER="${RESTORE_DOCTOR_CHROMEDRIVER:-$(command -v chromedriver)}"
  export RESTORE_DOCTOR_CHROMIUM="${RESTORE_DOCTOR_CHROMIUM:-$(command -v chromium)}"
fi

echo "== cargo test --workspace"
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
