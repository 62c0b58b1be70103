"""Messages to the petitioner with a real Celery worker killed (SIGKILL) while sending (issue 20,
"Done when": the test backend shows each message once, after commit, even with the worker killed
and restarted).

Six cases are registered, each queuing its receipt; each commit kicks ``send_messages``. A real
``celery worker`` process takes the first kick and claims the six messages as one batch; its
backend (outreach.tests.sms_slow.SlowFileBackend) writes each message's file, notes the call in
a journal and sleeps, so the worker is killed between two sends: some files are written, no row
is marked sent (rows are marked once the batch is through). A second worker takes over: the
killed worker's claim runs out (its lease, SMS_CLAIM_LEASE_SECONDS, 3 s here), beat's kick (sent
here by the test) sends the batch again, and the backend, idempotent by dedupe key, writes no
file twice. At the end: every row sent, one file per message with the text first written, one
``message_sent`` event per case, and the number in no log line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from core import pii
from outreach.models import Message, MessageState
from outreach.sms.filebased import file_name
from outreach.tasks import send_messages
from outreach.tests.sms_slow import journal_path
from petitions.models import CaseEvent
from petitions.testing import register

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 6
DELAY_MS = 800  # after each send: the kill lands between two sends
LEASE_SECONDS = 3
APPLICATION_NAME = "sms-killed-worker"
PHONE = "13812345678"


def wait_for(predicate, timeout=30.0, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def database_url() -> str:
    """This test's database (not the one in DATABASE_URL); the worker's connections named."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}?application_name={APPLICATION_NAME}"


def start_worker_process(log: Path, sms_dir: Path, name: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CELERY_BROKER_URL,
        SMS_BACKEND="outreach.tests.sms_slow.SlowFileBackend",
        SMS_FILE_PATH=str(sms_dir),
        SMS_TEST_SEND_DELAY_MS=str(DELAY_MS),
        SMS_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="INFO",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname={name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def worker_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def clear_broker() -> None:
    """The sender's queue (notifications: config.settings CELERY_TASK_ROUTES), the default one
    and the store of unacknowledged messages of this Redis database (the test's own), so nothing
    of an earlier run reaches these workers and nothing outlives it."""
    with celery_app.connection_for_write() as conn:
        for queue in ("notifications", "celery"):
            conn.default_channel.queue_purge(queue)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete("unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@pytest.fixture
def workers(tmp_path):
    """Starts workers on demand; kills whatever is still running at the end."""
    clear_broker()
    started: list[subprocess.Popen] = []
    sms_dir = tmp_path / "sms"
    log = tmp_path / "worker.log"

    def start(name: str) -> subprocess.Popen:
        proc = start_worker_process(log, sms_dir, name)
        started.append(proc)
        return proc

    yield start, sms_dir, log
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    clear_broker()


def journal(sms_dir: Path) -> list[str]:
    path = journal_path(sms_dir)
    return path.read_text().split() if path.exists() else []


def test_a_worker_killed_while_sending_each_message_shows_once_and_every_row_ends_sent(
    workers, cast
):
    start, sms_dir, log = workers
    # Six registrations, each committed on its own: six receipts queued, six kicks published
    # (before the worker starts, so that its first kick claims all six as one batch).
    registrations = [register(cast["reception"]) for _ in range(MESSAGES)]
    first = start("sms-killed")
    rows = Message.objects.filter(case__in=[r.case for r in registrations])
    assert rows.count() == MESSAGES
    assert set(rows.values_list("state", flat=True)) == {MessageState.QUEUED}
    keys = sorted(rows.values_list("dedupe_key", flat=True))

    # The first worker sends two and sleeps before the third: kill it, no goodbye.
    assert wait_for(lambda: len(journal(sms_dir)) >= 2, timeout=90), log.read_text()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert wait_for(lambda: worker_backends() == 0)
    sent_before_kill = journal(sms_dir)
    print(f"killed after {len(sent_before_kill)} of {MESSAGES} sends")
    assert 2 <= len(sent_before_kill) < MESSAGES
    assert len(list(sms_dir.glob("*.json"))) == len(sent_before_kill)
    # The batch was not through: no row is marked sent, none is lost.
    assert set(rows.values_list("state", flat=True)) == {MessageState.QUEUED}

    # A second worker; once the dead worker's claim has run out, beat's kick sends the batch.
    start("sms-restarted")
    time.sleep(LEASE_SECONDS + 0.5)
    send_messages.apply_async()
    done = lambda: rows.filter(state=MessageState.SENT).count() == MESSAGES  # noqa: E731
    assert wait_for(done, timeout=90), log.read_text()

    # Each message shows once: one file per key, its text the message's, although the backend
    # was called again for the ones sent before the kill.
    files = sorted(p.name for p in sms_dir.glob("*.json"))
    assert files == sorted(file_name(k) for k in keys)
    calls = journal(sms_dir)
    assert sorted(set(calls)) == keys
    assert len(calls) == MESSAGES + len(sent_before_kill)  # the resent ones, shown once
    for message in rows:
        written = json.loads((sms_dir / file_name(message.dedupe_key)).read_text())
        assert written["text"] == pii.decrypt(message.body_enc)
        assert message.attempts == 1 and message.sent_at is not None
    # One timeline event per message, masked.
    events = CaseEvent.objects.filter(kind="message_sent", case__in=[r.case for r in registrations])
    assert sorted(events.values_list("data__message", flat=True)) == sorted(
        rows.values_list("pk", flat=True)
    )
    assert not events.filter(message__contains=PHONE)
    # The number is in no log line of either worker.
    assert PHONE not in log.read_text()
    assert "messages: sent=" in log.read_text()
