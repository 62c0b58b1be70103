#!/usr/bin/env bash
# Load test (issue 11), a step of `make bench`: gunicorn and a real Celery worker on localhost over
# their own database (petition_load on DATABASE_URL's server, migrated and seeded with the demo
# organisation), then locust headless with the mixed workload of bench/locustfile.py for
# LOAD_TIME (default 60s) with LOAD_USERS users (default 50) at LOAD_RATE task runs per second each
# (default 4: about 200 requests/s offered). Results: bench/results/<date>-load.json
# and .md (throughput, p50/p95/p99 per request and in total, failures).
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
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/gunicorn config.wsgi -b "127.0.0.1:$PORT" -w "${LOAD_WORKERS:-4}" --access-logfile /dev/null --log-level warning & pids+=($!)
.venv/bin/celery -A config worker -l warning --concurrency 2 & pids+=($!)
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
STAMP="$(date -u +%Y-%m-%d)"
OUT="bench/results/$STAMP-load"
mkdir -p bench/results
.venv/bin/locust -f bench/locustfile.py --headless -u "$LOAD_USERS" -r 10 -t "$LOAD_TIME" \
  --host "http://127.0.0.1:$PORT" --csv "var/load" --only-summary --loglevel WARNING || true
.venv/bin/python bench/load_report.py var/load_stats.csv "$OUT" "$LOAD_USERS" "$LOAD_TIME"
