#!/usr/bin/env bash
# `make test`: everything a fresh clone needs, then lint, type checks and the whole suite on real
# PostgreSQL and Redis (started here when DATABASE_URL / REDIS_URL are not given; stopped at the end).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/bootstrap.sh

# Browser tests drive Debian's Chromium (Playwright's own download does not work offline).
if [ -z "${CHROMIUM_PATH:-}" ]; then
  for c in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do [ -x "$c" ] && CHROMIUM_PATH=$c && break; done
fi
if [ -z "${CHROMIUM_PATH:-}" ]; then
  echo "[test] installing chromium" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROMIUM_PATH=/usr/bin/chromium
fi
export CHROMIUM_PATH

# Notice PDFs embed a CJK TrueType font (core/pdf.py); screenshots need CJK glyphs too.
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && [ -z "${CJK_FONT_PATH:-}" ]; then
  echo "[test] installing fonts-wqy-microhei" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true; \
         $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
fi

started=0
cleanup() { if [ "$started" = 1 ]; then scripts/services.sh stop || true; fi; }
trap cleanup EXIT
if [ -z "${DATABASE_URL:-}" ]; then eval "$(scripts/services.sh start-pg)"; started=1; fi
if [ -z "${REDIS_URL:-}" ]; then eval "$(scripts/services.sh start-redis)"; started=1; fi
export DATABASE_URL REDIS_URL

# Stop with a clear message rather than fall back when a given server cannot be reached.
.venv/bin/python scripts/wait_services.py

echo "[test] lint" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -40; exit 1; }
echo "[test] mypy" >&2
.venv/bin/mypy . 
echo "[test] pytest" >&2
.venv/bin/python -m pytest -p no:randomly --create-db -n "${TEST_WORKERS:-2}" "$@"
