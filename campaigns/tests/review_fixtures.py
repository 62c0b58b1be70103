"""Fixtures of the quality review tests (案件评查), imported by the test_review* modules.

``review`` is a running quality review campaign of the city center (2026-02-01 to 2026-06-30,
subordinate centers included); ``handled(...)`` makes a handled case registered in that period
with a lead assignment done by a department, and optionally a delivered reply rated by the
petitioner, repeat visits, another state or center.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from clocks.deadlines import CHINA_TZ
from closure.models import Evaluation, Reply
from core.models import Center, Department, DepartmentKind, User
from core.roles import Role
from petitions.models import Case, Channel, Visit
from routing.models import Assignment, AssignmentRole, AssignmentState

REGISTERED = datetime(2026, 2, 3, 9, 0, tzinfo=CHINA_TZ)
STRONG_PASSWORD = "Review-pass-2026!"


@pytest.fixture
def review(make_campaign: Callable[..., Any], at_now: Any) -> Any:
    from campaigns.models import CampaignKind

    return make_campaign(
        name="2026年一季度案件评查",
        kind=CampaignKind.QUALITY_REVIEW,
        include_subordinates=True,
        targets={},
    )


@pytest.fixture
def handled(org: Any, cast: dict[str, User], make_case: Callable[..., Case]) -> Callable[..., Case]:
    def make(
        kind: str = DepartmentKind.POLICE,
        *,
        center: Center | None = None,
        state: str = "closed",
        rating: str | None = None,
        center_rating: str | None = None,
        visits: int = 1,
        repeat_visit: bool = False,
        registered_at: datetime = REGISTERED,
        department: Department | None = None,
    ) -> Case:
        center = center or org.city
        case = make_case(center=center, state=state, registered_at=registered_at)
        dept = department or org.dept(center, kind)
        Assignment.objects.create(
            case=case,
            department=dept,
            role=AssignmentRole.LEAD,
            state=AssignmentState.DONE,
            due_at=registered_at + timedelta(days=60),
            assigned_by=cast["triage"],
            assigned_at=registered_at + timedelta(hours=1),
        )
        if rating or center_rating:
            delivered = registered_at + timedelta(days=20)
            reply = Reply.objects.create(
                case=case,
                department=dept,
                decision="explain",
                status="delivered",
                drafted_by=cast["police"],
                drafted_at=delivered - timedelta(days=2),
                approved_at=delivered - timedelta(days=1),
                delivered_at=delivered,
            )
            Evaluation.objects.create(
                case=case,
                reply=reply,
                department=dept,
                center_rating=center_rating or rating or "satisfied",
                department_rating=rating or "satisfied",
                channel="desk",
                recorded_by=cast["reception"],
                evaluated_at=delivered + timedelta(days=1),
            )
        if visits > 1:
            Case.objects.filter(pk=case.pk).update(visit_count=visits)
        if repeat_visit:
            channel, _ = Channel.objects.get_or_create(
                code="t-cmp-visit", defaults={"name": "来访"}
            )
            Visit.objects.create(
                case=case,
                petitioner=case.main_petitioner,
                center=center,
                channel=channel,
                at=registered_at + timedelta(days=30),
                is_repeat=True,
                received_by=cast["reception"],
            )
        case.refresh_from_db()
        return case

    return make


@pytest.fixture
def lawyer(org: Any) -> User:
    """An outside reviewer (a lawyer) attached to the city center, with the one reviewer role."""
    user = User.objects.create_user(
        username="lawyer_li", password=STRONG_PASSWORD, center=org.city, full_name="李律师"
    )
    user.set_roles([Role.REVIEWER])
    return user


def scores_for(campaign: Any, points: dict[int, int] | None = None, **default: int) -> list[dict]:
    """A full score list for the campaign's sheet: every item at its full points unless
    ``points`` (by item position, from 1) says otherwise."""
    from campaigns.services.review import sheet_for

    sheet = sheet_for(campaign)
    assert sheet is not None
    points = points or {}
    return [
        {"item": item.pk, "points": points.get(n, item.points), "note": f"第{n}项"}
        for n, item in enumerate(sheet.items.order_by("sort_order", "pk"), start=1)
    ]


def scores_totalling(campaign: Any, total: int) -> list[dict]:
    """Full marks taken off the items from the first on until the total is ``total``."""
    from campaigns.services.review import sheet_for

    sheet = sheet_for(campaign)
    assert sheet is not None
    missing = 100 - total
    rows = []
    for item in sheet.items.order_by("sort_order", "pk"):
        off = min(missing, item.points)
        missing -= off
        rows.append({"item": item.pk, "points": item.points - off, "note": ""})
    assert sum(r["points"] for r in rows) == total
    return rows


PERIOD_START = date(2026, 2, 1)
