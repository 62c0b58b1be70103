"""Daily per-center counters for the indicators (issue 9: "if plain aggregates cannot reach it,
keep daily per-center counters ... maintained by the sweep").

``refresh_counters(first, last)`` runs the very aggregates of reports.indicators grouped by the
Beijing day that places each unit in a period (the decision day of a clock, the delivery day of
a reply, the day of a visit, closure, transfer or order) and by the case dimensions a report
filters on, and replaces the rows of those days in ``ReportDailyCount``. ``compute_with_counters``
then answers a period by summing the rows of the days the counters cover and computing only the
days after them (today) live. The nightly task (reports.tasks.refresh_report_counters) rebuilds
the last ``REPORTS_COUNTER_REFRESH_DAYS`` (default 120: longer than the evaluation and cessation
windows, whose open/ended state changes with time) up to yesterday; ``manage.py
refresh_report_counters --since YYYY-MM-DD`` builds the history (``seed_demo`` does it after
generating cases).

Beside the day rows, each refresh writes month rows (``grain`` "m", the sums of a month's day
rows): ``counter_rows`` reads a period as its whole months plus the days at either end, in one
query on the (grain, center, day) index, so a year is about a tenth of the rows of a daily sum.
The cases assigned per lead department (the reports page's department chart) are kept the same
way in ``ReportDepartmentCount``.

Where the counters are not used (the figures are computed live): a department filter (the
counters do not keep the lead department, which changes on reassignment), a cessation window
other than the default, or a period starting before the counters. Leader-responsibility figures
are always live (a small table, and its denominator is not a per-day event). Known difference
from the live figures: a case counted on two different days of a period (two acceptance clocks
decided on different days) counts once live and twice in the sum; and a case terminated after
its days were counted stays in them until those days are rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Model, Q, QuerySet, Sum
from django.utils import timezone

from core.models import Center
from routing.models import Assignment, AssignmentRole, Transfer
from supervision.models import SupervisionOrder

from . import conf
from .filters import CHINA_TZ, ReportFilters, today
from .indicators import (
    Report,
    _day,
    assemble,
    clock_figures,
    closing_figures,
    daily_groups,
    evaluation_figures,
    leader_figures,
    live_figures,
    overdue_q,
    terminated_q,
    visit_figures,
)
from .models import ReportCounterRun, ReportDailyCount, ReportDepartmentCount

logger = logging.getLogger(__name__)
METRICS = (
    "acc_num", "acc_den", "done_num", "done_den", "sat_num", "csat_num", "eval_num", "due_den", "visits",
    "repeat", "group_visits", "skip_level_visits", "closed", "first_time", "cessation_num",
    "cessation_den", "cases", "transfers", "supervision_orders", "overdue",
)  # fmt: skip
Key = tuple[date, int, int, int, bool]


def counters_enabled() -> bool:
    return bool(getattr(settings, "REPORTS_USE_COUNTERS", True))


def refresh_days() -> int:
    return int(getattr(settings, "REPORTS_COUNTER_REFRESH_DAYS", 120))


def _all_centers(first: date, last: date) -> ReportFilters:
    return ReportFilters(
        start=first,
        end=last,
        center=None,
        subtree=True,
        center_ids=tuple(Center.objects.values_list("pk", flat=True)),
    )


def _collect(rows: Iterable[dict[str, Any]], into: dict[Key, dict[str, int]]) -> None:
    for row in rows:
        key = (row["g_day"], row["g_center"], row["g_channel"], row["g_category"], row["g_law"])
        bucket = into.setdefault(key, {})
        for metric in METRICS:
            if metric in row and row[metric]:
                bucket[metric] = bucket.get(metric, 0) + row[metric]


def daily_rows(first: date, last: date, now: datetime) -> dict[Key, dict[str, int]]:
    """Every counter of the days [first, last], keyed by day and case dimensions: nine GROUP BY
    queries over the whole province (run by the nightly task, not by a request)."""
    f = _all_centers(first, last)
    out: dict[Key, dict[str, int]] = {}
    _collect(clock_figures(f, now, daily=True), out)
    _collect(evaluation_figures(f, now, conf.evaluation_window_days(), daily=True), out)
    _collect(visit_figures(f, daily=True), out)
    _collect(closing_figures(f, now, daily=True), out)
    from petitions.models import Case

    cases = Case.objects.filter(f.case_q(), registered_at__gte=f.since, registered_at__lt=f.until)
    _collect(daily_groups(cases, _day("registered_at"), "", {"cases": Count("pk")}), out)
    orders = SupervisionOrder.objects.filter(
        f.case_q("case__"), issued_at__gte=f.since, issued_at__lt=f.until
    )
    _collect(
        daily_groups(orders, _day("issued_at"), "case__", {"supervision_orders": Count("pk")}),
        out,
    )
    from clocks.models import Deadline

    overdue = Deadline.objects.filter(f.case_q("case__"), overdue_q(f, now)).exclude(
        terminated_q("case__")
    )
    _collect(
        daily_groups(
            overdue, _day("due_at"), "case__", {"overdue": Count("case_id", distinct=True)}
        ),
        out,
    )
    # a transfer counts for the center that made it, not the case's center now
    transfers = (
        Transfer.objects.filter(transferred_at__gte=f.since, transferred_at__lt=f.until)
        .annotate(
            g_day=_day("transferred_at"),
            g_center=_from_center(),
        )
        .values(
            "g_day", "g_center", "case__channel_id", "case__category_id", "case__is_law_related"
        )
        .annotate(transfers=Count("pk"))
        .order_by()
    )
    _collect(
        (
            {
                "g_day": r["g_day"],
                "g_center": r["g_center"],
                "g_channel": r["case__channel_id"],
                "g_category": r["case__category_id"],
                "g_law": r["case__is_law_related"],
                "transfers": r["transfers"],
            }
            for r in transfers
        ),
        out,
    )
    return out


def _from_center() -> Any:
    return F("from_center_id")


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _rebuild_months(
    first: date,
    last: date,
    model: type[ReportDailyCount] | type[ReportDepartmentCount] = ReportDailyCount,
    metrics: tuple[str, ...] = METRICS,
    dims: str = "center_id, channel_id, category_id, is_law_related",
) -> None:
    """Replace the month rows of the months holding [first, last] by the sums of their day rows
    (one INSERT ... SELECT ... GROUP BY in the database)."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(m) for m in metrics)
    sums = ", ".join(f"SUM({connection.ops.quote_name(m)})" for m in metrics)
    start, end = _month_start(first), _next_month(last)
    model.objects.filter(grain=ReportDailyCount.MONTH, day__gte=start, day__lt=end).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (grain, day, {dims}, {columns}) "  # noqa: S608 - names, not input
            f"SELECT %s, date_trunc('month', day)::date, {dims}, {sums} FROM {table} "
            f"WHERE grain = %s AND day >= %s AND day < %s "
            f"GROUP BY date_trunc('month', day)::date, {dims}",
            [ReportDailyCount.MONTH, ReportDailyCount.DAY, start, end],
        )


def department_rows(first: date, last: date) -> list[ReportDepartmentCount]:
    """The cases assigned per lead department on each day of [first, last], by the case
    dimensions (one GROUP BY over the lead assignments of those days)."""
    f = _all_centers(first, last)
    rows = (
        Assignment.objects.filter(
            role=AssignmentRole.LEAD, assigned_at__gte=f.since, assigned_at__lt=f.until
        )
        .annotate(
            g_day=_day("assigned_at"),
            g_center=F("case__center_id"),
            g_channel=F("case__channel_id"),
            g_category=F("case__category_id"),
            g_law=F("case__is_law_related"),
        )
        .values("g_day", "g_center", "g_channel", "g_category", "g_law", "department_id")
        .annotate(n=Count("case_id", distinct=True))
        .order_by()
    )
    return [
        ReportDepartmentCount(
            grain=ReportDailyCount.DAY,
            day=r["g_day"],
            center_id=r["g_center"],
            channel_id=r["g_channel"],
            category_id=r["g_category"],
            is_law_related=r["g_law"],
            department_id=r["department_id"],
            assigned=r["n"],
        )
        for r in rows
    ]


def refresh_counters(first: date, last: date, *, now: datetime | None = None) -> int:
    """Replace the counters of the days [first, last] (and the month rows of their months);
    returns the day rows written."""
    now = now or timezone.now()
    rows = daily_rows(first, last, now)
    with transaction.atomic():
        ReportDailyCount.objects.filter(
            grain=ReportDailyCount.DAY, day__gte=first, day__lte=last
        ).delete()
        ReportDailyCount.objects.bulk_create(
            [
                ReportDailyCount(
                    grain=ReportDailyCount.DAY,
                    day=key[0],
                    center_id=key[1],
                    channel_id=key[2],
                    category_id=key[3],
                    is_law_related=key[4],
                    **values,
                )
                for key, values in rows.items()
            ],
            batch_size=5000,
        )
        _rebuild_months(first, last)
        ReportDepartmentCount.objects.filter(
            grain=ReportDailyCount.DAY, day__gte=first, day__lte=last
        ).delete()
        ReportDepartmentCount.objects.bulk_create(department_rows(first, last), batch_size=5000)
        _rebuild_months(
            first,
            last,
            ReportDepartmentCount,
            ("assigned",),
            "center_id, channel_id, category_id, is_law_related, department_id",
        )
        run = ReportCounterRun.objects.select_for_update().first()
        if run is None:
            run = ReportCounterRun(built_from=first, built_through=last)
        else:
            # a rebuild of recent days keeps the history built before
            contiguous = first <= run.built_through + timedelta(days=1)
            run.built_from = min(run.built_from, first) if contiguous else first
            run.built_through = max(run.built_through, last) if contiguous else last
        run.cessation_days = conf.cessation_days()
        run.evaluation_window_days = conf.evaluation_window_days()
        run.built_at = now
        run.save()
    logger.info("report counters %s..%s: %s rows", first, last, len(rows))
    return len(rows)


def refresh_recent(now: datetime | None = None) -> int:
    """The nightly rebuild: the last REPORTS_COUNTER_REFRESH_DAYS up to yesterday (and the
    history from the first case if the counters were never built)."""
    now = now or timezone.now()
    yesterday = now.astimezone(CHINA_TZ).date() - timedelta(days=1)
    run = ReportCounterRun.objects.first()
    if run is None:
        from petitions.models import Case

        oldest = Case.objects.order_by("registered_at").values_list("registered_at", flat=True)
        first_day = oldest[0].astimezone(CHINA_TZ).date() if oldest else yesterday
    else:
        first_day = min(
            run.built_through + timedelta(days=1), yesterday - timedelta(days=refresh_days())
        )
        first_day = max(first_day, run.built_from)
    if first_day > yesterday:
        return 0
    return refresh_counters(first_day, yesterday, now=now)


def counter_rows(f: ReportFilters, model: type[Model] = ReportDailyCount) -> QuerySet[Any]:
    """The counter rows of the days [f.start, f.end] (which the caller has checked the counters
    cover) and of f's scope: the month rows of the months wholly inside the period, the day rows
    of the days at either end. One query on the (grain, center, day) index."""
    first_month = f.start if f.start.day == 1 else _next_month(f.start)
    end_month = _month_start(f.end + timedelta(days=1))  # first day after the whole months
    if first_month < end_month:
        days = Q(grain=ReportDailyCount.DAY) & (
            Q(day__gte=f.start, day__lt=first_month) | Q(day__gte=end_month, day__lte=f.end)
        )
        when = Q(grain=ReportDailyCount.MONTH, day__gte=first_month, day__lt=end_month) | days
    else:
        when = Q(grain=ReportDailyCount.DAY, day__gte=f.start, day__lte=f.end)
    qs = model._default_manager.filter(when, center_id__in=f.center_ids)
    if f.channel is not None:
        qs = qs.filter(channel_id=f.channel.pk)
    if f.category_ids:
        qs = qs.filter(category_id__in=f.category_ids)
    if f.law_related is not None:
        qs = qs.filter(is_law_related=f.law_related)
    return qs


def _sum(f: ReportFilters) -> dict[str, int]:
    totals = counter_rows(f).aggregate(**{m: Sum(m) for m in METRICS})
    return {m: totals[m] or 0 for m in METRICS}


def compute_with_counters(f: ReportFilters, now: datetime) -> Report | None:
    """The report from the counters plus the days after them computed live, or None when the
    counters cannot answer these filters (see the module docstring)."""
    if not counters_enabled() or f.department is not None:
        return None
    run = ReportCounterRun.objects.first()
    if (
        run is None
        or f.start < run.built_from
        or f.start > run.built_through
        or f.cessation_days != run.cessation_days
        or run.evaluation_window_days != conf.evaluation_window_days()
    ):
        return None
    figures = _sum(replace(f, end=min(f.end, run.built_through)))
    if f.end > run.built_through:
        # the days after the counters (today): the live aggregates over those days only
        rest = replace(f, start=run.built_through + timedelta(days=1))
        extra = live_figures(rest, now)
        figures = {m: figures[m] + extra[m] for m in METRICS}
    return assemble(f, now, figures, leader_figures(f))


__all__ = [
    "compute_with_counters",
    "counter_rows",
    "refresh_counters",
    "refresh_recent",
    "today",
]
