"""Issue 12 #4: duties and windows. The receiver's objection window and the petitioner's review
window are rights, not the center's work: never warned, escalated or counted, never a case's
nearest deadline; when one runs out the sweep closes it (an event)."""

from datetime import timedelta

import pytest

from clocks.deadlines import open_deadline, refresh_case_next_due
from clocks.models import (
    DUTY_KINDS,
    WINDOW_KINDS,
    Deadline,
    DeadlineCategory,
    DeadlineKind,
    DeadlineRule,
    Notification,
    WarningLevel,
)
from clocks.sweep import run_deadline_checks
from core.models import DepartmentKind
from petitions.models import Case, CaseEvent
from petitions.testing import register
from routing.services import DepartmentDue, assign_case
from supervision.selectors import at_risk_deadlines

from .test_sweep import handling_case


def test_kinds_are_split_into_duties_and_windows():
    assert DeadlineKind.OBJECTION.category == DeadlineCategory.WINDOW
    assert DeadlineKind.REVIEW_REQUEST_WINDOW.is_window
    for duty in ("HANDLING", "SCREENING", "REVIEW_DECISION", "RE_REVIEW_DECISION"):
        assert DeadlineKind[duty].category == DeadlineCategory.DUTY
    assert set(DeadlineKind.values) == WINDOW_KINDS | DUTY_KINDS
    assert not WINDOW_KINDS & DUTY_KINDS


@pytest.mark.django_db
def test_rules_for_the_review_clocks_are_seeded(reference_data):
    rules = {
        r.kind: (r.length, r.day_type)
        for r in DeadlineRule.objects.filter(
            province_region_code="",
            kind__in=["review_window", "review_decision", "re_review_decision"],
        )
    }
    assert rules == {
        "review_window": (30, "calendar"),
        "review_decision": (30, "calendar"),
        "re_review_decision": (30, "calendar"),
    }


@pytest.mark.django_db
def test_a_window_is_not_the_nearest_deadline_of_an_accepted_case(org, cast):
    case, handling = handling_case(org, cast)
    window = open_deadline(
        case=case,
        kind=DeadlineKind.REVIEW_REQUEST_WINDOW,
        start=handling.starts_at - timedelta(days=20),
    )
    assert window.due_at < handling.due_at
    case.refresh_from_db()
    assert case.next_due_at == handling.due_at
    refresh_case_next_due(case.pk)
    case.refresh_from_db()
    assert case.next_due_at == handling.due_at


@pytest.mark.django_db
def test_a_window_is_never_warned_escalated_or_counted(org, cast):
    case, handling = handling_case(org, cast)
    window = open_deadline(
        case=case,
        kind=DeadlineKind.REVIEW_REQUEST_WINDOW,
        start=handling.starts_at - timedelta(days=20),
    )
    for hours in (-30, 1, 24 * 10):
        run_deadline_checks(now=window.due_at + timedelta(hours=hours))
    window.refresh_from_db()
    assert window.warning_level == WarningLevel.ON_TIME
    assert window.escalation_step == 0 and window.overdue_since is None
    # the review window is closed by its owner (appeals), not by the sweep
    assert window.met_at is None
    assert not Notification.objects.filter(body__startswith="review_window").exists()
    assert not CaseEvent.objects.filter(case=case, data__kind="review_window").exists()
    # and if an old sweep had marked it, the dashboard still does not count it
    Deadline.objects.filter(pk=window.pk).update(warning_level=WarningLevel.OVERDUE)
    supervisor = cast["supervisor"]
    counted = at_risk_deadlines(supervisor, now=window.due_at + timedelta(days=10))
    assert window.pk not in set(counted.values_list("pk", flat=True))


@pytest.mark.django_db
def test_an_objection_window_that_runs_out_is_closed_not_escalated(org, cast):
    case = register(cast["reception"]).case
    (lead,) = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), case.registered_at + timedelta(days=60)
        ),
    )
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    now = objection.due_at + timedelta(days=10)
    first = run_deadline_checks(now=now)
    objection.refresh_from_db()
    assert objection.met_at == objection.due_at
    assert objection.warning_level == WarningLevel.ON_TIME and objection.escalation_step == 0
    assert first.windows_closed == 1
    closed = CaseEvent.objects.get(case=case, kind="window_closed")
    assert closed.data["kind"] == "objection" and closed.data["assignment"] == lead.pk
    assert not CaseEvent.objects.filter(case=case, kind="escalated", data__kind="objection")
    assert not Notification.objects.filter(case=case, body__startswith="objection").exists()
    again = run_deadline_checks(now=now)
    assert again.windows_closed == 0
    # the case's nearest deadline is its acceptance-notice duty, never the window
    case.refresh_from_db()
    notice = Deadline.objects.get(case=case, kind=DeadlineKind.ACCEPTANCE_NOTICE)
    assert Case.objects.get(pk=case.pk).next_due_at == notice.due_at
