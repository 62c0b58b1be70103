#!/usr/bin/env bash
# `make restore BACKUP=var/backups/<timestamp>`: bring a backup of scripts/backup.sh back.
# The target database (DATABASE_URL) must be empty or absent: it is created when missing, and the
# script refuses to write over a database that already has tables (set RESTORE_FORCE=1 to drop and
# recreate it). The media archive is unpacked into MEDIA_ROOT (default var/media).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SRC="${1:-${BACKUP:-}}"
if [ -z "$SRC" ] || [ ! -f "$SRC/database.dump" ]; then
  echo "usage: scripts/restore.sh var/backups/<timestamp>  (a directory written by scripts/backup.sh)" >&2
  exit 2
fi
if [ -z "${DATABASE_URL:-}" ]; then
  # The embedded default of `make run` (config/embedded_pg.py), with the client tools of its own
  # major version from the same wheel.
  DATABASE_URL="$(.venv/bin/python -m config.embedded_pg url)"
  PATH="$(.venv/bin/python -m config.embedded_pg bin):$PATH"
fi
MEDIA_ROOT="${MEDIA_ROOT:-$ROOT/var/media}"
( cd "$SRC" && sha256sum --quiet -c SHA256SUMS ) || { echo "restore: checksum mismatch in $SRC" >&2; exit 1; }

DB_NAME="${DATABASE_URL##*/}"; DB_NAME="${DB_NAME%%\?*}"
ADMIN_URL="${DATABASE_URL%/*}/postgres"
exists="$(psql "$ADMIN_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
if [ "$exists" = 1 ]; then
  tables="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
  if [ "$tables" != 0 ]; then
    if [ "${RESTORE_FORCE:-0}" != 1 ]; then
      echo "restore: database $DB_NAME is not empty ($tables tables); set RESTORE_FORCE=1 to replace it" >&2
      exit 1
    fi
    psql "$ADMIN_URL" -qc "DROP DATABASE \"$DB_NAME\" WITH (FORCE)"
    exists=0
  fi
fi
[ "$exists" = 1 ] || psql "$ADMIN_URL" -qc "CREATE DATABASE \"$DB_NAME\""
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$SRC/database.dump"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$SRC/media.tar.gz"
echo "restored $SRC into $DB_NAME and $MEDIA_ROOT"
