"""Daily counters give the same figures as the live aggregates on the hand-computed fixture."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
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


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2026-01-20", "to": "2026-05-10"},  # whole months between two partial ones
        {"from": "2026-02-01", "to": "2026-04-30"},  # whole months only
        {"from": "2026-03-05", "to": "2026-03-20"},  # days of one month only
        {"from": "2026-01-01", "to": "2026-06-15"},  # to today: the counters and today live
    ],
)
def test_month_rows_and_day_rows_give_the_live_figures(scenario, cast, settings, period):
    """The counter read (whole months from the month rows, the ends from the day rows, today
    live) against the full live computation on the same data."""
    settings.REPORTS_CESSATION_DAYS = 30
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    f = filters_for(cast["supervisor"], **period)
    with CaptureQueriesContext(connection) as queries:
        counted = compute_with_counters(f, NOW)
    assert counted is not None
    live = compute_live(f, now=NOW)
    assert pairs(counted) == pairs(live)
    assert counted.counts == live.counts
    sums = [q["sql"] for q in queries if "reports_reportdailycount" in q["sql"]]
    assert len(sums) == 1  # one read of the counters, whatever the period


def test_month_rows_are_the_sums_of_their_days_after_a_partial_rebuild(scenario, cast):
    from django.db.models import Sum
    from django.db.models.functions import TruncMonth

    from reports.counters import METRICS

    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    refresh_counters(date(2026, 4, 10), date(2026, 6, 14), now=NOW)  # a nightly rebuild
    days = {
        (r.pop("m"), r.pop("center_id")): r
        for r in ReportDailyCount.objects.filter(grain=ReportDailyCount.DAY)
        .annotate(m=TruncMonth("day"))
        .values("m", "center_id")
        .annotate(**{k: Sum(k) for k in METRICS})
    }
    months = {
        (r.pop("day"), r.pop("center_id")): r
        for r in ReportDailyCount.objects.filter(grain=ReportDailyCount.MONTH)
        .values("day", "center_id")
        .annotate(**{k: Sum(k) for k in METRICS})
    }
    assert months and months == days


@pytest.mark.parametrize(
    "period",
    [{"from": "2026-01-20", "to": "2026-05-10"}, {"from": "2026-01-01", "to": "2026-06-15"}],
)
def test_chart_series_from_the_counters_match_the_live_ones(scenario, cast, settings, period):
    from reports.selectors import by_subordinate_center, monthly_trend

    settings.REPORTS_CESSATION_DAYS = 30
    f = filters_for(cast["supervisor"], **period)
    settings.REPORTS_USE_COUNTERS = False
    live = (monthly_trend(f), by_subordinate_center(f))
    settings.REPORTS_USE_COUNTERS = True
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    with time_machine.travel(NOW, tick=False):
        counted = (monthly_trend(f), by_subordinate_center(f))
    assert counted == live
    assert sum(m["registered"] for m in live[0]) > 0


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2026-01-01", "to": "2026-06-15"},
        {"from": "2026-01-20", "to": "2026-05-10"},
        {"from": "2026-03-01", "to": "2026-03-31"},
    ],
)
def test_cases_assigned_per_department_from_the_counters_match_the_live_ones(
    scenario, cast, settings, period
):
    from reports.models import ReportDepartmentCount
    from reports.selectors import by_department

    f = filters_for(cast["supervisor"], **period)
    settings.REPORTS_USE_COUNTERS = False
    live = by_department(f, NOW)
    settings.REPORTS_USE_COUNTERS = True
    refresh_counters(date(2026, 1, 1), date(2026, 6, 14), now=NOW)
    assert ReportDepartmentCount.objects.filter(grain=ReportDailyCount.MONTH).exists()
    assert by_department(f, NOW) == live
    assert sum(row["assigned"] for row in live) > 0


def test_the_termination_index_covers_the_termination_kinds(db):
    import importlib

    from reports.indicators import TERMINATION_EVENT_KINDS

    migration = importlib.import_module("reports.migrations.0006_termination_event_index")
    expected = "(" + ", ".join(f"'{k}'" for k in TERMINATION_EVENT_KINDS) + ")"
    kinds = migration.KINDS
    assert kinds == expected
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'reports_caseevent_termination_idx'"
        )
        assert cursor.fetchone() is not None
