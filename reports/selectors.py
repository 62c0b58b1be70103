"""Reads for the report pages: chart series, the department league table, the staff record and
the monthly bulletin. Each is a handful of GROUP BY queries over the scoped rows; Python only
arranges the (few) groups – centers, departments, months – never cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from clocks.models import Deadline
from core.models import Center, Department, User
from core.roles import Role
from petitions.models import Case
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole
from supervision.models import OrderState, SupervisionOrder

from . import conf
from .filters import CHINA_TZ, ReportFilters
from .indicators import (
    CLOSED_STATES,
    DUTY_KINDS,
    SATISFIED_RATINGS,
    clock_figures,
    evaluation_figures,
    lead_assignment_field,
    terminated_q,
)

AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-15", 0, 15),
    ("16-30", 16, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91+", 91, None),
)


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


# --- chart series -----------------------------------------------------------------------------------


def _months(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _split(f: ReportFilters) -> tuple[ReportFilters | None, ReportFilters | None]:
    """(the part of the period the daily counters cover, the part to count live)."""
    from .counters import counters_enabled
    from .models import ReportCounterRun

    run = ReportCounterRun.objects.first() if counters_enabled() else None
    if (
        run is None
        or f.department is not None
        or not run.built_from <= f.start <= run.built_through
    ):
        return None, f
    counted = replace(f, end=min(f.end, run.built_through))
    live = (
        replace(f, start=run.built_through + timedelta(days=1))
        if f.end > run.built_through
        else None
    )
    return counted, live


def _counter_rows(f: ReportFilters) -> Any:
    from .counters import counter_rows

    return counter_rows(f)


def _month_key(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def monthly_trend(f: ReportFilters) -> list[dict[str, Any]]:
    """Cases registered and closed per month of the period (the days the daily counters cover
    from them, the rest live)."""
    counted, live = _split(f)
    reg: dict[date, int] = {}
    clo: dict[date, int] = {}
    if counted is not None:
        for m, r, c in (
            _counter_rows(counted)
            .annotate(m=TruncMonth("day"))
            .values("m")
            .annotate(reg=Sum("cases"), clo=Sum("closed"))
            .values_list("m", "reg", "clo")
        ):
            reg[_month_key(m)] = reg.get(_month_key(m), 0) + (r or 0)
            clo[_month_key(m)] = clo.get(_month_key(m), 0) + (c or 0)
    if live is not None:
        for m, n in (
            Case.objects.filter(
                live.case_q(), registered_at__gte=live.since, registered_at__lt=live.until
            )
            .annotate(m=TruncMonth("registered_at", tzinfo=CHINA_TZ))
            .values("m")
            .annotate(n=Count("pk"))
            .values_list("m", "n")
        ):
            reg[_month_key(m)] = reg.get(_month_key(m), 0) + n
        for m, n in (
            Case.objects.filter(
                live.case_q(),
                state__in=CLOSED_STATES,
                closed_at__gte=live.since,
                closed_at__lt=live.until,
            )
            .exclude(terminated_q())
            .annotate(m=TruncMonth("closed_at", tzinfo=CHINA_TZ))
            .values("m")
            .annotate(n=Count("pk"))
            .values_list("m", "n")
        ):
            clo[_month_key(m)] = clo.get(_month_key(m), 0) + n
    return [
        {"month": m.strftime("%Y-%m"), "registered": reg.get(m, 0), "closed": clo.get(m, 0)}
        for m in _months(f.start, f.end)
    ]


def aging_of_open_cases(f: ReportFilters, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open cases today by days since registration (the period does not apply: it is a stock)."""
    now = now or timezone.now()
    aggregates = {}
    for key, low, high in AGE_BUCKETS:
        q = Q(registered_at__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(registered_at__gt=now - timedelta(days=high + 1))
        aggregates[key] = Count("pk", filter=q)
    counts = Case.objects.filter(f.case_q(), state__in=CaseState.open_states()).aggregate(
        **aggregates
    )
    return [{"bucket": key, "count": counts[key]} for key, _low, _high in AGE_BUCKETS]


def by_subordinate_center(f: ReportFilters) -> list[dict[str, Any]]:
    """Cases registered in the period under the chosen center, by its directly subordinate
    centers (each with everything below it) and the center itself ("本级")."""
    root = f.center
    counted, live = _split(f)
    counts: dict[int, int] = {}
    if counted is not None:
        for k, v in (
            _counter_rows(counted)
            .values("center_id")
            .annotate(n=Sum("cases"))
            .values_list("center_id", "n")
        ):
            counts[k] = counts.get(k, 0) + (v or 0)
    if live is not None:
        for k, v in (
            Case.objects.filter(
                live.case_q(), registered_at__gte=live.since, registered_at__lt=live.until
            )
            .values("center_id")
            .annotate(n=Count("pk"))
            .values_list("center_id", "n")
        ):
            counts[k] = counts.get(k, 0) + v
    centers = list(Center.objects.filter(pk__in=f.center_ids).only("pk", "name", "path", "parent"))
    if root is None:
        tops = [c for c in centers if c.parent_id is None or c.parent_id not in f.center_ids]
        rows = []
        for top in tops:
            total = sum(
                n for c in centers if c.path.startswith(top.path) for n in [counts.get(c.pk, 0)]
            )
            rows.append({"center": top.pk, "name": top.name, "count": total})
        return rows
    rows = [
        {
            "center": root.pk,
            "name": _("%(name)s (own level)") % {"name": root.name},
            "count": counts.get(root.pk, 0),
        }
    ]
    children = [c for c in centers if c.parent_id == root.pk]
    for child in children:
        total = sum(counts.get(c.pk, 0) for c in centers if c.path.startswith(child.path))
        rows.append({"center": child.pk, "name": child.name, "count": total})
    return rows


def overdue_by_department(f: ReportFilters, now: datetime | None = None) -> list[dict[str, Any]]:
    """Cases with a supervised duty overdue now, by the department answering for the case."""
    now = now or timezone.now()
    rows = (
        Deadline.objects.filter(
            f.case_q("case__"), kind__in=DUTY_KINDS, met_at__isnull=True, due_at__lt=now
        )
        .exclude(terminated_q("case__"))
        .annotate(group=lead_assignment_field("case_id", "department"))
        .values("group")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("group", "n")
    )
    counts = dict(rows)
    names = _department_names([k for k in counts if k is not None])
    result = [
        {"department": k, **(names.get(k, _NO_NAMES) if k else _not_assigned()), "count": n}
        for k, n in counts.items()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["name"]))


_NO_NAMES = {"name": "", "center_name": "", "department_name": ""}


def _not_assigned() -> dict[str, str]:
    label = str(_("Not assigned"))
    return {"name": label, "center_name": "", "department_name": label}


def _department_names(ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The full name ("center · department") and its two parts, so that a chart can label a
    bar by the part that tells the departments apart (reports.charts.department_labels)."""
    return {
        d.pk: {
            "name": f"{d.center.name} · {d.name}",
            "center_name": d.center.name,
            "department_name": d.name,
        }
        for d in Department.objects.filter(pk__in=ids).select_related("center")
    }


def by_department(f: ReportFilters, now: datetime | None = None) -> list[dict[str, Any]]:
    """Cases assigned in the period per lead department (one GROUP BY on the lead assignments;
    the rates per department are on the league table page). The days the daily counters cover
    come from them (reports.models.ReportDepartmentCount); there a case assigned to the same
    department on two days of the period counts on each."""
    from .counters import counter_rows
    from .models import ReportDepartmentCount

    counted, live = _split(f)
    assigned: dict[int, int] = {}
    if counted is not None:
        for k, v in (
            counter_rows(counted, ReportDepartmentCount)
            .values("department_id")
            .annotate(n=Sum("assigned"))
            .values_list("department_id", "n")
        ):
            assigned[k] = assigned.get(k, 0) + (v or 0)
    if live is not None:
        for k, v in (
            Assignment.objects.filter(
                live.case_q("case__"),
                role=AssignmentRole.LEAD,
                assigned_at__gte=live.since,
                assigned_at__lt=live.until,
            )
            .values("department_id")
            .annotate(n=Count("case_id", distinct=True))
            .values_list("department_id", "n")
        ):
            assigned[k] = assigned.get(k, 0) + v
    names = _department_names(sorted(assigned))
    rows = [
        {"department": pk, **names.get(pk, _NO_NAMES), "assigned": n} for pk, n in assigned.items()
    ]
    return sorted(rows, key=lambda r: (-r["assigned"], r["name"]))


# --- league table -----------------------------------------------------------------------------------


@dataclass
class LeagueRow:
    department: Department
    assigned: int = 0
    acceptance: tuple[int, int] = (0, 0)
    completion: tuple[int, int] = (0, 0)
    satisfaction: tuple[int, int] = (0, 0)
    overdue_now: int = 0
    orders: int = 0
    rank: int = 0
    # cases that went overdue in the period (the bulletin's, not the ranking's figure)
    overdue_in_period: int = 0

    @property
    def acceptance_rate(self) -> float | None:
        return rate(*self.acceptance)

    @property
    def completion_rate(self) -> float | None:
        return rate(*self.completion)

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(*self.satisfaction)

    @property
    def score(self) -> float | None:
        """The mean of the unit's rates that have something to count, in points out of 100
        (see LEAGUE_RULE); None when none has."""
        rates = [r for r in self.rates if r is not None]
        return round(100 * sum(rates) / len(rates), 1) if rates else None

    @property
    def rates(self) -> tuple[float | None, float | None, float | None]:
        return (self.acceptance_rate, self.completion_rate, self.satisfaction_rate)


# Why a score and not "completion, then satisfaction, then overdue": ranked that way, any lead on
# the first figure outweighed everything after it, so a court with 0 % satisfaction ranked above
# a police bureau with 100 % on a few points of completion. The mean of the rates moves with
# every one of them, so a unit at least as good on every figure is never ranked below.
LEAGUE_RULE = _lazy(
    "Score = the mean of the timely acceptance, on-time completion and satisfaction rates, in "
    "points out of 100; a rate with nothing to count in the period is left out of the mean. "
    "Ranked by score, then by fewer cases overdue now; equal on both, equal rank. A department "
    "with none of the three rates is not ranked."
)


def rank_league(rows: Sequence[LeagueRow]) -> list[LeagueRow]:
    """The rows in rank order with ``rank`` set (LEAGUE_RULE): score, higher first, then fewer
    cases overdue now; rows equal on both share a rank (1, 1, 3); unrated rows last, rank 0."""

    def key(r: LeagueRow) -> tuple[Any, ...]:
        score = r.score
        return (
            score is None,
            -(score or 0.0),
            r.overdue_now,
            r.department.center.path,
            r.department.pk,
        )

    ranked = sorted(rows, key=key)
    previous: tuple[float, int] | None = None
    for i, r in enumerate(ranked, start=1):
        score = r.score
        if score is None:
            r.rank = 0
            continue
        if previous != (score, r.overdue_now):
            r.rank, previous = i, (score, r.overdue_now)
        else:
            r.rank = ranked[i - 2].rank
    return ranked


def league_table(f: ReportFilters, now: datetime | None = None) -> list[LeagueRow]:
    """Departments of the scope ranked by their score (LEAGUE_RULE, rank_league). A department
    with nothing to rate is listed last, unranked."""
    now = now or timezone.now()
    departments = list(
        Department.objects.filter(center_id__in=f.center_ids, is_active=True)
        .select_related("center")
        .order_by("center__path", "pk")
    )
    if f.department is not None:
        departments = [d for d in departments if d.pk == f.department.pk]
    rows = {d.pk: LeagueRow(department=d) for d in departments}
    assigned = (
        Assignment.objects.filter(
            f.case_q("case__"),
            role=AssignmentRole.LEAD,
            assigned_at__gte=f.since,
            assigned_at__lt=f.until,
        )
        .values("department_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("department_id", "n")
    )
    for dept_id, n in assigned:
        if dept_id in rows:
            rows[dept_id].assigned = n
    for g in clock_figures(f, now, group_by="department"):
        if g["group"] in rows:
            rows[g["group"]].acceptance = (g["acc_num"], g["acc_den"])
            rows[g["group"]].completion = (g["done_num"], g["done_den"])
    for g in evaluation_figures(f, now, conf.evaluation_window_days(), group_by="department"):
        if g["group"] in rows:
            rows[g["group"]].satisfaction = (g["sat_num"], g["eval_num"])
    for row in overdue_by_department(f, now):
        if row["department"] in rows:
            rows[row["department"]].overdue_now = row["count"]
    orders = (
        SupervisionOrder.objects.filter(
            f.case_q("case__"), issued_at__gte=f.since, issued_at__lt=f.until
        )
        .values("department_id")
        .annotate(n=Count("pk"))
        .values_list("department_id", "n")
    )
    for dept_id, n in orders:
        if dept_id in rows:
            rows[dept_id].orders = n

    return rank_league(list(rows.values()))


# --- staff record (工作鉴定) ----------------------------------------------------------------------


@dataclass
class StaffRow:
    user: User
    handled: int = 0
    completion: tuple[int, int] = (0, 0)
    satisfaction: tuple[int, int] = (0, 0)
    orders: int = 0

    @property
    def completion_rate(self) -> float | None:
        return rate(*self.completion)

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(*self.satisfaction)


def staff_in_scope(f: ReportFilters) -> list[User]:
    qs = User.objects.filter(
        center_id__in=f.center_ids,
        is_active=True,
        roles__role__in=[Role.OFFICER, Role.HEAD],
        department__isnull=False,
    ).select_related("center", "department")
    if f.department is not None:
        qs = qs.filter(department=f.department)
    return list(qs.distinct().order_by("center__path", "department_id", "username"))


def staff_records(
    f: ReportFilters, users: Sequence[User], now: datetime | None = None
) -> list[StaffRow]:
    """Per staff member: cases handled (lead assignments they accepted as handler in the
    period), on-time completion and satisfaction of the cases they handle, supervision orders on
    their cases."""
    now = now or timezone.now()
    rows = {u.pk: StaffRow(user=u) for u in users}
    handled = (
        Assignment.objects.filter(
            f.case_q("case__"),
            role=AssignmentRole.LEAD,
            handler_id__in=list(rows),
            accepted_at__gte=f.since,
            accepted_at__lt=f.until,
        )
        .values("handler_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("handler_id", "n")
    )
    for user_id, n in handled:
        rows[user_id].handled = n
    for g in clock_figures(f, now, group_by="handler"):
        if g["group"] in rows:
            rows[g["group"]].completion = (g["done_num"], g["done_den"])
    for g in evaluation_figures(f, now, conf.evaluation_window_days(), group_by="handler"):
        if g["group"] in rows:
            rows[g["group"]].satisfaction = (g["sat_num"], g["eval_num"])
    orders = (
        SupervisionOrder.objects.filter(
            f.case_q("case__"), issued_at__gte=f.since, issued_at__lt=f.until
        )
        .annotate(handler=lead_assignment_field("case_id", "handler"))
        .filter(handler__in=list(rows))
        .values("handler")
        .annotate(n=Count("pk"))
        .values_list("handler", "n")
    )
    for user_id, n in orders:
        rows[user_id].orders = n
    return [rows[u.pk] for u in users]


def staff_cases(f: ReportFilters, user: User) -> list[Assignment]:
    """The lead assignments a staff member handled that were accepted in the period."""
    return list(
        Assignment.objects.filter(
            f.case_q("case__"),
            role=AssignmentRole.LEAD,
            handler=user,
            accepted_at__gte=f.since,
            accepted_at__lt=f.until,
        )
        .select_related("case", "department")
        .order_by("accepted_at", "pk")[:500]
    )


# --- monthly bulletin and notices ------------------------------------------------------------------


@dataclass
class OverdueCase:
    case_id: int
    number: str
    kind: str
    due_at: datetime
    days: int
    department: str


def overdue_cases(
    f: ReportFilters, now: datetime | None = None, limit: int = 20
) -> list[OverdueCase]:
    """The longest-overdue supervised duties in scope (open now), one row per case."""
    now = now or timezone.now()
    grouped = (
        Deadline.objects.filter(
            f.case_q("case__"), kind__in=DUTY_KINDS, met_at__isnull=True, due_at__lt=now
        )
        .exclude(terminated_q("case__"))
        .values("case_id", "case__number")
        .annotate(
            due=Min("due_at"), kind=Max("kind"), dept=lead_assignment_field("case_id", "department")
        )
        .order_by("due", "case_id")[:limit]
    )
    rows: list[Any] = list(grouped)
    names = _department_names([r["dept"] for r in rows if r["dept"]])
    kinds = dict(Deadline._meta.get_field("kind").choices or [])
    return [
        OverdueCase(
            case_id=r["case_id"],
            number=r["case__number"],
            kind=str(kinds.get(r["kind"], r["kind"])),
            due_at=r["due"],
            days=max(1, (now - r["due"]).days + (1 if (now - r["due"]).seconds else 0)),
            department=names[r["dept"]]["name"] if r["dept"] in names else str(_("Not assigned")),
        )
        for r in rows
    ]


def supervision_orders_in(f: ReportFilters, limit: int = 50) -> list[SupervisionOrder]:
    return list(
        SupervisionOrder.objects.filter(
            f.case_q("case__"), issued_at__gte=f.since, issued_at__lt=f.until
        )
        .select_related("case", "department", "department__center")
        .order_by("issued_at", "pk")[:limit]
    )


def unanswered_orders(f: ReportFilters, now: datetime | None = None) -> list[SupervisionOrder]:
    now = now or timezone.now()
    return list(
        SupervisionOrder.objects.filter(f.case_q("case__"), state=OrderState.OPEN, due_at__lt=now)
        .select_related("case", "department", "department__center")
        .order_by("due_at", "pk")[:50]
    )


@dataclass
class Bulletin:
    month: date
    filters: ReportFilters
    report: Any
    best: list[LeagueRow] = field(default_factory=list)
    worst: list[LeagueRow] = field(default_factory=list)
    overdue: list[OverdueCase] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    named: list[LeagueRow] = field(default_factory=list)
    unanswered: list[SupervisionOrder] = field(default_factory=list)


# One rule for the bulletin and the notice of a month (issue 18 #3): both read the league rows of
# the month and this classification, so the bulletin can no longer praise a unit the notice names.
# Before, "better" was the top three by score and "to improve" the bottom three past the third,
# so a unit at 0 % on-time completion with five overdue cases was praised whenever its other
# rates were high, and with three units or fewer nobody was "to improve".
BULLETIN_RULE = _lazy(
    "A unit is named in the notice, and listed among the units to improve, when in the month a "
    "case it answers for went overdue, or when it has cases overdue now or supervision orders "
    "unanswered past their due date. The better units are the three highest-scored units (by "
    "the ranking rule) that are not named; a unit with overdue cases is never among them."
)


def month_bulletin(f: ReportFilters, month: date, now: datetime | None = None) -> Bulletin:
    """简报 and 通报 of one month (BULLETIN_RULE): the indicators, the better units and the
    units to improve, the longest-overdue cases, the month's supervision orders."""
    from .indicators import compute

    now = now or timezone.now()
    league = league_table(f, now)
    by_department = {r.department.pk: r for r in league}
    for dept_id, n in overdue_in_period_by_department(f, now):
        if dept_id in by_department:
            by_department[dept_id].overdue_in_period = n
    unanswered = unanswered_orders(f, now)
    late_depts = {o.department_id for o in unanswered if o.department_id}
    named = [
        r for r in league if r.overdue_now or r.overdue_in_period or r.department.pk in late_depts
    ]
    named.sort(
        key=lambda r: (
            -r.overdue_now,
            -r.overdue_in_period,
            r.department.center.path,
            r.department.pk,
        )
    )
    named_ids = {r.department.pk for r in named}
    best = [r for r in league if r.rank and r.department.pk not in named_ids][:3]
    return Bulletin(
        month=month,
        filters=f,
        report=compute(f, now=now),
        best=best,
        worst=named,
        overdue=overdue_cases(f, now),
        orders=supervision_orders_in(f),
        named=named,
        unanswered=unanswered,
    )


def overdue_in_period_by_department(f: ReportFilters, now: datetime) -> list[tuple[int, int]]:
    """(department, cases) for the cases that went overdue in the period, by the department
    answering for the case: the indicators' overdue count (reports.indicators.overdue_q), split
    by department in one GROUP BY."""
    from .indicators import overdue_q

    return list(
        Deadline.objects.filter(f.case_q("case__"), overdue_q(f, now))
        .exclude(terminated_q("case__"))
        .annotate(group=lead_assignment_field("case_id", "department"))
        .values("group")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("group", "n")
    )


__all__ = [
    "SATISFIED_RATINGS",
    "aging_of_open_cases",
    "by_subordinate_center",
    "league_table",
    "month_bulletin",
    "monthly_trend",
    "overdue_by_department",
    "staff_records",
]
