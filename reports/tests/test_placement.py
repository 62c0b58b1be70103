"""Which period an event counts in, and what Art 37 leaves out (issue 18 #6)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
import time_machine

from clocks.models import DeadlineKind
from core.models import DepartmentKind
from petitions.states import CaseState
from reports.counters import refresh_counters
from reports.filters import parse_filters
from reports.indicators import compute, compute_live

from .conftest import Builder, at

pytestmark = pytest.mark.django_db
NOW = at(12, 20, 2025)
WEEK = {"from": "2025-12-03", "to": "2025-12-07"}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _figures(cast, params, live=True):
    filters, form = parse_filters(params, user=cast["supervisor"])
    assert filters is not None, form.errors
    report = (compute_live if live else compute)(filters, now=NOW)
    return {i.code: (i.numerator, i.denominator) for i in report.indicators}, report


def _late_cases(org, cast):
    """One case accepted late and one completed late, both on 7 Dec, due 2 Dec."""
    b = Builder(org, cast)
    police = org.dept(org.city, DepartmentKind.POLICE)
    A, H = DeadlineKind.ACCEPTANCE_NOTICE, DeadlineKind.HANDLING
    accepted_late = b.case(at(11, 17, 2025))
    a = b.assignment(accepted_late, police, at(11, 17, 2025), accepted=at(12, 7, 2025))
    b.clock(accepted_late, A, at(11, 17, 2025), at(12, 2, 2025), at(12, 7, 2025), assignment=a)
    done_late = b.case(at(10, 1, 2025), state=CaseState.REPLIED)
    b.assignment(done_late, police, at(10, 1, 2025), accepted=at(10, 3, 2025))
    b.clock(done_late, H, at(10, 3, 2025), at(12, 2, 2025), at(12, 7, 2025))
    return b, police, accepted_late, done_late


def test_late_acceptance_and_completion_count_in_the_period_they_happened(org, cast):
    _late_cases(org, cast)
    figures, _report = _figures(cast, WEEK)
    assert figures["timely_acceptance"] == (0, 1)
    assert figures["on_time_completion"] == (0, 1)
    # and not in the period of the due date, where nothing was decided yet
    early, _ = _figures(cast, {"from": "2025-12-01", "to": "2025-12-02"})
    assert early["timely_acceptance"] == (0, 0) and early["on_time_completion"] == (0, 0)


def test_an_unfinished_overdue_case_counts_late_on_its_due_date(org, cast):
    b, police, *_ = _late_cases(org, cast)
    open_case = b.case(at(10, 1, 2025))
    b.clock(open_case, DeadlineKind.HANDLING, at(10, 3, 2025), at(12, 4, 2025))
    figures, report = _figures(cast, WEEK)
    assert figures["on_time_completion"] == (0, 2)
    assert report.counts["overdue"] == 1  # went overdue on 4 Dec (the others on 2 Dec)


def test_the_daily_counters_place_events_by_the_same_rule(org, cast, settings):
    _late_cases(org, cast)
    refresh_counters(date(2025, 10, 1), date(2025, 12, 19), now=NOW)
    live, _ = _figures(cast, WEEK)
    counted, _ = _figures(cast, WEEK, live=False)
    assert counted == live


def test_a_terminated_case_is_left_out_of_every_indicator(org, cast):
    b, _police, accepted_late, done_late = _late_cases(org, cast)
    for case in (accepted_late, done_late):
        b.event(case, "terminate", at(12, 10, 2025))
    for period in (WEEK, {"from": "2025-12-01", "to": "2025-12-07"}):
        figures, report = _figures(cast, period)
        assert figures["timely_acceptance"] == (0, 0), period
        assert figures["on_time_completion"] == (0, 0), period
        assert report.counts["overdue"] == 0, period


def test_center_rating_is_shown_beside_the_department_rating(org, cast):
    from closure.models import Evaluation

    b, police, *_ = _late_cases(org, cast)
    case = b.case(at(12, 1, 2025), state=CaseState.REPLIED)
    reply = b.reply(case, police, at(12, 4, 2025))
    evaluation = b.evaluation(case, reply, at(12, 5, 2025), "satisfied")
    Evaluation.objects.filter(pk=evaluation.pk).update(center_rating="dissatisfied")
    figures, _ = _figures(cast, WEEK)
    assert figures["satisfaction"] == (1, 1)  # the department's rating
    assert figures["center_satisfaction"] == (0, 1)  # the center's, beside it


def test_every_definition_prints_the_placement_and_exclusions(org, cast):
    _figures_, report = _figures(cast, WEEK)
    for ind in report.indicators:
        text = ind.indicator.definition
        assert "计入期间依据" in text and "不计入" in text, ind.code
    by_code = report.by_code()
    assert "依法终结" in by_code["on_time_completion"].indicator.definition
    assert "逾期未办结" in by_code["on_time_completion"].indicator.definition


def test_bulletin_and_league_csv_print_the_definitions(org, cast, client):
    _late_cases(org, cast)
    client.force_login(cast["supervisor"])
    bulletin = client.get("/reports/bulletin/?month=2025-12").content.decode()
    league = client.get("/reports/league/?from=2025-12-03&to=2025-12-07&format=csv")
    text = league.content.decode("utf-8-sig")
    for doc in (bulletin, text):
        assert "按办结日期" in doc, doc[:200]


def test_reports_cache_seconds_is_read_from_the_environment():
    env = {
        **os.environ,
        "REPORTS_CACHE_SECONDS": "7",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    code = "import django; django.setup(); from reports.cache import cache_seconds; print(cache_seconds())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "7"
