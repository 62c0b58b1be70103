"""Notifications go out through a real Celery worker on a real Redis broker, and survive a broker
outage: the row is written with the case, and delivered once the broker is back."""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from kombu import pools

from clocks.models import DeliveryState, Notification
from clocks.tasks import deliver_pending_notifications
from config.celery import app as celery_app
from petitions.models import Case
from petitions.testing import register

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def _reset_pools():
    # kombu keeps its connection and producer pools in process-wide registries: closing the app's
    # pool would leave a closed pool registered for the broker URL, and the next test in this
    # process that publishes to it (pytest-xdist runs several) fails with "Acquire on closed pool".
    # pools.reset() closes them and empties the registries.
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url):
    """Point the Celery app at ``url`` for the block (fresh connection pools both ways)."""
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    _reset_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = old
        _reset_pools()


def wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.fixture
def triage_with_email(cast):
    cast["triage"].email = "triage@center.example.gov.cn"
    cast["triage"].save(update_fields=["email"])
    return cast["triage"]


def test_a_real_worker_delivers_the_new_case_notification(cast, triage_with_email):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        case = register(cast["reception"]).case
        assert wait_for(
            lambda: (
                not Notification.objects.filter(case=case, delivery=DeliveryState.PENDING).exists()
            )
        )
    note = Notification.objects.get(case=case, audience_role="triage")
    assert note.delivery == DeliveryState.SENT
    assert [m.to for m in mail.outbox] == [["triage@center.example.gov.cn"]]
    assert case.number in mail.outbox[0].subject


def test_broker_outage_delays_but_loses_nothing_and_never_blocks_intake(
    cast, triage_with_email, tmp_path
):
    redis = RedisServer(tmp_path)
    redis.start()
    with broker(redis.url):
        redis.stop()
        started = time.monotonic()
        reg = register(cast["reception"])
        took = time.monotonic() - started
        assert Case.objects.filter(pk=reg.case.pk).exists()
        note = Notification.objects.get(case=reg.case, audience_role="triage")
        assert note.delivery == DeliveryState.PENDING
        assert mail.outbox == []
        print(f"intake with the broker down took {took:.2f}s")

        redis.start()
        try:
            with start_worker(
                celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20
            ):
                # what Celery beat does every minute
                deliver_pending_notifications.delay()
                assert wait_for(
                    lambda: Notification.objects.get(pk=note.pk).delivery == DeliveryState.SENT
                )
        finally:
            redis.stop()
    assert [m.to for m in mail.outbox] == [["triage@center.example.gov.cn"]]
