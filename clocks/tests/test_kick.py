"""One broker message per transaction for every outbox kicked in it (clocks.notify.kick): sent by
name on the real Redis broker to the notifications queue, and the worker's delivery task runs the
senders it carries, only those of its own queue."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from django.conf import settings

from clocks.notify import NOTIFICATIONS_TASK, publish_kick

QUEUES = ("sweep", "notifications", "exports", "celery")
SENDER = "outreach.tasks.send_messages"


@pytest.mark.celery
def test_one_message_in_the_notifications_queue_carries_the_sender():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.delete(*QUEUES)
        publish_kick([NOTIFICATIONS_TASK, SENDER])
        assert {q: client.llen(q) for q in QUEUES} == {
            "sweep": 0,
            "notifications": 1,
            "exports": 0,
            "celery": 0,
        }
        message = json.loads(client.lpop("notifications"))  # type: ignore[arg-type]
        assert message["headers"]["task"] == NOTIFICATIONS_TASK
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert (args, kwargs) == ([], {"also": [SENDER]})
        publish_kick([SENDER])  # a text message alone: the sender itself
        message = json.loads(client.lpop("notifications"))  # type: ignore[arg-type]
        assert message["headers"]["task"] == SENDER
        assert client.llen("notifications") == 0
    finally:
        client.delete(*QUEUES)
        client.close()


def test_the_delivery_task_runs_the_senders_of_its_queue_only(db, monkeypatch):
    from clocks import tasks
    from config.celery import app

    app.loader.import_default_modules()
    ran: list[str] = []
    sender = app.tasks[SENDER]
    monkeypatch.setattr(sender, "run", lambda *a, **k: ran.append(SENDER))
    export = app.tasks["reports.tasks.export_ledger"]
    monkeypatch.setattr(export, "run", lambda *a, **k: ran.append("export"))
    assert tasks.deliver_pending_notifications(also=[SENDER, "reports.tasks.export_ledger"]) == 0
    assert ran == [SENDER]
