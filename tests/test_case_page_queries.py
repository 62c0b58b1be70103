"""Issue #10: the case page (GET /cases/<id>/) runs a fixed number of queries, whatever the number
of its timeline events, assignments, deadlines, visits and history records: the action providers
share what the page loaded (petitions.actions.CasePage) instead of asking each on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clocks.models import Deadline
from core.models import DepartmentKind
from petitions.models import CaseEvent
from petitions.testing import register
from routing.models import Assignment, AssignmentRole, AssignmentState
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment
from supervision.services import (
    assign_leader_responsibility,
    issue_supervision_order,
    request_extension,
)

pytestmark = pytest.mark.django_db

# Session user, roles, the notification badge, the case and its parts (petitioners, attachments,
# visits, events, history, assignments, transfers) and the overlays the actions need: 16; and
# the outreach card (petitions.hooks case sections, outreach.case_panel): 下访 / 约访 2 (the rows,
# the leaders offered by the forms), tours 1, judicial aid 3, messages 1.
MAX_QUERIES = 16 + 7


def _handling_case(org, cast):
    """A case in handling at the city police (lead) with the court assisting, an extension
    request, a supervision order and a leader responsibility: every provider has work to do."""
    city = org.city
    case = register(cast["reception"]).case
    lead, _assist = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
        assisting=[
            DepartmentDue(org.dept(city, DepartmentKind.COURT), timezone.now() + timedelta(days=30))
        ],
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    request_extension(actor=cast["police"], case=case, days=10, reason="需调取卷宗")
    issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="十日内报告办理进展",
        due_at=timezone.now() + timedelta(days=10),
    )
    assign_leader_responsibility(
        actor=cast["supervisor"],
        case=case,
        leader=cast["leader"],
        handler=cast["police"],
        due_at=timezone.now() + timedelta(days=30),
        target_result="息诉罢访",
    )
    case.refresh_from_db()
    return case


def _grow(org, cast, case, n: int) -> None:
    """n more timeline events, finished assignments, met clocks and history records."""
    now = timezone.now()
    city = org.city
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind="note", actor=cast["police"], at=now, message=f"进展 {i}")
        for i in range(n)
    )
    departments = [org.dept(city, kind) for kind in (DepartmentKind.COURT, DepartmentKind.POLICE)]
    Assignment.objects.bulk_create(
        Assignment(
            case=case,
            department=departments[i % 2],
            role=AssignmentRole.ASSIST,
            state=AssignmentState.DONE if i % 2 else AssignmentState.CANCELLED,
            due_at=now + timedelta(days=10),
            assigned_by=cast["triage"],
            assigned_at=now - timedelta(days=n - i),
            handler=cast["police"] if i % 2 else None,
        )
        for i in range(n)
    )
    Deadline.objects.bulk_create(
        Deadline(
            case=case,
            kind="handling",
            day_type="calendar",
            starts_at=now - timedelta(days=20),
            due_at=now - timedelta(days=10),
            met_at=now - timedelta(days=11),
        )
        for _ in range(n)
    )
    for i in range(n // 3):
        case.facts_reasons = f"{case.facts_reasons} 补充{i}"
        case.save(update_fields=["facts_reasons"])


def _count(client, user, case) -> int:
    client.force_login(user)
    client.get(f"/cases/{case.pk}/")  # warm the process caches (code tables, centers)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["supervisor", "police", "court", "head", "leader", "triage"])
def test_case_page_queries_do_not_grow_with_events_assignments_deadlines(client, org, cast, who):
    small = _handling_case(org, cast)
    _grow(org, cast, small, 3)
    big = _handling_case(org, cast)
    _grow(org, cast, big, 30)
    assert big.events.count() >= small.events.count() + 27
    few = _count(client, cast[who], small)
    many = _count(client, cast[who], big)
    assert few == many, (who, few, many)
    assert many <= MAX_QUERIES, (who, many)


def test_case_page_shows_the_same_actions_and_timeline_with_many_rows(client, org, cast):
    """The shared loads change nothing a user sees: the supervisor's and the lead officer's
    actions on a grown case, and the timeline in Chinese with every event."""
    case = _handling_case(org, cast)
    _grow(org, cast, case, 30)
    client.force_login(cast["supervisor"])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    for name in (
        "supervision.order",
        "supervision.reminder",
        "supervision.resolve_responsibility",
        "supervision.consultation",
        "supervision.finding",
        "supervision.bulletin",
    ):
        assert f'data-action="{name}"' in html, name
    assert 'data-action="supervision.responsibility"' not in html  # one is unresolved
    assert html.count('data-kind="note"') == 30
    assert "进展 29" in html
    client.force_login(cast["police"])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-action="supervision.respond_order"' in html
    assert 'data-action="routing.assignment"' in html
    assert 'data-action="closure.draft"' in html
    assert 'data-action="supervision.extension"' not in html  # already requested


def test_case_page_visibility_is_the_selectors_for_every_kind_of_user(client, org, cast):
    """The case page decides the usual cases on rows in hand; each answer must be the one of
    cases_visible_to: a user of the department the case is assigned to, center staff of the
    holding center and above, an officer of a department it is not assigned to (404), and a
    department user whose center was taken away (404 like the lists, not "assigned, so visible")."""
    from conftest import make_user
    from core.roles import Role
    from petitions.selectors import cases_visible_to

    case = _handling_case(org, cast)
    centerless = make_user(
        "centerless", org.city, [Role.OFFICER], org.dept(org.city, DepartmentKind.POLICE)
    )
    centerless.center = None
    centerless.save(update_fields=["center"])
    for user in [
        cast["police"],
        cast["head"],
        cast["supervisor"],
        cast["province_supervisor"],
        cast["procuratorate"],
        cast["county_police"],
        cast["outsider"],
        centerless,
    ]:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        status = client.get(f"/cases/{case.pk}/").status_code
        visible = cases_visible_to(type(user).objects.get(pk=user.pk)).filter(pk=case.pk).exists()
        assert status == (200 if visible else 404), user.username
    client.force_login(centerless, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/cases/{case.pk}/").status_code == 404
