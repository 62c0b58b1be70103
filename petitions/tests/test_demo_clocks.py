"""Issue 13 #14: the demo data has the clocks in the services' shapes, so the overlays work on
seeded cases (an extension on a seeded case in handling used to answer 409 no_deadline)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from clocks.models import WINDOW_KINDS, Deadline, DeadlineKind, WarningLevel
from conftest import make_user
from core.models import User
from core.reference_data import ensure_reference_data
from core.roles import Role
from petitions.models import Case
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole
from supervision.models import ExtensionState
from supervision.services import decide_extension, open_handling_deadline, request_extension

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 16, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def reference_data(db: None) -> None:
    ensure_reference_data()


def seed(cases: int = 200) -> None:
    with time_machine.travel(NOW, tick=False):
        call_command(
            "seed_demo", cases=cases, seed=11, batch=64, no_campaigns=True, stdout=io.StringIO()
        )


def test_seeded_clocks_have_the_shapes_the_services_open():
    seed()
    handling = Deadline.objects.filter(kind=DeadlineKind.HANDLING, met_at__isnull=True)
    assert handling.exists()
    assert not handling.exclude(assignment_id=None).exists()  # case-level, as routing opens it
    notices = Deadline.objects.filter(kind=DeadlineKind.ACCEPTANCE_NOTICE)
    assert not notices.filter(assignment_id=None).exists()  # per assignment
    windows = Deadline.objects.filter(kind__in=WINDOW_KINDS, met_at__isnull=True)
    assert not windows.exclude(warning_level=WarningLevel.ON_TIME).exists()
    for case in Case.objects.filter(state=CaseState.REPLIED):
        assert case.next_due_at is None  # the petitioner's window is not the center's deadline


def test_an_extension_works_on_a_seeded_case_in_handling():
    seed()
    with time_machine.travel(NOW, tick=False):
        candidates = Case.objects.filter(
            state=CaseState.HANDLING,
            deadlines__kind=DeadlineKind.HANDLING,
            deadlines__met_at__isnull=True,
            deadlines__extended_days=0,
            deadlines__due_at__gt=NOW,
        )
        lead = (
            Assignment.objects.filter(
                case__in=candidates,
                role=AssignmentRole.LEAD,
                state__in=ACTIVE_ASSIGNMENT_STATES,
                handler__isnull=False,
            )
            .select_related("case", "handler", "department")
            .first()
        )
        assert lead is not None
        case, officer = lead.case, lead.handler
        assert officer.department_id == lead.department_id
        assert open_handling_deadline(case) is not None
        # the demo staffs a head for the police only: give this department one
        head = User.objects.filter(department=lead.department, roles__role="head").first()
        if head is None:
            head = make_user("demo_head", lead.department.center, [Role.HEAD], lead.department)
        request = request_extension(actor=officer, case=case, days=20, reason="案情复杂")
        decision = decide_extension(actor=head, request=request, approve=True)
    assert decision.request.state == ExtensionState.APPROVED
    assert decision.deadline.extended_days == 20
