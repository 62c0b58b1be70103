"""Daily counters give the same figures as the live aggregates on the hand-computed fixture."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.counters import compute_with_counters, refresh_counters
from reports.filters import parse_filters
from reports.indicators import compute, compute_live
from reports.models import ReportCounterRun, ReportDailyCount

from .conftest import EXPECTED, EXPECTED_COUNTS, NOW, PERIOD

pytestmark = pytest.mark.django_db


def filters_for(user, **params):
    filters, form = parse_filters({**PERIOD, **params}, user=user)
    assert filters is not None, form.errors
    return filters


def pairs(report):
    return {i.code: (i.numerator, i.denominator) for i in report.indicators}


def test_counters_sum_to_the_live_figures(scenario, cast, settings):
    settings.REPORTS_CESSATION_DAYS = 30
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    assert ReportDailyCount.objects.exists()
    f = filters_for(cast["supervisor"])
    with CaptureQueriesContext(connection) as queries:
        report = compute_with_counters(f, NOW)
    assert report is not None
    assert pairs(report) == EXPECTED
    assert report.counts == EXPECTED_COUNTS
    assert len(queries) <= 4  # run, one SUM over the counters, leader responsibility


def test_a_period_past_the_counters_adds_the_live_days(scenario, cast, settings):
    settings.REPORTS_CESSATION_DAYS = 30
    refresh_counters(date(2026, 1, 1), date(2026, 3, 15), now=NOW)
    report = compute(filters_for(cast["supervisor"]), now=NOW)
    assert pairs(report) == EXPECTED
    assert report.counts == EXPECTED_COUNTS


@pytest.mark.parametrize(
    "params",
    [{"center": "county_a"}, {"subtree": "0", "center": "city"}, {"law_related": "1"}],
)
def test_counters_follow_the_scope_filters(scenario, cast, org, settings, params):
    settings.REPORTS_CESSATION_DAYS = 30
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    params = {k: (str(getattr(org, v).pk) if k == "center" else v) for k, v in params.items()}
    f = filters_for(cast["supervisor"], **params)
    counted = compute_with_counters(f, NOW)
    assert counted is not None
    live = compute_live(f, now=NOW)
    assert pairs(counted) == pairs(live)
    assert counted.counts == live.counts


def test_department_filter_and_other_windows_are_computed_live(scenario, cast, settings):
    settings.REPORTS_CESSATION_DAYS = 30
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    assert (
        compute_with_counters(
            filters_for(cast["supervisor"], department=str(scenario.police.pk)), NOW
        )
        is None
    )
    assert compute_with_counters(filters_for(cast["supervisor"], cessation_days="60"), NOW) is None
    early = filters_for(cast["supervisor"], **{"from": "2025-12-01"})
    assert compute_with_counters(early, NOW) is None


def test_a_recent_rebuild_keeps_the_history(scenario, cast):
    refresh_counters(date(2026, 1, 1), date(2026, 5, 31), now=NOW)
    refresh_counters(date(2026, 4, 1), date(2026, 6, 14), now=NOW)
    run = ReportCounterRun.objects.get()
    assert (run.built_from, run.built_through) == (date(2026, 1, 1), date(2026, 6, 14))


def test_refresh_recent_builds_the_history_once_then_the_recent_days(scenario, cast):
    from reports.counters import refresh_recent

    refresh_recent(now=NOW)
    run = ReportCounterRun.objects.get()
    assert run.built_from == date(2026, 1, 15)  # the first case's day
    assert run.built_through == date(2026, 6, 14)  # yesterday
    refresh_recent(now=NOW)
    assert ReportCounterRun.objects.get().built_from == date(2026, 1, 15)


def test_the_management_command_refuses_a_bad_date(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("refresh_report_counters", since="2026-13-01")
