"""Celery queues by kind (issue 21 §5): every task is routed on purpose, a worker started without
``-Q`` (the tests', ``make run``'s) consumes every queue, and docker-compose runs one per queue."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
QUEUES = {"sweep", "notifications", "exports", "celery"}
# Written out by hand: a new task fails here until someone decides its queue.
EXPECTED = {
    "clocks.tasks.run_deadline_checks": "sweep",
    "appeals.tasks.finalise_lapsed_windows": "sweep",
    "campaigns.tasks.sweep_matter_progress": "sweep",
    "supervision.tasks.compact_kept_counters": "sweep",
    "clocks.tasks.deliver_pending_notifications": "notifications",
    "clocks.tasks.send_daily_digests": "notifications",
    "outreach.tasks.send_messages": "notifications",
    "outreach.tasks.queue_review_window_messages": "notifications",
    "outreach.tasks_visits.remind_appointments": "notifications",
    "reports.tasks.export_ledger": "exports",
    "reports.tasks.refresh_report_counters": "exports",
    "core.tasks.write_marker": "celery",
}


def project_tasks() -> set[str]:
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    return celery_app.amqp.router.route({}, name)["queue"].name


def test_every_task_of_the_project_has_its_queue():
    assert project_tasks() == set(EXPECTED)
    assert {name: queue_of(name) for name in EXPECTED} == EXPECTED
    # Routed by name in the settings, not by a default that a new task would fall into unseen.
    assert {k: v["queue"] for k, v in settings.CELERY_TASK_ROUTES.items()} == EXPECTED


def test_every_task_decorator_in_the_source_is_one_of_them():
    """A task module that autodiscovery does not import would escape the check above."""
    found = 0
    for path in ROOT.glob("*/**/*.py"):
        if any(part in {".venv", "var", "node_modules"} for part in path.parts):
            continue
        found += len(re.findall(r"^@(?:shared_task|app\.task)\b", path.read_text(), re.M))
    assert found == len(EXPECTED)


def test_the_beat_schedule_runs_routed_tasks():
    scheduled = {str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(EXPECTED)
    assert {queue_of(t) for t in scheduled} == {"sweep", "notifications", "exports"}


def test_a_worker_without_dash_q_consumes_every_queue():
    # The configured queues, and a worker started without -Q consumes each of them. (The app's
    # queue table may also hold a queue a test declared for its own worker, e.g. the sweep
    # worker kill test's: compare the configuration, and the consumed set as a superset.)
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == QUEUES
    assert set(celery_app.amqp.queues) >= QUEUES
    assert set(celery_app.amqp.queues.consume_from) >= QUEUES


@pytest.mark.celery
def test_messages_land_in_their_queue_and_the_default_worker_takes_them(tmp_path):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete(*QUEUES)
        from reports.tasks import export_ledger

        # No worker yet: the message waits in the exports list of the broker, nowhere else.
        export_ledger.apply_async(args=(0,))
        assert {q: client.llen(q) for q in QUEUES} == {
            "sweep": 0,
            "notifications": 0,
            "exports": 1,
            "celery": 0,
        }
        client.delete("exports")
        # A worker started as the tests and `make run` start it takes from a routed queue too.
        from core.tasks import write_marker

        marker = tmp_path / "marker"
        write_marker.apply_async(args=(str(marker),), queue="sweep")
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            end = time.monotonic() + 30
            while not marker.exists() and time.monotonic() < end:
                time.sleep(0.1)
        assert marker.read_text() == "pong"
    finally:
        client.delete(*QUEUES)
        client.close()


def test_make_run_starts_a_worker_for_every_queue():
    script = (ROOT / "scripts/run.sh").read_text()
    (line,) = [text for text in script.splitlines() if "celery -A config worker" in text]
    assert set(re.search(r"-Q (\S+)", line)[1].split(",")) == QUEUES  # type: ignore[index]
