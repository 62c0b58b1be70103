"""The deadline sweep with time moved forward (time-machine), on real PostgreSQL."""

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import close_old_connections

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind, Notification, NotificationKind, WarningLevel
from clocks.sweep import run_deadline_checks
from core.models import DepartmentKind
from petitions.models import CaseEvent
from petitions.testing import register
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment


def handling_case(org, cast):
    case = register(cast["reception"]).case
    (lead,) = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), case.registered_at + timedelta(days=60)
        ),
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    return case, Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING)


def escalations(case):
    return list(
        Notification.objects.filter(case=case, kind=NotificationKind.ESCALATION)
        .order_by("id")
        .values_list("audience_role", flat=True)
    )


@pytest.mark.django_db
def test_friday_before_spring_festival_gets_the_working_day_objection_deadline(org, cast):
    # Fri 13 Feb 2026; Sat 14 Feb is a make-up working day; 15-23 Feb are the holiday.
    with time_machine.travel(datetime(2026, 2, 13, 10, 0, tzinfo=CHINA_TZ)):
        case = register(cast["reception"]).case
        (lead,) = assign_case(
            actor=cast["triage"],
            case=case,
            lead=DepartmentDue(
                org.dept(org.city, DepartmentKind.POLICE), datetime(2026, 4, 30, tzinfo=CHINA_TZ)
            ),
        )
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    assert objection.due_at.astimezone(CHINA_TZ).date().isoformat() == "2026-02-27"
    assert not objection.is_provisional


@pytest.mark.django_db
def test_handling_deadline_warns_goes_overdue_and_escalates_once_per_step(org, cast):
    case, handling = handling_case(org, cast)
    due = handling.due_at
    with time_machine.travel(due - timedelta(days=2, hours=1)):
        run_deadline_checks()
        run_deadline_checks()
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.APPROACHING
    assert Notification.objects.filter(case=case, kind=NotificationKind.WARNING).count() == 1

    with time_machine.travel(due + timedelta(hours=1)):
        run_deadline_checks()
        run_deadline_checks()
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.OVERDUE and handling.overdue_since is not None
    assert escalations(case) == ["head"]
    head_note = Notification.objects.get(case=case, kind=NotificationKind.ESCALATION)
    assert head_note.audience_department == org.dept(org.city, DepartmentKind.POLICE)

    with time_machine.travel(due + timedelta(days=2, hours=2)):
        run_deadline_checks()
        run_deadline_checks()
    assert escalations(case) == ["head", "supervisor"]
    assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 2
    assert CaseEvent.objects.filter(case=case, kind="deadline_overdue").count() == 1
    reasons = list(handling.history.values_list("history_change_reason", flat=True))
    assert reasons.count("escalation") == 2 and "deadline sweep" in reasons


@pytest.mark.django_db
def test_met_deadlines_are_left_alone(org, cast):
    case = register(cast["reception"]).case
    screening = Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING)
    Deadline.objects.filter(pk=screening.pk).update(met_at=screening.starts_at)
    with time_machine.travel(screening.due_at + timedelta(days=10)):
        result = run_deadline_checks()
    assert (result.levels_changed, result.escalated) == (0, 0)


@pytest.mark.django_db
def test_sweep_query_count_does_not_grow_with_rows(org, cast, django_assert_num_queries):
    cases = [register(cast["reception"]).case for _ in range(3)]
    due = Deadline.objects.filter(case__in=cases).order_by("due_at").first().due_at
    with time_machine.travel(due + timedelta(hours=1)), django_assert_num_queries(5):
        result = run_deadline_checks(batch_size=1000)
    assert result.levels_changed == 3
    more = [register(cast["reception"]).case for _ in range(12)]
    Deadline.objects.filter(case__in=more).update(due_at=due)
    with time_machine.travel(due + timedelta(hours=1)), django_assert_num_queries(5):
        result = run_deadline_checks(batch_size=1000)
    assert result.levels_changed == 12


@pytest.mark.django_db
def test_batches_finish_the_whole_job(org, cast):
    cases = [register(cast["reception"]).case for _ in range(7)]
    due = Deadline.objects.filter(case__in=cases).order_by("-due_at").first().due_at
    with time_machine.travel(due + timedelta(hours=1)):
        result = run_deadline_checks(batch_size=2)
    assert result.levels_changed == 7 and result.escalated == 7
    assert (
        not Deadline.objects.filter(met_at__isnull=True)
        .exclude(warning_level=WarningLevel.OVERDUE)
        .exists()
    )


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_give_the_same_result_as_one(org, cast):
    cases = [register(cast["reception"]).case for _ in range(40)]
    due = Deadline.objects.filter(case__in=cases).order_by("-due_at").first().due_at
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(run_deadline_checks(now=due + timedelta(hours=1), batch_size=5))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(r.levels_changed for r in results) == 40
    assert sum(r.escalated for r in results) == 40
    assert Notification.objects.filter(kind=NotificationKind.OVERDUE).count() == 40
    assert Notification.objects.filter(kind=NotificationKind.ESCALATION).count() == 40
    assert CaseEvent.objects.filter(kind="deadline_overdue").count() == 40
    assert CaseEvent.objects.filter(kind="escalated").count() == 40
    again = run_deadline_checks(now=due + timedelta(hours=1))
    assert (again.levels_changed, again.escalated) == (0, 0)


@pytest.mark.django_db
def test_management_command_runs_the_same_sweep(org, cast, capsys):
    from django.core.management import call_command

    case = register(cast["reception"]).case
    screening = Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING)
    with time_machine.travel(screening.due_at + timedelta(hours=1)):
        call_command("run_deadline_checks")
    assert "warning levels changed: 1" in capsys.readouterr().out
    screening.refresh_from_db()
    assert screening.warning_level == WarningLevel.OVERDUE


@pytest.mark.django_db
def test_sweep_level_matches_warning_level_for_to_the_microsecond(make_case):
    """The sweep compares due times with bounds computed once per run (now + n+1 days) instead of
    whole days per row; either side of every bound it gives the level warning_level_for gives."""
    from clocks.deadlines import warning_level_for

    now = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ)
    offsets = [timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1)]
    dues = [now + timedelta(days=d) + o for d in (0, 1, 2, 3, 4) for o in offsets]
    clocks = [
        Deadline.objects.create(
            case=make_case(),
            kind=DeadlineKind.HANDLING,
            day_type="calendar",
            starts_at=now - timedelta(days=60),
            due_at=due,
        )
        for due in dues
    ]
    with time_machine.travel(now, tick=False):
        run_deadline_checks(now=now)
    for clock in clocks:
        clock.refresh_from_db()
        assert clock.warning_level == warning_level_for(clock.due_at, now), clock.due_at - now
    assert {c.warning_level for c in clocks} == {
        WarningLevel.OVERDUE,
        WarningLevel.SEVERE,
        WarningLevel.APPROACHING,
        WarningLevel.ON_TIME,
    }
