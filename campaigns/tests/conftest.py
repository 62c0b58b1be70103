"""Campaign fixtures shared by the campaigns tests (services, sweep, review, pages).

- ``make_case(center=None, petitioner=None, state=None, registered_at=None)``: a case built
  directly (not through intake), at the city center by default;
- ``make_campaign(**overrides)``: a running backlog campaign of the city center, opened by the
  city supervisor through the service (kind, center, dates... overridable);
- ``campaign``: one such campaign (2026-02-01 to 2026-06-30, targets 0.8 / 0.6);
- ``make_matter(campaign, case=None, **overrides)``: a matter handed down through the service
  to the city police department, leader the police head (cast['head']), handler the police officer (cast['police']).
The clock: tests that hand matters down run at or after ``NOW`` (2026-02-10 09:00 Beijing) and
before the campaign ends; use time-machine (``time_machine.travel(NOW, tick=False)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
import time_machine

from clocks.deadlines import CHINA_TZ
from core.models import Center, DepartmentKind, User
from petitions.models import Case, Channel, ContentCategory, Petitioner, Purpose

NOW = datetime(2026, 2, 10, 9, 0, tzinfo=CHINA_TZ)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _seeded_calendar_and_rules(reference_data: None) -> None:
    """Migration-seeded rules and holidays, which a transactional test elsewhere may have
    flushed (the root conftest's fixture puts them back)."""


@pytest.fixture
def at_now() -> Any:
    """The clock stopped at NOW for the whole test."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def make_case(org: Any, cast: dict[str, User]) -> Callable[..., Case]:
    channel, _ = Channel.objects.get_or_create(code="t-cmp-visit", defaults={"name": "来访"})
    purpose, _ = Purpose.objects.get_or_create(code="t-cmp-complaint", defaults={"name": "申诉"})
    category, _ = ContentCategory.objects.get_or_create(
        code="t-cmp-police", defaults={"name": "公安"}
    )

    def make(
        center: Center | None = None,
        petitioner: Petitioner | None = None,
        state: str | None = None,
        registered_at: datetime | None = None,
        registered_by: User | None = None,
    ) -> Case:
        center = center or org.city
        at = registered_at or datetime(2025, 6, 2, 9, 0, tzinfo=CHINA_TZ)
        n = next(_serial)
        extra = {"state": state} if state else {}
        return Case.objects.create(
            number=f"C{center.region_code}{n:06d}",
            query_code_hash=f"c{n:063d}",
            center=center,
            origin_center=center,
            state_changed_at=at,
            registered_at=at,
            registered_by=registered_by or cast["reception"],
            channel=channel,
            purpose=purpose,
            category=category,
            request="请求依法处理",
            main_petitioner=petitioner or Petitioner.objects.create(name=f"信访人{n}"),
            **extra,
        )

    return make


@pytest.fixture
def make_campaign(org: Any, cast: dict[str, User]) -> Callable[..., Any]:
    from campaigns.models import CampaignKind
    from campaigns.services import create_campaign

    def make(**overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "actor": cast["supervisor"],
            "name": "积案化解百日会战",
            "kind": CampaignKind.BACKLOG,
            "center": org.city,
            "starts_on": date(2026, 2, 1),
            "ends_on": date(2026, 6, 30),
            "targets": {"resolution_rate": 0.8, "cessation_rate": 0.6},
        }
        fields.update(overrides)
        return create_campaign(**fields)

    return make


@pytest.fixture
def campaign(make_campaign: Callable[..., Any]) -> Any:
    return make_campaign()


@pytest.fixture
def make_matter(
    org: Any, cast: dict[str, User], make_case: Callable[..., Case]
) -> Callable[..., Any]:
    from campaigns.services import hand_down_matter

    def make(campaign: Any, case: Case | None = None, **overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "actor": cast["supervisor"],
            "campaign": campaign,
            "case": case or make_case(),
            "department": org.dept(org.city, DepartmentKind.POLICE),
            "leader": cast["head"],
            "handler": cast["police"],
            "due_on": date(2026, 5, 31),
            "target_result": "依法化解，息诉罢访",
        }
        fields.update(overrides)
        return hand_down_matter(**fields)

    return make
