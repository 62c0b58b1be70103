"""Campaign figures against a hand count: 化解, 息诉罢访 over the observation window, the breakdowns,
scoping, and a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Matter, MatterOutcome
from campaigns.selectors import campaign_summary
from campaigns.services import hand_down_matter, record_progress
from campaigns.tests.conftest import NOW
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Visit
from petitions.states import CaseState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_now")]


def _resolve(matter, actor):
    record_progress(
        actor=actor, matter=matter, text="化解", outcome=MatterOutcome.RESOLVED, resolution="和解"
    )


def _visit(case, at, by):
    return Visit.objects.create(
        case=case,
        petitioner=case.main_petitioner,
        center=case.center,
        channel=case.channel,
        at=at,
        received_by=by,
    )


@pytest.fixture
def seed(cast, make_campaign, make_matter):
    """The seed county's figures: 12 handed down, 8 resolved (today), 4 in hand."""
    campaign = make_campaign(observation_days=90)
    matters = [make_matter(campaign) for _ in range(12)]
    for matter in matters[:8]:
        _resolve(matter, cast["head"])
    return campaign, matters


def test_seed_figures_before_and_after_the_observation_window(seed, cast):
    campaign, matters = seed
    summary = campaign_summary(campaign)
    assert (summary["handed_down"], summary["resolved"], summary["in_hand"]) == (12, 8, 4)
    assert (summary["stalled"], summary["terminated"], summary["ceased"]) == (0, 0, 0)
    assert summary["resolution_rate"] == 0.6667
    assert summary["cessation_rate"] == 0.0  # the window has not passed yet
    assert summary["targets"] == {"resolution_rate": 0.8, "cessation_rate": 0.6}
    after = campaign_summary(campaign, now=NOW + timedelta(days=90, seconds=1))
    assert after["ceased"] == 8
    assert after["cessation_rate"] == 0.6667  # 息诉率 67%
    # one day short of the window: nothing has ceased yet
    assert campaign_summary(campaign, now=NOW + timedelta(days=89))["ceased"] == 0


def test_a_visit_inside_the_window_stops_cessation_one_after_it_does_not(seed, cast, make_case):
    campaign, matters = seed
    _visit(matters[0].case, NOW + timedelta(days=30), cast["reception"])  # inside
    _visit(matters[1].case, NOW + timedelta(days=95), cast["reception"])  # after
    _visit(matters[2].case, NOW - timedelta(days=5), cast["reception"])  # before resolution
    # a new case of matter 3's petitioner inside the window, one of matter 4's after it
    make_case(petitioner=matters[3].case.main_petitioner, registered_at=NOW + timedelta(days=10))
    make_case(petitioner=matters[4].case.main_petitioner, registered_at=NOW + timedelta(days=91))
    summary = campaign_summary(campaign, now=NOW + timedelta(days=100))
    assert summary["ceased"] == 6  # 8 resolved, minus matter 0 (visit) and 3 (new case)
    assert summary["cessation_rate"] == 0.5


def test_lawful_termination_counts_from_the_case(seed, cast):
    campaign, matters = seed
    # an in-hand matter whose case was lawfully terminated, and a resolved one (stays resolved)
    for matter in (matters[9], matters[0]):
        matter.case.state = CaseState.TERMINATED
        matter.case.save(update_fields=["state"])
    record_progress(
        actor=cast["police"], matter=matters[10], text="x", outcome="stalled", obstacle="y"
    )
    summary = campaign_summary(campaign)
    assert (summary["resolved"], summary["in_hand"], summary["stalled"]) == (8, 2, 1)
    assert summary["terminated"] == 1
    assert summary["handed_down"] == 12


def test_breakdowns(org, cast, make_campaign, make_matter, make_case):
    campaign = make_campaign(include_subordinates=True)
    county_head = make_user(
        "county_head", org.county_a, [Role.HEAD], org.dept(org.county_a, DepartmentKind.POLICE)
    )
    police = [make_matter(campaign) for _ in range(3)]
    court_head = make_user(
        "court_head", org.city, [Role.HEAD], org.dept(org.city, DepartmentKind.COURT)
    )
    court = make_matter(
        campaign, department=org.dept(org.city, DepartmentKind.COURT), leader=court_head
    )
    county = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=make_case(center=org.county_a),
        center=org.county_a,
        leader=county_head,
        due_on=police[0].due_on,
        target_result="化解",
    )
    _resolve(police[0], cast["head"])
    _resolve(county, county_head)
    # handed down a week later
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        late = make_matter(campaign)
    summary = campaign_summary(campaign, now=NOW + timedelta(days=8))
    by_center = {row["name"]: row for row in summary["by_center"]}
    assert set(by_center) == {"市中心", "甲县中心"}
    assert (by_center["市中心"]["handed_down"], by_center["市中心"]["resolved"]) == (5, 1)
    assert by_center["市中心"]["resolution_rate"] == 0.2
    assert (by_center["甲县中心"]["handed_down"], by_center["甲县中心"]["resolved"]) == (1, 1)
    by_department = {row["id"]: row["handed_down"] for row in summary["by_department"]}
    # the county matter went to a center: it counts under its 包案 leader's department
    assert by_department == {
        police[0].department_id: 4,
        court.department_id: 1,
        county_head.department_id: 1,
    }
    by_leader = {row["name"]: (row["handed_down"], row["resolved"]) for row in summary["by_leader"]}
    assert by_leader == {"head": (4, 1), "court_head": (1, 0), "county_head": (1, 1)}
    by_week = [(row["id"], row["handed_down"]) for row in summary["by_week"]]
    assert by_week == [("2026-02-09", 5), ("2026-02-16", 1)]  # Mondays
    assert late.handed_down_at == NOW + timedelta(days=7)

    # a lower center's user sees the figures of its own matters only
    county_supervisor = make_user("county_sup", org.county_a, [Role.SUPERVISOR])
    scoped = campaign_summary(campaign, user=county_supervisor)
    assert (scoped["handed_down"], scoped["resolved"], scoped["resolution_rate"]) == (1, 1, 1.0)
    assert [row["name"] for row in scoped["by_center"]] == ["甲县中心"]


def test_empty_campaign_has_no_rates(campaign):
    summary = campaign_summary(campaign)
    assert summary["handed_down"] == 0
    assert summary["resolution_rate"] is None
    assert summary["cessation_rate"] is None
    assert summary["by_week"] == []


def test_summary_query_count_does_not_grow_with_matters(cast, campaign, make_matter):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            campaign_summary(campaign, user=cast["supervisor"])
        return len(ctx.captured_queries)

    make_matter(campaign)
    few = count_queries()
    for _ in range(6):
        make_matter(campaign)
    assert Matter.objects.filter(campaign=campaign).count() == 7
    assert count_queries() == few
    assert few <= 5
