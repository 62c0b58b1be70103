"""Faults (issue 11): a Celery worker killed (SIGKILL) in the middle of the deadline sweep.

The sweep commits batch by batch (clocks.sweep), and its task is acknowledged late (settings): a
worker that dies mid-sweep leaves the committed batches done and the message unacknowledged. Here a
real worker process runs the sweep over 60 overdue clocks in batches of 10, pausing after each batch
(SWEEP_BATCH_PAUSE_MS), and is killed with SIGKILL once some batches are committed. A second worker
gets the same message back (a short visibility timeout stands in for the hour of production) and
finishes the sweep: every clock changed exactly once, one history row, one event of each kind and one
outbox row of each kind per clock, the counts the two runs report add up to 60, and a third run
changes nothing."""

import logging
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import pools

from clocks.models import WINDOW_KINDS, Deadline, Notification, NotificationKind, WarningLevel
from clocks.tasks import run_deadline_checks
from config.celery import app as celery_app
from petitions.models import CaseEvent
from petitions.testing import register

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CLOCKS = 60
BATCH = 10
QUEUE = "sweep-worker-kill-test"
APPLICATION_NAME = "sweep-killed-worker"
PAUSE_MS = 1000  # after each batch: the kill lands between two commits, not mid-statement
DONE_LINE = re.compile(
    r"deadline sweep done: levels_changed=(\d+) escalated=(\d+) windows_closed=(\d+) \(task (\S+)\)"
)


def wait_for(predicate, timeout=30.0, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def database_url() -> str:
    """This test's database (the test database, not the one in DATABASE_URL); the worker's
    connections are named, to be told apart from any other."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}?application_name={APPLICATION_NAME}"


def start_worker_process(log: Path) -> subprocess.Popen:
    """A real `celery worker` process on this test's database and Redis database (under
    pytest-xdist each worker has its own of both; the child must not remap them again), taking
    only the test's queue, in batches of 10 with a pause after each."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CELERY_BROKER_URL,
        SWEEP_BATCH_SIZE=str(BATCH),
        SWEEP_BATCH_PAUSE_MS=str(PAUSE_MS),
        LOG_LEVEL="INFO",
    )
    with log.open("wb") as out:
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
                f"--queues={QUEUE}",
                "--hostname=sweep-killed@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def worker_backends() -> int:
    """The worker process's connections to this test database still open on the server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def clear_broker() -> None:
    """Empty the test's queue and this Redis database's store of unacknowledged messages (a
    test's own: under pytest-xdist each worker has its own Redis database), so nothing of an
    earlier run reaches these workers and nothing of this one outlives it."""
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete("unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@contextmanager
def visibility_timeout(seconds: int):
    """The broker gives an unacknowledged message to another worker after ``seconds`` (an hour in
    production, CELERY_VISIBILITY_TIMEOUT): fresh connection pools both ways."""
    old = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {**old, "visibility_timeout": seconds}
    _reset_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_transport_options = old
        _reset_pools()


@contextmanager
def consuming_only(queue: str):
    """An in-process worker given ``queues`` selects them on the shared app (amqp.queues): put
    the selection back, or every later in-process worker of this process hears only ``queue``."""
    queues = celery_app.amqp.queues
    saved = queues._consume_from
    try:
        yield [queue]
    finally:
        queues._consume_from = saved


def _reset_pools():
    pools.reset()  # see clocks/tests/test_delivery.py: no closed pool left registered
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def killable_worker(tmp_path):
    """Started first: its start-up (imports) overlaps the test's data set-up."""
    clear_broker()
    proc = start_worker_process(tmp_path / "worker.log")
    yield proc, tmp_path / "worker.log"
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    clear_broker()


@pytest.fixture
def overdue_clocks(cast):
    """60 cases whose open duty clock (screening) went overdue an hour ago: each sweep change is
    the level (on time -> overdue) and escalation step 1 (the head, at once) together."""
    cases = [register(cast["reception"]).case for _ in range(CLOCKS)]
    past = timezone.now() - timedelta(hours=1)
    clocks = Deadline.objects.filter(case__in=cases, met_at__isnull=True).exclude(
        kind__in=WINDOW_KINDS
    )
    clocks.update(due_at=past, starts_at=past - timedelta(days=3))
    ids = list(clocks.values_list("pk", flat=True))
    assert len(ids) == CLOCKS  # one open duty per new case
    assert not Deadline.objects.filter(pk__in=ids).exclude(warning_level=WarningLevel.ON_TIME)
    return ids


class Records(logging.Handler):
    """The records of a few named loggers, at INFO, whatever the worker set the root logger to."""

    def __init__(self, *names: str) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.loggers = [logging.getLogger(name) for name in names]

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> "Records":
        self.levels = [logger.level for logger in self.loggers]
        for logger in self.loggers:
            logger.addHandler(self)
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        for logger, level in zip(self.loggers, self.levels, strict=True):
            logger.removeHandler(self)
            logger.setLevel(level)

    def sweeps(self) -> list[re.Match]:
        return [m for r in self.records if (m := DONE_LINE.search(r.getMessage()))]


def test_a_worker_killed_mid_sweep_is_finished_by_the_redelivered_task_nothing_doubled(
    killable_worker, overdue_clocks, settings
):
    worker, worker_log = killable_worker
    ids = overdue_clocks
    last_history = Deadline.history.order_by("-history_id").values_list("history_id", flat=True)[0]
    swept = Deadline.objects.filter(pk__in=ids, warning_level=WarningLevel.OVERDUE)
    task_id = run_deadline_checks.apply_async(queue=QUEUE).id

    # Some batches committed, the worker pausing before the next: kill it, no goodbye.
    # (its start-up imports take seconds on a loaded machine: a generous deadline)
    assert wait_for(lambda: swept.count() >= 2 * BATCH, timeout=90), worker_log.read_text()
    assert worker_backends() == 1  # the sweep's connection, between two batches
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert wait_for(lambda: worker_backends() == 0)  # its connection (and any transaction) gone
    partial = swept.count()
    print(f"killed after {partial} of {CLOCKS} clocks")
    assert 0 < partial < CLOCKS and partial % BATCH == 0  # whole batches, never half of one
    log = worker_log.read_text()
    assert task_id in log and "deadline sweep done" not in log

    # A fresh worker gets the unacknowledged message back and finishes the sweep.
    settings.SWEEP_BATCH_SIZE = BATCH
    with (
        Records("clocks.tasks") as logs,
        visibility_timeout(1),
        consuming_only(QUEUE) as queues,
        start_worker(
            celery_app,
            pool="solo",
            queues=queues,
            perform_ping_check=False,
            shutdown_timeout=20,
        ),
    ):
        assert wait_for(logs.sweeps), swept.count()
    (done,) = logs.sweeps()  # counted, once
    levels, escalated, closed = map(int, done.groups()[:3])
    assert done[4] == task_id  # the same message, given back: not a new one
    print(f"the redelivered task changed {levels} levels, escalated {escalated}")

    # Counted: what the killed run committed and what the rerun reports add up to every clock.
    assert (partial + levels, partial + escalated, closed) == (CLOCKS, CLOCKS, 0)

    # Every clock changed exactly once: overdue, step 1, one history row.
    assert swept.filter(escalation_step=1).count() == CLOCKS
    history = Deadline.history.filter(id__in=ids, history_id__gt=last_history)
    assert sorted(history.values_list("id", flat=True)) == sorted(ids)
    assert set(history.values_list("history_change_reason", flat=True)) == {"escalation"}
    # One "overdue" and one "escalated" event per clock, one outbox row of each kind per clock.
    events = CaseEvent.objects.filter(data__deadline__in=ids)
    for kind in ("deadline_overdue", "escalated"):
        per_clock = list(events.filter(kind=kind).values_list("data__deadline", flat=True))
        assert sorted(per_clock) == sorted(ids), kind
    assert events.count() == 2 * CLOCKS
    notes = Notification.objects.filter(case__deadlines__pk__in=ids)
    for kind in (NotificationKind.OVERDUE, NotificationKind.ESCALATION):
        assert notes.filter(kind=kind).count() == CLOCKS, kind
        assert notes.filter(kind=kind).values("case").distinct().count() == CLOCKS, kind

    # An immediate third run (the task, in this process) finds nothing left to do.
    assert run_deadline_checks.apply().get() == {
        "levels_changed": 0,
        "escalated": 0,
        "windows_closed": 0,
    }
    assert history.count() == CLOCKS
    assert events.count() == 2 * CLOCKS
