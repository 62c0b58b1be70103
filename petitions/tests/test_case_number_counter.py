"""The case-number counter (petitions.services.next_case_number) in one statement
(INSERT ... ON CONFLICT DO UPDATE ... RETURNING, issue 10): serials count up per center and day,
start at 1 on a new day, and concurrent registrations at one center never share a serial."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petitions.services import next_case_number


@pytest.mark.django_db
def test_serials_count_up_per_center_and_day(org):
    now = timezone.now()
    first = next_case_number(org.city, now)
    with CaptureQueriesContext(connection) as captured:
        second = next_case_number(org.city, now)
    assert len(captured.captured_queries) == 1
    assert int(second[-5:]) == int(first[-5:]) + 1
    assert next_case_number(org.county_a, now)[-5:] == "00001"
    assert next_case_number(org.city, now + timedelta(days=1))[-5:] == "00001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_at_one_center_never_share_a_serial(org):
    now = timezone.now()
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def take() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                with transaction.atomic():
                    numbers.append(next_case_number(org.city, now))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(numbers) == 30
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 31))
