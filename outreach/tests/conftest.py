"""Fixtures shared by the outreach tests (tours, visits and appointments, aid, messages).

From campaigns/tests/conftest.py (re-exported here): ``make_case`` (a case built directly, at the
city by default; ``make_case(center=org.county_a)`` for a county case), ``make_campaign``,
``campaign``, ``make_matter``, ``at_now`` (the clock stopped at ``NOW``, 2026-02-10 09:00 Beijing).

Here:
- ``people``: users beyond the root ``cast`` (which works at the city center):
  ``county_supervisor``, ``county_leader``, ``county_head`` (head of county_a's police, the
  department of ``county_police``), ``county_officer_court`` (an officer of county_a's court),
  ``county_b_supervisor``, ``county_b_reception``, ``province_leader``;
- ``handling_case``: a case registered at county_a through intake (``county_reception``),
  assigned by ``county_triage`` to county_a's police as lead and accepted by ``county_police``
  (closure.testing.bring_to_handling): state ``handling``, version as the services left it;
- ``make_handling_case(**register_overrides)``: more such cases (county_a by default;
  ``at="county_b"`` for one at county_b, handled by a county_b police officer made on demand);
- ``city_handling_case``: the same at the city (``reception``, ``triage``, ``police``).
Tests that move time should enter time-machine before asking for these fixtures, or build
cases inside the travel (the cases' clocks start at ``timezone.now()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from campaigns.tests.conftest import (  # noqa: F401  (fixtures re-exported)
    NOW,
    at_now,
    campaign,
    make_campaign,
    make_case,
    make_matter,
)
from closure.testing import bring_to_handling
from conftest import Org, make_user
from core.models import DepartmentKind, User
from core.roles import Role
from petitions.models import Case


@pytest.fixture(autouse=True)
def _seeded_reference_data(reference_data: None) -> None:
    """Migration-seeded rules, holidays, aid checklist and message templates, which a
    transactional test elsewhere may have flushed (the root conftest's fixture puts them back)."""


@pytest.fixture
def people(org: Org, cast: dict[str, User]) -> dict[str, User]:
    a, b = org.county_a, org.county_b
    return {
        "county_supervisor": make_user("county_supervisor", a, [Role.SUPERVISOR]),
        "county_leader": make_user("county_leader", a, [Role.LEADER]),
        "county_head": make_user("county_head", a, [Role.HEAD], org.dept(a, DepartmentKind.POLICE)),
        "county_officer_court": make_user(
            "county_court", a, [Role.OFFICER], org.dept(a, DepartmentKind.COURT)
        ),
        "county_b_supervisor": make_user("county_b_supervisor", b, [Role.SUPERVISOR]),
        "county_b_reception": make_user("county_b_reception", b, [Role.RECEPTION]),
        "province_leader": make_user("province_leader", org.province, [Role.LEADER]),
    }


@pytest.fixture
def make_handling_case(
    org: Org, cast: dict[str, User], people: dict[str, User]
) -> Callable[..., Case]:
    extra: dict[str, User] = {}

    def make(at: str = "county_a", **register_overrides: Any) -> Case:
        if at == "county_a":
            return bring_to_handling(
                reception=cast["county_reception"],
                triage=cast["county_triage"],
                officer=cast["county_police"],
                **register_overrides,
            )
        if at == "city":
            return bring_to_handling(
                reception=cast["reception"],
                triage=cast["triage"],
                officer=cast["police"],
                **register_overrides,
            )
        assert at == "county_b", at
        if not extra:
            b = org.county_b
            extra["triage"] = make_user("county_b_triage", b, [Role.TRIAGE])
            extra["police"] = make_user(
                "county_b_police", b, [Role.OFFICER], org.dept(b, DepartmentKind.POLICE)
            )
        return bring_to_handling(
            reception=people["county_b_reception"],
            triage=extra["triage"],
            officer=extra["police"],
            **register_overrides,
        )

    return make


@pytest.fixture
def handling_case(make_handling_case: Callable[..., Case]) -> Case:
    return make_handling_case()


@pytest.fixture
def city_handling_case(make_handling_case: Callable[..., Case]) -> Case:
    return make_handling_case(at="city")
