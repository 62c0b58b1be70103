"""Faults in the middle of a request (issue 11):
- two triage officers assign the same case at the same moment (two threads, two database
  connections, the same expected_version): one wins, the other is told the case changed (409), and
  the case has one set of assignments — no lost update;
- the database connection is killed (pg_terminate_backend from another connection) in the middle
  of a write: a clean error answer (no traceback, no debug page), and nothing half-saved.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import psycopg2
import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

import petitions.services
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Case, CaseEvent
from petitions.testing import register
from routing.models import Assignment

pytestmark = pytest.mark.django_db(transaction=True)


def assign_body(org: Any, case: Case, kind: str) -> dict[str, Any]:
    return {
        "lead": {
            "department": org.dept(org.city, kind).pk,
            "due_at": (timezone.now() + timedelta(days=30)).isoformat(),
        },
        "expected_version": case.version,
    }


def test_two_officers_assigning_at_once_one_is_told_the_case_changed(org, cast):
    case = register(cast["reception"]).case
    other = make_user("triage2", org.city, [Role.TRIAGE])
    bodies = [
        (cast["triage"], assign_body(org, case, DepartmentKind.POLICE)),
        (other, assign_body(org, case, DepartmentKind.COURT)),
    ]
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def act(user: Any, body: dict[str, Any]) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            response = client.post(f"/api/v1/cases/{case.pk}/assign/", body, format="json")
            results.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser.get("code") in {"stale", "illegal_transition"}, loser
    case.refresh_from_db()
    assert case.state == "assigned"
    assert Assignment.objects.filter(case=case).count() == 1
    assert case.version == bodies[0][1]["expected_version"] + 1


def _terminate(pid: int) -> None:
    s = connection.settings_dict
    killer = psycopg2.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s.get("PASSWORD") or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
    )
    killer.autocommit = True
    with killer.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", [pid])
    killer.close()


@pytest.mark.parametrize("kind", ["api", "page"])
def test_a_connection_killed_mid_write_gives_a_clean_error_and_saves_nothing(org, cast, kind):
    case = register(cast["reception"]).case
    before = (case.state, case.version, CaseEvent.objects.filter(case=case).count())
    original = petitions.services.record_event

    def killing_record_event(**kwargs: Any) -> Any:
        # The case row is already updated in this transaction; the connection dies now.
        _terminate(connection.connection.info.backend_pid)
        return original(**kwargs)

    if kind == "api":
        client: Any = APIClient(raise_request_exception=False)
        client.force_authenticate(cast["triage"])
    else:
        client = Client(raise_request_exception=False)
        client.force_login(cast["triage"])
    with mock.patch.object(petitions.services, "record_event", killing_record_event):
        if kind == "api":
            response = client.post(
                f"/api/v1/cases/{case.pk}/assign/",
                assign_body(org, case, DepartmentKind.POLICE),
                format="json",
            )
        else:
            # The screening page: triage does not accept the case (registered → not accepted).
            response = client.post(
                f"/triage/{case.pk}/",
                {
                    "decision": "not_accept",
                    "not_accept-reason": "不属于本中心受理范围。",
                    "not_accept-expected_version": case.version,
                },
            )
    connection.close()  # the test's own connection was the one killed
    assert response.status_code in {500, 503}, response.status_code
    body = response.content.decode()
    assert "Traceback" not in body and "OperationalError" not in body
    assert "psycopg2" not in body and "terminat" not in body.lower()
    case.refresh_from_db()
    assert (case.state, case.version, CaseEvent.objects.filter(case=case).count()) == before
    assert not Assignment.objects.filter(case=case).exists()
