#!/usr/bin/env bash
# `make backup`: a consistent copy of the database (pg_dump custom format, restorable into an empty
# database with scripts/restore.sh) and of the uploaded files (MEDIA_ROOT), into
# var/backups/<UTC timestamp>/ (or BACKUP_DIR). Prints the directory it wrote.
#   DATABASE_URL  the database to dump (default: the embedded PostgreSQL of `make run`)
#   MEDIA_ROOT    uploaded files (default var/media)
#   BACKUP_ROOT   where backups go (default var/backups)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ -z "${DATABASE_URL:-}" ]; then
  # The embedded default of `make run` (config/embedded_pg.py), with the client tools of its own
  # major version from the same wheel.
  DATABASE_URL="$(.venv/bin/python -m config.embedded_pg url)"
  PATH="$(.venv/bin/python -m config.embedded_pg bin):$PATH"
fi
MEDIA_ROOT="${MEDIA_ROOT:-$ROOT/var/media}"
BACKUP_ROOT="${BACKUP_ROOT:-$ROOT/var/backups}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
DEST="${BACKUP_DIR:-$BACKUP_ROOT/$STAMP}"
mkdir -p "$DEST"
# One snapshot of the whole database (pg_dump runs in a single repeatable-read transaction).
pg_dump --format=custom --no-owner --no-privileges --file="$DEST/database.dump" "$DATABASE_URL"
if [ -d "$MEDIA_ROOT" ]; then
  tar -C "$MEDIA_ROOT" -czf "$DEST/media.tar.gz" .
else
  tar -czf "$DEST/media.tar.gz" --files-from /dev/null
fi
( cd "$DEST" && sha256sum database.dump media.tar.gz > SHA256SUMS )
printf 'created=%s\ndatabase=%s\n' "$STAMP" "${DATABASE_URL%%\?*}" | sed 's#//[^@/]*@#//***@#' > "$DEST/MANIFEST"
echo "$DEST"
