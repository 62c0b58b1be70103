"""Issue 12 #3: one sweep reaches the fixed point. A clock overdue past several escalation steps
(the beat was stopped for days, or data was imported) goes to the last step due in one run, each
role on the way is told once, and an immediate second run changes nothing."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections

from clocks.models import (
    Deadline,
    DeadlineKind,
    EscalationStep,
    Notification,
    NotificationKind,
    WarningLevel,
)
from clocks.sweep import run_deadline_checks
from petitions.models import CaseEvent
from petitions.testing import register

from .test_sweep import escalations, handling_case


def _counts():
    return (
        Deadline.history.count(),
        CaseEvent.objects.count(),
        Notification.objects.count(),
    )


@pytest.mark.django_db
def test_clock_overdue_past_every_step_reaches_the_last_step_in_one_run(org, cast):
    case, handling = handling_case(org, cast)
    last = EscalationStep.objects.filter(is_active=True).order_by("-step").first()
    with time_machine.travel(handling.due_at + timedelta(days=last.after_days + 3)):
        first = run_deadline_checks()
        before = _counts()
        second = run_deadline_checks()
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.OVERDUE
    assert handling.escalation_step == last.step
    assert handling.overdue_since == handling.due_at  # overdue since it fell due
    assert (first.levels_changed, first.escalated) == (1, 1)
    # every role on the way hears of it, once, in step order
    assert escalations(case) == ["head", "supervisor", "leader"]
    steps = CaseEvent.objects.filter(case=case, kind="escalated").order_by("id")
    assert [e.data["step"] for e in steps] == [1, 2, 3]
    assert (second.levels_changed, second.escalated, second.windows_closed) == (0, 0, 0)
    assert _counts() == before


@pytest.mark.django_db
def test_many_clocks_past_every_step_in_small_batches_need_one_run(org, cast):
    cases = [register(cast["reception"]).case for _ in range(7)]
    due = Deadline.objects.filter(case__in=cases).order_by("-due_at").first().due_at
    now = due + timedelta(days=30)
    result = run_deadline_checks(now=now, batch_size=2)
    assert (result.levels_changed, result.escalated) == (7, 7)
    assert set(
        Deadline.objects.filter(case__in=cases, kind=DeadlineKind.SCREENING).values_list(
            "escalation_step", flat=True
        )
    ) == {3}
    assert Notification.objects.filter(kind=NotificationKind.ESCALATION).count() == 21
    again = run_deadline_checks(now=now, batch_size=2)
    assert (again.levels_changed, again.escalated) == (0, 0)


@pytest.mark.django_db
def test_an_inactive_step_is_skipped_not_a_dead_end(org, cast):
    case, handling = handling_case(org, cast)
    EscalationStep.objects.filter(step=2).update(is_active=False)
    run_deadline_checks(now=handling.due_at + timedelta(days=10))
    handling.refresh_from_db()
    assert handling.escalation_step == 3
    assert escalations(case) == ["head", "leader"]


@pytest.mark.django_db
def test_steps_still_come_one_by_one_as_time_passes(org, cast):
    case, handling = handling_case(org, cast)
    for days, expected in [(0, 1), (1, 1), (2, 2), (4, 2), (5, 3), (9, 3)]:
        run_deadline_checks(now=handling.due_at + timedelta(days=days, hours=1))
        handling.refresh_from_db()
        assert handling.escalation_step == expected, days
    assert escalations(case) == ["head", "supervisor", "leader"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_past_every_step_reach_the_fixed_point_together(org, cast, reference_data):
    cases = [register(cast["reception"]).case for _ in range(30)]
    due = Deadline.objects.filter(case__in=cases).order_by("-due_at").first().due_at
    now = due + timedelta(days=30)
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(run_deadline_checks(now=now, batch_size=4))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(r.levels_changed for r in results) == 30
    assert sum(r.escalated for r in results) == 30
    assert Notification.objects.filter(kind=NotificationKind.ESCALATION).count() == 90
    assert CaseEvent.objects.filter(kind="escalated").count() == 90
    assert CaseEvent.objects.filter(kind="deadline_overdue").count() == 30
    before = _counts()
    again = run_deadline_checks(now=now)
    assert (again.levels_changed, again.escalated, again.windows_closed) == (0, 0, 0)
    assert _counts() == before
