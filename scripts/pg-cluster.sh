#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local runs, kept in one directory.
#   pg-cluster.sh start DIR   creates the cluster on first use, starts it on a free loopback
#                             port, creates database `polaris`, prints its URI (also DIR/uri)
#   pg-cluster.sh stop DIR    stops it (nothing to do if it is not running)
#   pg-cluster.sh restart DIR stops it (fast: open connections are cut), then starts it again
#                             on the same port if that port is still free; prints the URI
#   pg-cluster.sh status DIR  exits 0 while it runs
# As root, the server runs as the `postgres` system user (initdb and postgres refuse root), so
# DIR and its parents must be reachable by that user. Loopback TCP only: no Unix socket, whose
# path length is limited.
# PG_BIN overrides the server binaries' folder (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|restart|status DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
if [ "$cmd" = start ] || [ "$cmd" = restart ]; then
  mkdir -p "$2"
elif [ ! -d "$2" ]; then
  [ "$cmd" = stop ] && exit 0 || exit 1
fi
DIR=$(cd "$2" && pwd)
DATA=$DIR/data

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/initdb" ] || {
  echo "pg-cluster: no PostgreSQL server binaries (set PG_BIN)" >&2
  exit 1
}

# Runs a server binary as the postgres user when we are root. From / so that it never has
# to read a working directory it may not enter.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

running() {
  [ -f "$DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_free() {  # nothing accepts connections on 127.0.0.1:$1
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {  # the last port used if it is still free, else a random free one
  local p
  if [ -f "$DIR/port" ] && port_free "$(cat "$DIR/port")"; then
    cat "$DIR/port"
    return
  fi
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then
      echo "$p"
      return
    fi
  done
  echo "pg-cluster: no free port found" >&2
  exit 1
}

init_cluster() {
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
    # The server must reach DIR through its parents.
    if ! runuser -u postgres -- test -w "$DIR"; then
      echo "pg-cluster: user postgres cannot write $DIR (check its parents' permissions)" >&2
      exit 1
    fi
  fi
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    exit 1
  }
}

start() {
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DIR"; fi
  local port
  if ! running; then
    local tries=0
    until
      port=$(pick_port) && as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
        -o "-p $port -c unix_socket_directories='' -c listen_addresses=127.0.0.1 -c fsync=on \
            -c max_wal_size=256MB -c checkpoint_timeout=60s" \
        start >/dev/null
    do
      # Most likely another process took the port between the check and the bind.
      tries=$((tries + 1))
      if [ $tries -ge 5 ]; then
        tail -n 20 "$DIR/server.log" >&2
        exit 1
      fi
      rm -f "$DIR/port"
    done
    echo "$port" >"$DIR/port"
  fi
  port=$(cat "$DIR/port")
  for _ in $(seq 1 100); do
    as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
    sleep 0.1
  done
  as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || {
    echo "pg-cluster: server does not accept connections on port $port" >&2
    exit 1
  }
  local exists
  exists=$(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = 'polaris'")
  [ "$exists" = 1 ] || as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres polaris
  local uri="postgres://postgres@127.0.0.1:$port/polaris"
  echo "$uri" >"$DIR/uri"
  echo "$uri"
}

stop() {
  running || return 0
  # A checkpoint while it still serves makes the shutdown's own one short: after a whole test
  # suite, on a busy machine, writing everything at shutdown took longer than pg_ctl waits.
  local port
  port=$(cat "$DIR/port" 2>/dev/null || true)
  if [ -n "$port" ]; then
    as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq -c CHECKPOINT \
      >/dev/null 2>&1 || true
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 120 stop >/dev/null; then
    # Still not down: stop it as a crash would (its next start recovers from the WAL).
    echo "pg-cluster: fast shutdown did not finish; stopping immediately" >&2
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 60 stop >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart)
    stop
    start
    ;;
  status) running ;;
  *) usage ;;
esac
