#!/usr/bin/env bash
# Creates .venv with a Python >= 3.12 (Django 6.1 needs it) and installs the locked packages.
# Re-running is cheap: it reinstalls only when requirements.lock changed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

find_python() {
  local c v
  for c in "${PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$c" ] || continue
    if v=$("$c" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) && [ "$v" = 1 ]; then echo "$c"; return; fi
  done
  for c in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$c" ] && { echo "$c"; return; }
  done
  echo "bootstrap: no Python >= 3.12 found (Django 6.1 needs it); set PYTHON=/path/to/python3.12" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  echo "[bootstrap] creating .venv with $py" >&2
  "$py" -m venv .venv
fi
stamp=.venv/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "[bootstrap] installing requirements.lock" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.9
  .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python -r requirements.lock
  cp requirements.lock "$stamp"
fi
