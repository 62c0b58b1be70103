#!/usr/bin/env bash
# Load test (issue 11), a step of `make bench`: gunicorn and a real Celery worker on localhost over
# their own database (petition_load on DATABASE_URL's server, migrated and seeded with the demo
# organisation; LOAD_DB names another, e.g. a copy of a filled bench database), then locust
# headless with the mixed workload of bench/locustfile.py for LOAD_TIME (default 60s) with
# LOAD_USERS users (default 50) at LOAD_RATE task runs per second each (default 4: about 200
# requests/s offered). Results: bench/results/<date>-load.json and .md (throughput, p50/p95/p99 per
# request and in total, failures, and the server's CPU per request: issue 21 §4).
# Server CPU: bench/load_report.py samples /proc beside locust (gunicorn workers, the Celery
# worker, the PostgreSQL backends of the load database) and divides by the requests served.
# Pinning (when `taskset` exists and there are >= 2 CPUs): locust runs alone on the last CPU,
# gunicorn and the worker on the others; LOAD_PIN_PG=1 also pins a local PostgreSQL server's
# postmaster and backends to the server CPUs for the run (scripts/bench.sh sets it when it started
# its own server; a shared server is left alone). LOAD_PIN=0 turns pinning off.
# Locust is a bench-only tool: installed here, pinned, not in requirements.lock.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
: "${DATABASE_URL:?DATABASE_URL is required}" "${REDIS_URL:?REDIS_URL is required}"
.venv/bin/python -c "import locust" 2>/dev/null || .venv/bin/uv pip install --python .venv/bin/python -q locust==2.47.0
LOAD_TIME="${LOAD_TIME:-60s}"; LOAD_USERS="${LOAD_USERS:-50}"; PORT="${LOAD_PORT:-8011}"
export DATABASE_URL="${DATABASE_URL%/*}/${LOAD_DB:-petition_load}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
# As deployed: DEBUG off (local settings default it on, which keeps every query in memory).
export DEBUG="${DEBUG:-false}" ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
DB_NAME="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
  || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$DB_NAME\""
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/python manage.py collectstatic --noinput -v0 >/dev/null 2>&1 || true
pids=()
pg_pinned=()
ALL_CPUS="0-$(( $(nproc) - 1 ))"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for p in "${pg_pinned[@]}"; do taskset -p -c "$ALL_CPUS" "$p" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT INT TERM

# CPU pinning: locust on the last CPU, the server on the others (the report says which).
SERVER_RUN=(); LOCUST_RUN=()
LOAD_PINNING="not pinned: locust shares the cores with the server"
if [ "${LOAD_PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  LOCUST_CPU="$(( $(nproc) - 1 ))"; SERVER_CPUS="0-$(( LOCUST_CPU - 1 ))"
  SERVER_RUN=(taskset -c "$SERVER_CPUS"); LOCUST_RUN=(taskset -c "$LOCUST_CPU")
  LOAD_PINNING="locust on CPU $LOCUST_CPU, gunicorn and the Celery worker on CPU $SERVER_CPUS"
  if [ "${LOAD_PIN_PG:-0}" = 1 ]; then
    # The postmaster and its processes now; backends forked later inherit the mask.
    datadir="$(psql "$DATABASE_URL" -Atc 'SHOW data_directory' 2>/dev/null || true)"
    postmaster="$(head -1 "$datadir/postmaster.pid" 2>/dev/null || true)"
    if [ -n "$postmaster" ] && taskset -p -c "$SERVER_CPUS" "$postmaster" >/dev/null 2>&1; then
      pg_pinned+=("$postmaster")
      for c in $(cat /proc/"$postmaster"/task/*/children 2>/dev/null); do
        taskset -p -c "$SERVER_CPUS" "$c" >/dev/null 2>&1 && pg_pinned+=("$c")
      done
      LOAD_PINNING="$LOAD_PINNING and PostgreSQL on CPU $SERVER_CPUS"
    else
      LOAD_PINNING="$LOAD_PINNING; PostgreSQL not pinned (not a local server we may pin)"
    fi
  else
    LOAD_PINNING="$LOAD_PINNING; PostgreSQL not pinned (a shared server: LOAD_PIN_PG=1 pins it)"
  fi
fi
export LOAD_PINNING

"${SERVER_RUN[@]}" .venv/bin/gunicorn config.wsgi -b "127.0.0.1:$PORT" -w "${LOAD_WORKERS:-4}" \
  --access-logfile /dev/null --log-level warning & gunicorn_pid=$!; pids+=("$gunicorn_pid")
"${SERVER_RUN[@]}" .venv/bin/celery -A config worker -l warning --concurrency 2 & worker_pid=$!
pids+=("$worker_pid")
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
# Every worker past its first request before the CPU window opens (LOAD_WARMUP adds more).
for _ in $(seq 16); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || true; done
STAMP="$(date -u +%Y-%m-%d)"
OUT="bench/results/$STAMP-load"
mkdir -p bench/results var
rm -f var/load_cpu.json
# The sampler reads /proc beside locust, pinned with it (its own CPU is not the server's).
"${LOCUST_RUN[@]}" .venv/bin/python bench/load_report.py sample var/load_cpu.json \
  --gunicorn "$gunicorn_pid" --worker "$worker_pid" --db "$DB_NAME" --delay "${LOAD_WARMUP:-10}" &
sampler_pid=$!
pids+=("$sampler_pid")
"${LOCUST_RUN[@]}" .venv/bin/locust -f bench/locustfile.py --headless -u "$LOAD_USERS" -r 10 \
  -t "$LOAD_TIME" --host "http://127.0.0.1:$PORT" --csv "var/load" --only-summary \
  --loglevel WARNING || true
kill -TERM "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
.venv/bin/python bench/load_report.py report var/load_stats.csv "$OUT" "$LOAD_USERS" "$LOAD_TIME" \
  var/load_cpu.json
