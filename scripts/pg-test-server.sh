#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server for restore-doctor's tests.
#
#   scripts/pg-test-server.sh start   # prints postgres://USER@127.0.0.1:PORT/postgres
#   scripts/pg-test-server.sh stop
#
# For fault tests (the store and web tests run these on a throwaway cluster of their own,
# with PG_TEST_DIR set):
#   scripts/pg-test-server.sh crash    # pg_ctl stop -m immediate (like a power cut)
#   scripts/pg-test-server.sh restart  # start it again on the same port
#   scripts/pg-test-server.sh pause    # SIGSTOP the postmaster: connections hang
#   scripts/pg-test-server.sh resume   # SIGCONT
#
# The cluster lives in $PG_TEST_DIR (default /tmp/restore-doctor-pg), listens on a free loopback
# port, trusts local connections and runs as a non-root user (the `postgres` system user when
# the script runs as root); fsync is off unless PG_FSYNC=on (benchmarks). When no PostgreSQL server binaries are installed, the Debian package
# `postgresql` is installed with apt-get.
set -euo pipefail

DIR="${PG_TEST_DIR:-/tmp/restore-doctor-pg}"
cmd="${1:-}"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return 0; fi
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

owner_name() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_start() {
  as_owner "'$1/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -o \"-h 127.0.0.1 -p $2 -k '$DIR' -c fsync=${PG_FSYNC:-off} -c max_connections=200\" start >/dev/null"
}

postmaster_pid() {
  head -1 "$DIR/data/postmaster.pid"
}

case "$cmd" in
  start)
    if ! BIN="$(find_bin)"; then
      echo "PostgreSQL server binaries not found; installing the Debian package postgresql" >&2
      export DEBIAN_FRONTEND=noninteractive
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq >&2
      $SUDO apt-get install -y -qq postgresql >&2
      BIN="$(find_bin)"
    fi
    if [ -f "$DIR/url" ] && as_owner "'$BIN/pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
      cat "$DIR/url"; exit 0
    fi
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    PORT="$(free_port)"
    as_owner "'$BIN/initdb' -D '$DIR/data' -U '$(owner_name)' --auth=trust --no-sync -E UTF8 >'$DIR/initdb.log' 2>&1"
    echo "$PORT" > "$DIR/port"
    pg_start "$BIN" "$PORT"
    URL="postgres://$(owner_name)@127.0.0.1:$PORT/postgres"
    echo "$URL" > "$DIR/url"
    echo "$URL"
    ;;
  stop)
    if BIN="$(find_bin)" && [ -d "$DIR/data" ]; then
      as_owner "'$BIN/pg_ctl' -D '$DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    ;;
  crash)
    BIN="$(find_bin)"
    as_owner "'$BIN/pg_ctl' -D '$DIR/data' -m immediate -w stop" >/dev/null
    ;;
  restart)
    BIN="$(find_bin)"
    pg_start "$BIN" "$(cat "$DIR/port")"
    ;;
  pause)
    kill -STOP "$(postmaster_pid)"
    ;;
  resume)
    kill -CONT "$(postmaster_pid)"
    ;;
  *)
    echo "usage: $0 start|stop|crash|restart|pause|resume" >&2; exit 2 ;;
esac
