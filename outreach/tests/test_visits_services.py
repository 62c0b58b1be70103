"""下访 and 约访 services: roles, leaders, future/past, stale writes, double submits, kept creates a
visit received by the leader, missed and cancelled, events, history, notifications, the reminder
task (once, even run twice or twice at once), and the reports' counts against a hand count."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from clocks.deadlines import CHINA_TZ
from clocks.models import Notification, NotificationKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from outreach.models import Message, Outreach, OutreachKind, OutreachState
from outreach.selectors_visits import counts, visits_by_leader
from outreach.services.visits import (
    cancel_appointment,
    mark_appointment_missed,
    record_appointment_kept,
    record_home_visit,
    schedule_appointment,
)
from outreach.tasks_visits import remind_due_appointments
from petitions.models import Case, CaseEvent, Visit

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ)  # a Monday


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(clock, handling_case: Case) -> Case:
    return Case.objects.get(pk=handling_case.pk)


def _home(actor: User, case: Case, **kw):
    args: dict[str, Any] = {
        "at": T0 - timedelta(days=1),
        "place": "村委会",
        "notes": "说明了诉求",
        "expected_version": case.version,
    }
    args.update(kw)
    return record_home_visit(actor=actor, case=case, **args)


def _appointment(actor: User, case: Case, **kw):
    args: dict[str, Any] = {
        "at": T0 + timedelta(hours=20),
        "place": "县联合接访中心",
        "expected_version": case.version,
    }
    args.update(kw)
    return schedule_appointment(actor=actor, case=case, **args)


# --- 下访 -----------------------------------------------------------------------------------------


def test_officer_of_the_lead_department_records_a_home_visit_with_a_leader(case, cast, people):
    row = _home(
        cast["county_police"],
        case,
        leader=people["county_leader"],
        participants="村支书",
        agreed="下周复查",
        next_step="调取卷宗",
        submission_key="k1",
    )
    assert (row.kind, row.state, row.leader, row.recorded_by) == (
        OutreachKind.HOME_VISIT,
        OutreachState.DONE,
        people["county_leader"],
        cast["county_police"],
    )
    event = CaseEvent.objects.get(case=case, kind="home_visit")
    assert event.data == {"outreach": row.pk, "leader": people["county_leader"].pk}
    assert row.history.count() == 1
    assert row.history.first().history_user == cast["county_police"]
    # the case itself did not change
    assert Case.objects.get(pk=case.pk).version == case.version


def test_a_home_visit_in_the_future_is_refused(case, cast):
    with pytest.raises(ValidationError) as exc:
        _home(cast["county_police"], case, at=T0 + timedelta(hours=2))
    assert "at" in exc.value.message_dict
    assert not Outreach.objects.exists()


def test_place_and_notes_are_required(case, cast):
    with pytest.raises(ValidationError) as exc:
        _home(cast["county_police"], case, place=" ", notes="")
    assert set(exc.value.message_dict) == {"place", "notes"}


def test_an_officer_of_another_department_cannot_record(case, people):
    with pytest.raises(PermissionDenied):
        _home(people["county_officer_court"], case)


def test_staff_of_another_center_cannot_record(case, cast, people):
    for actor in (people["county_b_supervisor"], cast["outsider"], cast["reception"]):
        with pytest.raises(PermissionDenied):
            _home(actor, case)


def test_center_staff_and_leaders_above_may_record(case, cast, people):
    _home(people["county_supervisor"], case)
    _home(people["province_leader"], case, expected_version=case.version)
    _home(cast["leader"], case)  # the city's leader: a center above the county
    assert Outreach.objects.filter(case=case).count() == 3


def test_the_leader_must_be_a_leader_or_head_of_the_case_center_or_above(case, cast, people):
    for wrong in (cast["police"], people["county_supervisor"], people["county_b_supervisor"]):
        with pytest.raises(ValidationError) as exc:
            _home(cast["county_police"], case, leader=wrong)
        assert "leader" in exc.value.message_dict
    _home(cast["county_police"], case, leader=people["county_head"])
    _home(cast["county_police"], case, leader=people["province_leader"])
    assert Outreach.objects.count() == 2


def test_a_stale_case_version_is_refused(case, cast):
    with pytest.raises(StaleState):
        _home(cast["county_police"], case, expected_version=case.version - 1)
    assert not Outreach.objects.exists()


def test_a_double_submit_records_once(case, cast):
    first = _home(cast["county_police"], case, submission_key="same")
    second = _home(cast["county_police"], case, submission_key="same")
    assert first.pk == second.pk
    assert Outreach.objects.count() == 1
    assert CaseEvent.objects.filter(case=case, kind="home_visit").count() == 1


def test_the_lead_department_is_told_of_a_home_visit_by_someone_else(case, people):
    known = list(Notification.objects.values_list("pk", flat=True))
    _home(people["county_supervisor"], case)
    rows = Notification.objects.exclude(pk__in=known)
    assert sorted((n.audience_department_id, n.audience_role) for n in rows) == [
        (people["county_head"].department_id, "head"),
        (people["county_head"].department_id, "officer"),
    ]


# --- 约访 -----------------------------------------------------------------------------------------


def test_schedule_an_appointment_queues_one_message_to_the_petitioner(case, cast, people):
    row = _appointment(
        cast["county_police"], case, leader=people["county_head"], submission_key="a"
    )
    again = _appointment(
        cast["county_police"], case, leader=people["county_head"], submission_key="a"
    )
    assert row.pk == again.pk
    assert (row.state, row.reminded_at) == (OutreachState.SCHEDULED, None)
    messages = Message.objects.filter(case=case, kind="appointment")
    assert [m.dedupe_key for m in messages] == [f"appointment:{row.pk}"]
    assert "2026-03-03 06:00" in messages[0].body_masked
    assert CaseEvent.objects.filter(case=case, kind="appointment_scheduled").count() == 1
    # the leader is told
    assert Notification.objects.filter(recipient=people["county_head"], case=case).count() == 1


def test_an_appointment_in_the_past_is_refused(case, cast):
    with pytest.raises(ValidationError) as exc:
        _appointment(cast["county_police"], case, at=T0 - timedelta(minutes=1))
    assert "at" in exc.value.message_dict


def test_kept_records_a_visit_received_by_the_appointments_leader(case, cast, people, clock):
    row = _appointment(cast["county_police"], case, leader=people["county_head"])
    before = Case.objects.get(pk=case.pk)
    clock.move_to(T0 + timedelta(hours=21))
    kept = record_appointment_kept(
        actor=cast["county_police"], appointment=row, notes="当面沟通", expected_version=row.version
    )
    visit = kept.visit
    assert kept.state == OutreachState.KEPT
    assert (visit.case_id, visit.received_by_leader, visit.received_by, visit.petitioner_id) == (
        case.pk,
        people["county_head"],
        cast["county_police"],
        case.main_petitioner_id,
    )
    after = Case.objects.get(pk=case.pk)
    assert (after.visit_count, after.version) == (before.visit_count + 1, before.version + 1)
    assert CaseEvent.objects.filter(case=case, kind="appointment_kept").count() == 1
    assert kept.history.count() == 2
    # once kept, it cannot be kept again or missed
    with pytest.raises(DomainError):
        record_appointment_kept(
            actor=cast["county_police"], appointment=row, notes="x", expected_version=None
        )
    with pytest.raises(DomainError):
        mark_appointment_missed(actor=cast["county_police"], appointment=row, reason="x")
    assert Visit.objects.filter(case=case).count() == before.visit_count + 1


def test_kept_without_a_leader_is_not_a_leader_reception(case, cast):
    row = _appointment(cast["county_police"], case)
    kept = record_appointment_kept(
        actor=cast["county_police"], appointment=row, notes="来了", expected_version=row.version
    )
    assert kept.visit.received_by_leader is None


def test_kept_with_a_stale_appointment_version_is_refused(case, cast):
    row = _appointment(cast["county_police"], case)
    cancel_appointment(actor=cast["county_police"], appointment=row, reason="改期")
    with pytest.raises(StaleState):
        record_appointment_kept(
            actor=cast["county_police"], appointment=row, notes="x", expected_version=row.version
        )


def test_missed_only_after_its_time(case, cast, clock):
    row = _appointment(cast["county_police"], case)
    with pytest.raises(DomainError):
        mark_appointment_missed(actor=cast["county_police"], appointment=row, reason="未到")
    clock.move_to(T0 + timedelta(days=1))
    missed = mark_appointment_missed(actor=cast["county_police"], appointment=row, reason="未到")
    assert (missed.state, missed.outcome) == (OutreachState.MISSED, "未到")
    assert CaseEvent.objects.filter(case=case, kind="appointment_missed").count() == 1


def test_an_outsider_cannot_mark_an_appointment(case, cast, people):
    row = _appointment(cast["county_police"], case)
    with pytest.raises(PermissionDenied):
        cancel_appointment(actor=people["county_officer_court"], appointment=row, reason="x")


def test_no_appointment_on_a_closed_case(case, cast):
    Case.objects.filter(pk=case.pk).update(state="closed")
    case.refresh_from_db()
    with pytest.raises(DomainError):
        _appointment(cast["county_police"], case)


# --- the reminder -----------------------------------------------------------------------------------


def test_the_reminder_tells_the_lead_department_once(case, cast, people, clock):
    soon = _appointment(cast["county_police"], case, leader=people["county_head"])
    later = _appointment(cast["county_police"], case, at=T0 + timedelta(days=3))
    assert remind_due_appointments() == 1
    assert remind_due_appointments() == 0
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.reminded_at, later.reminded_at) == (T0, None)
    reminders = Notification.objects.filter(kind=NotificationKind.REMINDER)
    # the lead department's officers and head (two audience rows) and the leader
    assert sorted(
        (n.audience_role, n.audience_department_id, n.recipient_id) for n in reminders
    ) == sorted(
        [
            ("officer", cast["county_police"].department_id, None),
            ("head", cast["county_police"].department_id, None),
            ("", None, people["county_head"].pk),
        ]
    )
    assert CaseEvent.objects.filter(kind="appointment_reminded").count() == 1
    assert soon.history.first().reminded_at == T0
    clock.move_to(T0 + timedelta(days=2, hours=1))
    assert remind_due_appointments() == 1  # the later one, now within a day
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_remind_once(org, cast, make_handling_case):
    with time_machine.travel(T0, tick=False):
        case = make_handling_case()
        for hours in (2, 5, 9):
            _appointment(
                cast["county_police"], Case.objects.get(pk=case.pk), at=T0 + timedelta(hours=hours)
            )
        results: list[int] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            try:
                barrier.wait()
                results.append(remind_due_appointments(now=T0))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        close_old_connections()
    assert sum(results) == 3
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 6
    assert CaseEvent.objects.filter(kind="appointment_reminded").count() == 3


# --- counts and the leader's page -------------------------------------------------------------------


def test_counts_against_a_hand_count(org, cast, people, clock, make_handling_case):
    a = Case.objects.get(pk=make_handling_case().pk)
    b = Case.objects.get(pk=make_handling_case(at="city").pk)
    police = cast["county_police"]
    # county_a: 3 home visits (2 by leaders), 3 appointments (1 kept, 1 missed, 1 cancelled)
    _home(police, a, leader=people["county_leader"])
    _home(police, a, leader=people["county_head"])
    _home(police, a)
    kept = _appointment(police, a, leader=people["county_head"], at=T0 + timedelta(hours=1))
    missed = _appointment(police, a, at=T0 + timedelta(hours=2))
    dropped = _appointment(police, a, at=T0 + timedelta(hours=3))
    # the city: 1 home visit (no leader), outside the period one more
    _home(cast["police"], b)
    _home(cast["police"], b, at=T0 - timedelta(days=40))
    clock.move_to(T0 + timedelta(hours=4))
    record_appointment_kept(actor=police, appointment=kept, notes="来了", expected_version=None)
    mark_appointment_missed(actor=police, appointment=missed, reason="未到")
    cancel_appointment(actor=police, appointment=dropped, reason="改期")
    # a visit received in person by the city's leader (reception day at the desk)
    Visit.objects.filter(case=b).update(received_by_leader=cast["leader"], at=T0)

    figures = counts([org.city.pk, org.county_a.pk], T0 - timedelta(days=7), T0 + timedelta(days=1))
    assert figures["total"] == {
        "home_visits": 4,
        "home_visits_by_leaders": 2,
        "appointments": 2,
        "appointments_kept": 1,
        "appointments_missed": 1,
        "leader_receptions": 2,
        "leader_receptions_by_leaders": 1,
        "leader_receptions_by_heads": 1,
    }
    county = figures["by_center"][org.county_a.pk]
    assert (county["home_visits"], county["appointments"], county["leader_receptions"]) == (3, 2, 1)
    assert figures["by_center"][org.city.pk]["leader_receptions_by_leaders"] == 1
    dept = figures["by_department"][police.department_id]
    assert (
        dept["home_visits"],
        dept["home_visits_by_leaders"],
        dept["leader_receptions_by_heads"],
    ) == (
        3,
        2,
        1,
    )
    only_city = counts([org.city.pk], T0 - timedelta(days=7), T0 + timedelta(days=1))["total"]
    assert (only_city["home_visits"], only_city["leader_receptions"]) == (1, 1)


def test_the_leaders_page_lists_their_visits(case, cast, people):
    _home(cast["county_police"], case, leader=people["county_leader"])
    _home(cast["county_police"], case)
    page = visits_by_leader(people["county_leader"])
    assert [r.case_id for r in page["home_visits"]] == [case.pk]
    assert page["home_visits"][0].is_own_case is False
    assert page["received"] == []
