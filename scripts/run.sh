#!/usr/bin/env bash
# `make run`: install, migrate, load the demo organisation and users, then run the web server,
# a Celery worker and Celery beat together. Ctrl-C stops all three.
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
mkdir -p var/broker/out var/broker/processed var/cache var/media
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A config worker -l warning --concurrency 2 & pids+=($!)
.venv/bin/celery -A config beat -l warning & pids+=($!)
if [ -n "${DATABASE_URL:-}" ]; then db="PostgreSQL"; else db="SQLite (var/db.sqlite3)"; fi
if [ -n "${REDIS_URL:-}" ]; then broker="Redis"; else broker="filesystem broker (var/broker)"; fi
cat <<MSG

  Joint petition reception center is starting on  http://127.0.0.1:$PORT/
  Database: $db; broker: $broker
  Demo logins (password Demo-pass-2026):
    reception, triage, police, procuratorate, court, justice, head, supervisor, leader, archivist, admin
  Health: http://127.0.0.1:$PORT/healthz   Readiness: http://127.0.0.1:$PORT/readyz
  API docs: http://127.0.0.1:$PORT/api/docs/

MSG
$PY manage.py runserver "0.0.0.0:$PORT" --noreload &
pids+=($!)
wait "${pids[-1]}"
