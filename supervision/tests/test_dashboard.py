"""The supervisor dashboard and its drill-down list: who may see it, what it counts, and at what
cost (the query count must not grow with cases or centers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind, WarningLevel
from clocks.sweep import run_deadline_checks
from conftest import Org, make_user
from core.models import Center, Department, DepartmentKind, User
from core.roles import Role
from intake.models import LeaderDuty
from petitions.models import Case
from petitions.testing import register
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment
from supervision.selectors import at_risk_deadlines

DASHBOARD = "/supervision/"
CASE_LIST = "/supervision/cases/"


@dataclass
class Staff:
    reception: User
    triage: User
    officer: User


def staff_at(org: Org, cast: dict[str, User], center: Center) -> Staff:
    """Front desk, triage and a police officer at ``center`` (the cast's where it has them)."""
    if center == org.city:
        return Staff(cast["reception"], cast["triage"], cast["police"])
    if center == org.county_a:
        return Staff(cast["county_reception"], cast["county_triage"], cast["county_police"])
    code = center.region_code
    existing = User.objects.filter(username=f"reception-{code}").first()
    if existing is not None:
        return Staff(
            existing,
            User.objects.get(username=f"triage-{code}"),
            User.objects.get(username=f"police-{code}"),
        )
    return Staff(
        make_user(f"reception-{code}", center, [Role.RECEPTION]),
        make_user(f"triage-{code}", center, [Role.TRIAGE]),
        make_user(
            f"police-{code}", center, [Role.OFFICER], org.dept(center, DepartmentKind.POLICE)
        ),
    )


def handling_case(staff: Staff, department: Department | None = None, **overrides) -> Case:
    """A case registered, assigned to ``department`` (the officer's by default), signed for and
    accepted: its one running clock is the 60-day handling deadline."""
    case = register(staff.reception, **overrides).case
    (lead,) = assign_case(
        actor=staff.triage,
        case=case,
        lead=DepartmentDue(
            department or staff.officer.department, case.registered_at + timedelta(days=60)
        ),
    )
    sign_for_assignment(actor=staff.officer, assignment=lead)
    accept_assignment(actor=staff.officer, assignment=lead)
    return case


def overdue_by(case: Case, days: float, now: datetime) -> None:
    """Put the case's handling deadline ``days`` into the past (the sweep then marks it)."""
    due = now - timedelta(days=days)
    Deadline.objects.filter(case=case, kind=DeadlineKind.HANDLING, met_at__isnull=True).update(
        starts_at=due - timedelta(days=60), due_at=due
    )


def listed_cases(response) -> list[str]:
    return [row.case.number for row in response.context["rows"]]


def cell(row, level: str) -> tuple[int, str]:
    found = next(c for c in row.cells if c.level == level)
    return found.count, found.url


def table(response, name: str) -> dict[str, object]:
    return {row.key: row for row in response.context[name]}


# --- who may see it -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reception_gets_403_on_the_dashboard_and_the_list(client, cast):
    client.force_login(cast["reception"])
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(CASE_LIST).status_code == 403


@pytest.mark.django_db
def test_department_officer_gets_403_on_the_dashboard(client, cast):
    client.force_login(cast["police"])
    assert client.get(DASHBOARD).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["supervisor", "leader"])
def test_supervisor_and_leader_see_the_dashboard(client, cast, who):
    client.force_login(cast[who])
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert reverse("supervision:dashboard") == DASHBOARD


# --- the figures --------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)
CHECK = datetime(2026, 5, 2, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def four_cases(org, cast):
    """Handling clocks of 60 calendar days, looked at on 2 May 2026 10:00 after the sweep:
    A (city police, accepted 2 Mar, due 1 May): overdue by one day;
    B (city police, accepted 4 Mar, due 3 May): severe (1 whole day left);
    C (county A police, accepted 5 Mar, due 4 May): approaching (2 days left);
    D (city police, accepted 1 Apr): on time, not at risk."""
    city, county = staff_at(org, cast, org.city), staff_at(org, cast, org.county_a)
    cases = {}
    for name, staff, offset in [("A", city, 0), ("B", city, 2), ("C", county, 3), ("D", city, 30)]:
        with time_machine.travel(T0 + timedelta(days=offset)):
            cases[name] = handling_case(staff)
    with time_machine.travel(CHECK):
        run_deadline_checks()
    levels = {
        name: Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING).warning_level
        for name, case in cases.items()
    }
    assert levels == {
        "A": WarningLevel.OVERDUE,
        "B": WarningLevel.SEVERE,
        "C": WarningLevel.APPROACHING,
        "D": WarningLevel.ON_TIME,
    }
    return cases


def get_as(client, user: User, url: str, **params):
    with time_machine.travel(CHECK):
        client.force_login(user)
        return client.get(url, params)


@pytest.mark.django_db
def test_city_supervisor_sees_the_levels_of_city_and_county_cases(client, org, cast, four_cases):
    response = get_as(client, cast["supervisor"], DASHBOARD)
    totals = response.context["figures"].totals
    assert (totals.overdue, totals.severe, totals.approaching, totals.total) == (1, 1, 1, 3)

    centers = table(response, "by_center")
    assert set(centers) == {str(org.city.pk), str(org.county_a.pk), str(org.county_b.pk)}
    assert cell(centers[str(org.city.pk)], "overdue")[0] == 1
    assert cell(centers[str(org.city.pk)], "severe")[0] == 1
    assert cell(centers[str(org.city.pk)], "total")[0] == 2
    assert cell(centers[str(org.county_a.pk)], "approaching")[0] == 1
    assert cell(centers[str(org.county_b.pk)], "total")[0] == 0

    city_police = org.dept(org.city, DepartmentKind.POLICE)
    county_police = org.dept(org.county_a, DepartmentKind.POLICE)
    departments = table(response, "by_department")
    assert set(departments) == {str(city_police.pk), str(county_police.pk)}
    assert cell(departments[str(city_police.pk)], "total")[0] == 2
    assert cell(departments[str(county_police.pk)], "total")[0] == 1

    officers = table(response, "by_officer")
    assert cell(officers[str(cast["police"].pk)], "total")[0] == 2
    assert cell(officers[str(cast["county_police"].pk)], "approaching")[0] == 1


@pytest.mark.django_db
def test_county_supervisor_sees_only_the_county(client, org, cast, four_cases):
    county_supervisor = make_user("county_supervisor", org.county_a, [Role.SUPERVISOR])
    response = get_as(client, county_supervisor, DASHBOARD)
    figures = response.context["figures"]
    assert (figures.totals.total, figures.totals.approaching, figures.totals.overdue) == (1, 1, 0)
    assert [row.key for row in figures.by_center] == [str(org.county_a.pk)]
    listed = get_as(client, county_supervisor, CASE_LIST)
    assert listed_cases(listed) == [four_cases["C"].number]
    # Asking for the city by id does not widen the scope: the center is not among the choices.
    listed = get_as(client, county_supervisor, CASE_LIST, center=org.city.pk)
    assert listed_cases(listed) == [four_cases["C"].number]
    assert listed.context["form"].errors


@pytest.mark.django_db
def test_outsider_sees_nothing_of_ours(client, org, cast, four_cases):
    response = get_as(client, cast["outsider"], DASHBOARD)
    figures = response.context["figures"]
    assert figures.totals.total == 0 and figures.overdue_clocks == 0
    assert [row.key for row in figures.by_center] == [str(org.other_province.pk)]
    assert figures.by_department == [] and figures.by_officer == []
    assert four_cases["A"].number not in response.content.decode()
    listed = get_as(client, cast["outsider"], CASE_LIST, level="overdue")
    assert listed_cases(listed) == []


@pytest.mark.django_db
def test_province_supervisor_sees_every_center_below(client, org, cast, four_cases):
    response = get_as(client, cast["province_supervisor"], DASHBOARD)
    assert response.context["figures"].totals.total == 3
    assert len(response.context["by_center"]) == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "dashboard_filters",
    [{}, {"center": "city"}, {"level": "severe"}, {"law_related": "no"}, {"kind": "handling"}],
)
def test_every_count_drills_down_to_exactly_its_cases(
    client, org, cast, four_cases, dashboard_filters
):
    params = {k: (org.city.pk if v == "city" else v) for k, v in dashboard_filters.items()}
    response = get_as(client, cast["supervisor"], DASHBOARD, **params)
    case_links = list(response.context["summary"]) + list(response.context["law_summary"])
    for name in ("by_center", "by_department", "by_officer"):
        case_links += [c for row in response.context[name] for c in row.cells]
    assert any(link.count for link in case_links) or dashboard_filters.get("law_related")
    for link in case_links:
        if not link.url:  # ruled out by the filters: a structural zero, not a link
            assert link.count == 0
            continue
        listed = get_as(client, cast["supervisor"], link.url)
        assert listed.status_code == 200
        assert listed.context["totals"].cases == link.count, link.url
        if link.level != "total":
            assert {r.deadline.warning_level for r in listed.context["rows"]} <= {link.level}
    clock_links = list(response.context["aging"])
    clock_links.append(
        type(clock_links[0])(
            "all",
            response.context["figures"].overdue_clocks,
            response.context["overdue_clocks_url"],
        )
    )
    for link in clock_links:
        if link.url:
            listed = get_as(client, cast["supervisor"], link.url)
            assert listed.context["totals"].clocks == link.count, link.url
        else:
            assert link.count == 0


@pytest.mark.django_db
def test_overdue_drilldown_lists_the_overdue_case_with_its_details(client, org, cast, four_cases):
    response = get_as(client, cast["supervisor"], DASHBOARD)
    _, url = cell(table(response, "by_center")[str(org.city.pk)], "overdue")
    listed = get_as(client, cast["supervisor"], url)
    assert listed_cases(listed) == [four_cases["A"].number]
    (row,) = listed.context["rows"]
    assert row.department == org.dept(org.city, DepartmentKind.POLICE) and row.is_lead
    assert row.handler == cast["police"]
    assert row.deadline.kind == DeadlineKind.HANDLING
    assert row.days == -1  # due at the end of 1 May, looked at on 2 May
    assert row.escalation is not None and row.escalation.role == Role.HEAD
    html = listed.content.decode()
    assert f'href="/cases/{four_cases["A"].pk}/"' in html
    assert 'data-testid="warning-tag" data-level="overdue" data-days="-1"' in html


@pytest.mark.django_db
def test_filters_narrow_by_kind_level_department_and_law_flag(client, org, cast):
    now = timezone.now()
    city = staff_at(org, cast, org.city)
    law = handling_case(city)
    not_law = handling_case(city, is_law_related=False)
    for case in (law, not_law):
        overdue_by(case, 3, now)
    run_deadline_checks(now=now)
    supervisor = cast["supervisor"]
    client.force_login(supervisor)

    def numbers(**params) -> set[str]:
        return set(listed_cases(client.get(CASE_LIST, params)))

    assert numbers() == {law.number, not_law.number}
    assert numbers(law_related="yes") == {law.number}
    assert numbers(law_related="no") == {not_law.number}
    assert numbers(kind=DeadlineKind.SCREENING) == set()
    assert numbers(kind=DeadlineKind.HANDLING, level="overdue") == {law.number, not_law.number}
    assert numbers(level="approaching") == set()
    court = org.dept(org.city, DepartmentKind.COURT)
    assert numbers(department=court.pk) == set()
    police = org.dept(org.city, DepartmentKind.POLICE)
    assert numbers(department=police.pk) == {law.number, not_law.number}
    assert numbers(handler=cast["police"].pk) == {law.number, not_law.number}
    dashboard = client.get(DASHBOARD, {"law_related": "yes"})
    assert dashboard.context["figures"].totals.total == 1


@pytest.mark.django_db
def test_unassigned_screening_clock_counts_under_no_department(client, org, cast):
    now = timezone.now()
    case = register(cast["reception"]).case
    screening = Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING)
    Deadline.objects.filter(pk=screening.pk).update(
        starts_at=now - timedelta(days=20), due_at=now - timedelta(days=5)
    )
    run_deadline_checks(now=now)
    client.force_login(cast["supervisor"])
    response = client.get(DASHBOARD)
    departments = table(response, "by_department")
    count, url = cell(departments["none"], "overdue")
    assert count == 1
    assert listed_cases(client.get(url)) == [case.number]
    assert set(table(response, "by_officer")) == {"none"}


# --- aging --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_aging_buckets_count_overdue_clocks_by_days_overdue(client, org, cast):
    now = timezone.now()
    city = staff_at(org, cast, org.city)
    ages = {3: None, 10: None, 45: None, 100: None, 7: None, 7.01: None}
    for days in ages:
        ages[days] = handling_case(city)
        overdue_by(ages[days], days, now)
    run_deadline_checks(now=now)
    client.force_login(cast["supervisor"])
    # Frozen, so that the view's "now" is the one the clocks were set from (7 days exactly).
    with time_machine.travel(now, tick=False):
        response = client.get(DASHBOARD)
        counts = {c.level: c.count for c in response.context["aging"]}
        # 7 days exactly is in 1-7; a quarter of an hour more is the 8th day overdue.
        assert counts == {"1-7": 2, "8-30": 2, "31-90": 1, "91+": 1}
        assert response.context["figures"].overdue_clocks == 6

        expected = {"1-7": {3, 7}, "8-30": {10, 7.01}, "31-90": {45}, "91+": {100}}
        bounds = {"1-7": (1, 7), "8-30": (8, 30), "31-90": (31, 90), "91+": (91, 10_000)}
        for bucket in response.context["aging"]:
            listed = client.get(bucket.url)
            assert set(listed_cases(listed)) == {ages[d].number for d in expected[bucket.level]}
            low, high = bounds[bucket.level]
            # the bucket agrees with the days overdue shown in the list
            assert all(low <= max(-row.days, 1) <= high for row in listed.context["rows"])


# --- the duty roster and the unread count -------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_the_next_seven_days_of_leader_duty_at_my_center(client, org, cast):
    today = timezone.now().astimezone(CHINA_TZ).date()
    leader = cast["leader"]
    county_leader = make_user("county_leader", org.county_a, [Role.LEADER])
    LeaderDuty.objects.create(date=today, leader=leader, center=org.city, note="上午")
    LeaderDuty.objects.create(date=today + timedelta(days=6), leader=leader, center=org.city)
    LeaderDuty.objects.create(date=today + timedelta(days=7), leader=leader, center=org.city)
    LeaderDuty.objects.create(date=today - timedelta(days=1), leader=leader, center=org.city)
    LeaderDuty.objects.create(date=today, leader=county_leader, center=org.county_a)
    client.force_login(cast["supervisor"])
    response = client.get(DASHBOARD)
    assert [d.date for d in response.context["duty"]] == [today, today + timedelta(days=6)]
    assert all(d.center == org.city for d in response.context["duty"])
    assert 'data-testid="duty-row"' in response.content.decode()


@pytest.mark.django_db
def test_dashboard_shows_my_unread_notification_count(client, cast):
    register(cast["reception"])
    register(cast["reception"])
    cast["supervisor"].set_roles([Role.SUPERVISOR, Role.TRIAGE])
    client.force_login(cast["supervisor"])
    html = client.get(DASHBOARD).content.decode()
    assert 'data-testid="dashboard-unread" data-unread="2"' in html


# --- query counts and the index -----------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_and_list_query_counts_do_not_grow_with_cases_or_centers(
    client, org, cast, django_assert_num_queries
):
    now = timezone.now()
    supervisor = cast["province_supervisor"]

    def overdue_cases(center: Center, n: int, days: int) -> None:
        staff = staff_at(org, cast, center)
        for _ in range(n):
            case = handling_case(staff)
            overdue_by(case, days, now)

    overdue_cases(org.city, 2, 3)
    overdue_cases(org.county_a, 1, 40)
    run_deadline_checks(now=now)
    client.force_login(supervisor)
    client.get(DASHBOARD)  # the process's caches warm (core.codecache, sessions)
    with CaptureQueriesContext(connection) as small_dashboard:
        response = client.get(DASHBOARD)
    assert response.context["figures"].totals.overdue == 3
    with CaptureQueriesContext(connection) as small_list:
        response = client.get(CASE_LIST, {"level": "overdue"})
    assert len(response.context["rows"]) == 3

    overdue_cases(org.county_b, 12, 10)
    overdue_cases(org.province, 10, 100)
    run_deadline_checks(now=now)
    with django_assert_num_queries(len(small_dashboard)):
        response = client.get(DASHBOARD)
    figures = response.context["figures"]
    assert figures.totals.overdue == 25
    assert sum(1 for row in figures.by_center if row.counts.total) == 4
    assert {a.bucket.key: a.count for a in figures.aging} == {
        "1-7": 2,
        "8-30": 12,
        "31-90": 1,
        "91+": 10,
    }
    with django_assert_num_queries(len(small_list)):
        response = client.get(CASE_LIST, {"level": "overdue"})
    assert len(response.context["rows"]) == 25
    # a handful of aggregate queries, not one per center, department or case
    assert len(small_dashboard) <= 16


@pytest.mark.django_db
def test_at_risk_query_states_the_partial_index_predicate(org, cast):
    """deadline_open_due_idx is partial (met_at IS NULL) on due_at: PostgreSQL can only use it
    when the query says met_at IS NULL, and can range-scan it with an upper bound on due_at.
    (Whether it does depends on table statistics, which a test database does not have.)"""
    now = timezone.now()
    sql = str(at_risk_deadlines(cast["supervisor"], now=now).query)
    where = sql[sql.index(" WHERE ") :]
    assert '"supervision_deadline"."met_at" IS NULL' in where
    assert '"supervision_deadline"."due_at" <=' in where


# --- the warning-level tag component ------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "days", "css", "text"),
    [
        ("on_time", 12, "ok", "12 days left"),
        ("approaching", 2, "warn", "2 days left"),
        ("severe", 0, "danger", "due today"),
        ("severe", 1, "danger", "1 day left"),
        ("overdue", -5, "danger", "Overdue by 5 days"),
        ("overdue", -1, "danger", "Overdue by 1 day"),
    ],
)
def test_warning_tag_shows_level_and_days(level, days, css, text, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        html = render_to_string("supervision/_warning_tag.html", {"level": level, "days": days})
    assert f'data-level="{level}"' in html and f'data-days="{days}"' in html
    assert f" {css}" in html.split('"')[1]
    assert text in html


def test_warning_tag_without_days_shows_the_level_only():
    from django.utils import translation

    with translation.override("en"):
        html = render_to_string("supervision/_warning_tag.html", {"level": "overdue"})
    assert "data-days" not in html and ">Overdue<" in html
