#!/usr/bin/env bash
# `make bench`: the front-desk and list benchmarks of bench/ against a database of N demo cases
# (default 1,000,000; `scripts/bench.sh --cases 100000` for a quicker run; arguments pass through).
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
if [ -z "${DATABASE_URL:-}" ]; then eval "$(scripts/services.sh start-pg)"; started=1; fi
if [ -z "${REDIS_URL:-}" ]; then eval "$(scripts/services.sh start-redis)"; started=1; fi
export DATABASE_URL REDIS_URL

# Stop with a clear message rather than fall back when a given server cannot be reached.
.venv/bin/python scripts/wait_services.py

echo "[bench] running bench/bench_intake.py $*" >&2
.venv/bin/python bench/bench_intake.py "$@"

# The deadline sweep (issue 5): its own database, a million open clocks, 100,000 of them due.
echo "[bench] running bench/bench_sweep.py ${SWEEP_ARGS:-}" >&2
# shellcheck disable=SC2086
.venv/bin/python bench/bench_sweep.py ${SWEEP_ARGS:-}
