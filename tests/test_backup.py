"""Backups (issue 11): scripts/backup.sh (`make backup`) writes a pg_dump custom-format dump and
the media files; scripts/restore.sh (`make restore`) brings them back into an empty database.
The test backs up the (committed) test database, restores it into a fresh database and compares
the case count and one case's history, events and attachment file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from closure.testing import bring_to_replied
from petitions.models import Attachment, Case, CaseEvent
from petitions.testing import register
from tests.security.conftest import _attach

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _admin_exec(sql: str) -> None:
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres",
        user=s["USER"],
        password=s.get("PASSWORD") or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def test_backup_and_restore_into_an_empty_database(cast, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    replied = bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )
    _attach(cast["reception"], replied.case)
    register(cast["county_reception"])
    case = replied.case
    attachment = Attachment.objects.get(case=case)
    history = list(case.history.order_by("history_id").values_list("state", "version"))
    events = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))
    count = Case.objects.count()

    source = connection.settings_dict["NAME"]
    target = f"{source}_restore"
    _admin_exec(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    env = {
        **os.environ,
        "DATABASE_URL": _url(source),
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "BACKUP_ROOT": str(tmp_path / "backups"),
    }
    made = subprocess.run(
        [ROOT / "scripts/backup.sh"], env=env, capture_output=True, text=True, check=True
    )
    backup = Path(made.stdout.strip().splitlines()[-1])
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"  # custom format
    assert (backup / "media.tar.gz").exists() and (backup / "SHA256SUMS").exists()

    restored_media = tmp_path / "restored-media"
    env = {**os.environ, "DATABASE_URL": _url(target), "MEDIA_ROOT": str(restored_media)}
    try:
        subprocess.run(
            [ROOT / "scripts/restore.sh", str(backup)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        # A second restore over the now non-empty database is refused.
        again = subprocess.run(
            [ROOT / "scripts/restore.sh", str(backup)], env=env, capture_output=True, text=True
        )
        assert again.returncode != 0 and "not empty" in again.stderr

        s = connection.settings_dict
        conn = psycopg2.connect(
            dbname=target,
            user=s["USER"],
            password=s.get("PASSWORD") or None,
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
        )
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {Case._meta.db_table}")
            assert cur.fetchone()[0] == count
            history_table = case.history.model._meta.db_table
            cur.execute(
                f"SELECT state, version FROM {history_table} WHERE id = %s ORDER BY history_id",
                [case.pk],
            )
            assert cur.fetchall() == history
            cur.execute(
                f"SELECT kind FROM {CaseEvent._meta.db_table} WHERE case_id = %s ORDER BY id",
                [case.pk],
            )
            assert [r[0] for r in cur.fetchall()] == events
        conn.close()
        restored_file = restored_media / attachment.file.name
        assert restored_file.read_bytes() == b"%PDF-1.4\n%%EOF\n"
    finally:
        _admin_exec(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
