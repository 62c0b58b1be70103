#!/usr/bin/env bash
# `make bench`: the front-desk and list benchmarks of bench/ against a database of N demo cases
# (default 100,000; `scripts/bench.sh --cases 1000000` for the big run; arguments pass through to
# bench/run_all.py).
# Uses DATABASE_URL's server but its own database, petition_bench (created and filled on the first
# run, reused while it holds N cases). PostgreSQL and Redis are started here when DATABASE_URL /
# REDIS_URL are not given, and stopped at the end; the bench database stays in var/pg for next time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/bootstrap.sh

started=0
cleanup() { if [ "$started" = 1 ]; then scripts/services.sh stop || true; fi; }
trap cleanup EXIT
# The bench's own server runs with the settings docker-compose.yml gives a deployment (durable
# commits included), not the test cluster's fsync=off: both we and the peer are measured on them.
export PG_SERVER_OPTS="${PG_SERVER_OPTS:--c shared_buffers=1GB -c effective_cache_size=3GB -c work_mem=16MB -c maintenance_work_mem=256MB -c random_page_cost=1.1 -c effective_io_concurrency=200 -c jit=off -c plan_cache_mode=auto -c max_wal_size=2GB -c checkpoint_timeout=15min -c wal_compression=on}"
pg_own=0
if [ -z "${DATABASE_URL:-}" ]; then eval "$(scripts/services.sh start-pg)"; started=1; pg_own=1; fi
if [ -z "${REDIS_URL:-}" ]; then eval "$(scripts/services.sh start-redis)"; started=1; fi
export DATABASE_URL REDIS_URL

# Stop with a clear message rather than fall back when a given server cannot be reached.
.venv/bin/python scripts/wait_services.py

# Every benchmark side by side (issue 10): intake, pages, reports, sweep and the peer
# (django-helpdesk, var/peer/venv), one server, one machine; writes bench/results/<date>-<N>.json
# and .md. Default 100,000 cases (under 15 minutes on 2 cores); `--cases 1000000` for the big run,
# `--skip peer,reports` to leave stages out.
echo "[bench] running bench/run_all.py $*" >&2
.venv/bin/python bench/run_all.py "$@"

# Load (issue 11): gunicorn + a Celery worker, locust headless with the mixed workload.
echo "[bench] running scripts/bench_load.sh (LOAD_TIME=${LOAD_TIME:-60s})" >&2
# A server started here is the bench's own: the load step pins it beside gunicorn (not a shared one).
LOAD_PIN_PG="${LOAD_PIN_PG:-$pg_own}" scripts/bench_load.sh
