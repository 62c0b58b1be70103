"""Reads for the supervisor dashboard (督导, DOMAIN.md §5 and §7): which clocks are overdue or close
to it, where (center), with whom (department, officer) and for how long.

Every figure is counted in the database by a handful of GROUP BY queries over one scoped queryset
of at-risk clocks (``at_risk_deadlines``); nothing loops over centers, departments or cases, so the
dashboard costs the same number of queries for three cases as for three thousand.

The unit:
- the center, department and officer tables count *cases* (a case with two at-risk clocks counts
  once per level it has, and once in the total);
- the aging buckets count overdue *clocks*, since each clock has its own due date;
- the drill-down list shows one row per clock, with the case it belongs to.

Warning levels are the ones the deadline sweep stored (clocks.sweep), so the dashboard, the
notifications and the escalation steps always agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clocks.deadlines import days_remaining
from clocks.models import Deadline, EscalationStep, WarningLevel
from clocks.sweep import _thresholds
from core.models import Center, Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from intake.models import LeaderDuty
from petitions.models import Case
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole

from .models import ExtensionRequest, ExtensionState, LeaderResponsibility

# The levels the dashboard counts, worst first (the column order of every table).
AT_RISK_LEVELS: tuple[str, ...] = (
    WarningLevel.OVERDUE,
    WarningLevel.SEVERE,
    WarningLevel.APPROACHING,
)
NONE = "none"  # filter value for "no department" / "no handler yet"
DUTY_ROSTER_DAYS = 7


@dataclass(frozen=True)
class AgeBucket:
    """Overdue clocks by whole days overdue (as ``deadlines.days_remaining`` counts them, so the
    bucket always agrees with the "days overdue" shown in the list)."""

    key: str
    label: str | Promise
    min_days: int
    max_days: int | None

    def q(self, now: datetime) -> Q:
        # days overdue = ceil((now - due_at) / 1 day), hence:
        #   days overdue >= m  <=>  due_at < now - (m - 1) days
        #   days overdue <= M  <=>  due_at >= now - M days
        # The first bucket has no lower bound, so a clock the sweep marked overdue counts in
        # exactly one bucket even if it is seconds from its due time.
        condition = Q(warning_level=WarningLevel.OVERDUE)
        if self.min_days > 1:
            condition &= Q(due_at__lt=now - timedelta(days=self.min_days - 1))
        if self.max_days is not None:
            condition &= Q(due_at__gte=now - timedelta(days=self.max_days))
        return condition


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("1-7", _("1–7 days"), 1, 7),
    AgeBucket("8-30", _("8–30 days"), 8, 30),
    AgeBucket("31-90", _("31–90 days"), 31, 90),
    AgeBucket("91+", _("More than 90 days"), 91, None),
)
AGE_BUCKETS_BY_KEY = {b.key: b for b in AGE_BUCKETS}


@dataclass(frozen=True)
class DashboardFilters:
    """What the supervisor narrowed the figures to. ``department`` and ``handler`` take
    ``NONE`` for clocks that have no department (screening) or no handler yet."""

    center_id: int | None = None
    department: int | Literal["none"] | None = None
    kind: str = ""
    level: str = ""
    law_related: bool | None = None
    handler: int | Literal["none"] | None = None
    age: str = ""

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for drill-down links)."""
        params: dict[str, str] = {}
        if self.center_id is not None:
            params["center"] = str(self.center_id)
        if self.department is not None:
            params["department"] = str(self.department)
        if self.kind:
            params["kind"] = self.kind
        if self.level:
            params["level"] = self.level
        if self.law_related is not None:
            params["law_related"] = "yes" if self.law_related else "no"
        if self.handler is not None:
            params["handler"] = str(self.handler)
        if self.age:
            params["age"] = self.age
        return params


@dataclass(frozen=True)
class Scope:
    """The centers a supervisor oversees (their own and every center below) and their
    departments, loaded once: they fill the filter choices and label the tables."""

    centers: list[Center]
    departments: list[Department]

    @property
    def center_ids(self) -> set[int]:
        return {c.pk for c in self.centers}

    @property
    def departments_by_id(self) -> dict[int, Department]:
        return {d.pk: d for d in self.departments}


def dashboard_scope(user: User) -> Scope:
    centers = list(centers_visible_to(user).order_by("path"))
    departments = list(
        Department.objects.filter(center__in=[c.pk for c in centers])
        .select_related("center")
        .order_by("center__path", "id")
    )
    return Scope(centers=centers, departments=departments)


# --- the at-risk clocks ------------------------------------------------------------------------


def _lead_assignment_id() -> Subquery:
    # The case's active lead assignment: who answers for case-level clocks such as handling.
    # Served by the partial unique index assignment_one_active_lead (one row per case at most).
    return Subquery(
        Assignment.objects.filter(
            case_id=OuterRef("case_id"),
            role=AssignmentRole.LEAD,
            state__in=ACTIVE_ASSIGNMENT_STATES,
        )
        .order_by()
        .values("pk")[:1]
    )


def _assignment_value(name: str) -> Subquery:
    return Subquery(
        Assignment.objects.filter(pk=OuterRef("responsible_assignment_id"))
        .order_by()
        .values(name)[:1]
    )


def _filter_q(filters: DashboardFilters, now: datetime) -> Q:
    condition = Q()
    if filters.center_id is not None:
        condition &= Q(case__center_id=filters.center_id)
    if filters.department == NONE:
        condition &= Q(responsible_department_id__isnull=True)
    elif filters.department is not None:
        condition &= Q(responsible_department_id=filters.department)
    if filters.handler == NONE:
        condition &= Q(responsible_handler_id__isnull=True)
    elif filters.handler is not None:
        condition &= Q(responsible_handler_id=filters.handler)
    if filters.kind:
        condition &= Q(kind=filters.kind)
    if filters.level:
        condition &= Q(warning_level=filters.level)
    if filters.law_related is not None:
        condition &= Q(case__is_law_related=filters.law_related)
    if filters.age in AGE_BUCKETS_BY_KEY:
        condition &= AGE_BUCKETS_BY_KEY[filters.age].q(now)
    return condition


def at_risk_deadlines(
    user: User, filters: DashboardFilters | None = None, *, now: datetime
) -> QuerySet[Deadline]:
    """Running clocks at approaching, severe or overdue on open cases of the centers ``user``
    oversees, each annotated with the assignment that answers for it (its own, else the case's
    active lead), that assignment's department, role and handler."""
    # Only clocks due before the sweep's look-ahead window can carry a warning level; saying so
    # (together with met_at IS NULL) lets PostgreSQL range-scan the partial index
    # deadline_open_due_idx instead of reading every clock ever opened.
    window_end = now + timedelta(days=_thresholds()["approaching"] + 1)
    qs = (
        # Duties only: a window (someone's right) is never overdue work (clocks.models).
        Deadline.objects.duties()
        .filter(
            met_at__isnull=True,
            due_at__lte=window_end,
            warning_level__in=AT_RISK_LEVELS,
            case__state__in=CaseState.open_states(),
            case__center__in=centers_visible_to(user),
        )
        .annotate(
            responsible_assignment_id=Coalesce(
                F("assignment_id"), _lead_assignment_id(), output_field=BigIntegerField()
            )
        )
        .annotate(
            responsible_department_id=_assignment_value("department_id"),
            responsible_handler_id=_assignment_value("handler_id"),
            responsible_role=_assignment_value("role"),
        )
    )
    if filters is not None:
        qs = qs.filter(_filter_q(filters, now))
    return qs


# --- the dashboard figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCounts:
    """Cases with at least one clock at each level, and cases with any at-risk clock."""

    overdue: int = 0
    severe: int = 0
    approaching: int = 0
    total: int = 0

    def for_level(self, level: str) -> int:
        return int(getattr(self, level))


def _level_aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {"total": Count("case_id", distinct=True)}
    for level in AT_RISK_LEVELS:
        aggregates[level] = Count("case_id", distinct=True, filter=Q(warning_level=level))
    return aggregates


def _counts(row: dict[str, Any]) -> LevelCounts:
    return LevelCounts(
        overdue=row.get(WarningLevel.OVERDUE) or 0,
        severe=row.get(WarningLevel.SEVERE) or 0,
        approaching=row.get(WarningLevel.APPROACHING) or 0,
        total=row.get("total") or 0,
    )


@dataclass(frozen=True)
class GroupRow:
    """One line of a breakdown table. ``key`` is the filter value that drills down to it."""

    key: str
    label: str
    detail: str
    counts: LevelCounts


@dataclass(frozen=True)
class AgeCount:
    bucket: AgeBucket
    count: int


@dataclass
class DashboardFigures:
    totals: LevelCounts
    overdue_clocks: int
    aging: list[AgeCount]
    by_center: list[GroupRow]
    by_department: list[GroupRow]
    by_officer: list[GroupRow]
    law_related: LevelCounts = field(default_factory=LevelCounts)


def _grouped(qs: QuerySet[Deadline], column: str) -> dict[Any, LevelCounts]:
    rows = qs.order_by().values(column).annotate(**_level_aggregates())
    return {row[column]: _counts(row) for row in rows}


def _grouped_by_responsible(
    qs: QuerySet[Deadline],
) -> tuple[dict[Any, LevelCounts], dict[Any, LevelCounts]]:
    """Per department and per officer in ONE pass (``GROUPING SETS``): each clock's answering
    assignment (two correlated subqueries per clock, the costly part of the dashboard) is worked
    out once instead of once per breakdown. Counts are distinct cases per group, as before."""
    from django.db import connection

    inner = qs.order_by().values(  # type: ignore[misc]  # annotations of at_risk_deadlines
        "case_id", "warning_level", "responsible_department_id", "responsible_handler_id"
    )
    sql, params = inner.query.sql_with_params()
    levels = ", ".join(
        f"COUNT(DISTINCT t.case_id) FILTER (WHERE t.warning_level = %s) AS {level}"
        for level in AT_RISK_LEVELS
    )
    # Only fixed identifiers are interpolated (the levels are bound as parameters; ``sql`` is
    # Django's own compiled query with its parameters in ``params``).
    grouped = (
        "SELECT GROUPING(t.dept) AS by_handler, t.dept, t.handler, "  # noqa: S608
        f"COUNT(DISTINCT t.case_id) AS total, {levels} "
        "FROM (SELECT i.case_id, i.warning_level, i.responsible_department_id AS dept, "
        f"i.responsible_handler_id AS handler FROM ({sql}) i) t "
        "GROUP BY GROUPING SETS ((t.dept), (t.handler))"
    )
    by_department: dict[Any, LevelCounts] = {}
    by_handler: dict[Any, LevelCounts] = {}
    with connection.cursor() as cursor:
        cursor.execute(grouped, [*AT_RISK_LEVELS, *params])
        names = [c[0] for c in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if row["by_handler"]:
                by_handler[row["handler"]] = _counts(row)
            else:
                by_department[row["dept"]] = _counts(row)
    return by_department, by_handler


def _worst_first(rows: Iterable[GroupRow]) -> list[GroupRow]:
    return sorted(
        rows,
        key=lambda r: (
            -r.counts.overdue,
            -r.counts.severe,
            -r.counts.total,
            r.key == NONE,
            r.label,
        ),
    )


def _kept_figures_apply(filters: DashboardFilters) -> bool:
    """The kept counters answer the unfiltered dashboard and the one-center view; the narrower
    filters (department, officer, kind, level, law-related, age) keep the live query, which
    only reads the clocks they select."""
    return filters == DashboardFilters(center_id=filters.center_id)


@dataclass
class _Tallies:
    totals: LevelCounts
    law: LevelCounts
    overdue_clocks: int
    aging: dict[str, int]
    per_center: dict[Any, LevelCounts]
    per_department: dict[Any, LevelCounts]
    per_officer: dict[Any, LevelCounts]


def _kept_tallies(center_ids: list[int], now: datetime) -> _Tallies:
    """The figures from supervision.counters' kept rows: one indexed query (dashcount_center_idx)
    summing the delta rows of the centers, per center only for the centers' own totals."""
    from django.db.models import Case as SqlCase
    from django.db.models import Sum, When

    from .models import DashboardCount

    rows = (
        DashboardCount.objects.filter(center_id__in=center_ids)
        .values(
            "dimension",
            "key",
            "level",
            center=SqlCase(When(dimension="c", then=F("center_id")), default=None),
        )
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
        .order_by()
    )
    grouped: dict[tuple[str, Any], dict[str, int]] = {}
    aging = {b.key: 0 for b in AGE_BUCKETS}
    overdue_clocks = 0
    bounds = [
        (
            b.key,
            now - timedelta(days=b.min_days - 1) if b.min_days > 1 else None,
            now - timedelta(days=b.max_days) if b.max_days is not None else None,
        )
        for b in AGE_BUCKETS
    ]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for row in rows:
        dimension, n = row["dimension"], int(row["n"])
        if dimension == "a":
            # key: the overdue clocks' due time in microseconds; the bucket as AgeBucket.q
            due_at = epoch + timedelta(microseconds=row["key"])
            overdue_clocks += n
            for key, before, not_before in bounds:
                if (before is None or due_at < before) and (
                    not_before is None or due_at >= not_before
                ):
                    aging[key] += n
            continue
        group = row["center"] if dimension == "c" else (row["key"] or None)
        grouped.setdefault((dimension, group), {})[row["level"]] = n

    def of(dimension: str) -> dict[Any, LevelCounts]:
        return {g: _counts(levels) for (d, g), levels in grouped.items() if d == dimension}

    per_center = of("c")
    totals: dict[str, int] = {}
    for counts in per_center.values():
        for name in (*AT_RISK_LEVELS, "total"):
            totals[name] = totals.get(name, 0) + counts.for_level(name)
    return _Tallies(
        totals=_counts(totals),
        law=of("l").get(None, LevelCounts()),
        overdue_clocks=overdue_clocks,
        aging=aging,
        per_center=per_center,
        per_department=of("d"),
        per_officer=of("h"),
    )


def _live_tallies(user: User, filters: DashboardFilters, *, now: datetime) -> _Tallies:
    """The figures counted from the at-risk clocks themselves (three queries): the reference the
    kept counters are tested against, and the answer for the narrower filters."""
    qs = at_risk_deadlines(user, filters, now=now)

    # 1: totals per level, law-related totals and the aging buckets, in one pass.
    aggregates = _level_aggregates()
    for level in AT_RISK_LEVELS:
        aggregates[f"law_{level}"] = Count(
            "case_id", distinct=True, filter=Q(warning_level=level, case__is_law_related=True)
        )
    aggregates["law_total"] = Count("case_id", distinct=True, filter=Q(case__is_law_related=True))
    aggregates["overdue_clocks"] = Count("pk", filter=Q(warning_level=WarningLevel.OVERDUE))
    for bucket in AGE_BUCKETS:
        aggregates[f"age_{bucket.key}"] = Count("pk", filter=bucket.q(now))
    summary = qs.order_by().aggregate(**aggregates)
    law = _counts({k.removeprefix("law_"): v for k, v in summary.items() if k.startswith("law_")})
    # 2: by center; 3: by department and officer (GROUPING SETS)
    per_department, per_officer = _grouped_by_responsible(qs)
    return _Tallies(
        totals=_counts(summary),
        law=law,
        overdue_clocks=summary["overdue_clocks"] or 0,
        aging={b.key: summary[f"age_{b.key}"] or 0 for b in AGE_BUCKETS},
        per_center=_grouped(qs, "case__center_id"),
        per_department=per_department,
        per_officer=per_officer,
    )


def dashboard_figures(
    user: User, filters: DashboardFilters, *, scope: Scope, now: datetime
) -> DashboardFigures:
    """The whole dashboard: from the kept counters (supervision.counters) in two queries (the
    counters, the officers' names) when no filter but the center is set, else counted live."""
    if _kept_figures_apply(filters):
        center_ids = sorted(scope.center_ids)
        if filters.center_id is not None:
            center_ids = [filters.center_id] if filters.center_id in scope.center_ids else []
        tallies = _kept_tallies(center_ids, now)
    else:
        tallies = _live_tallies(user, filters, now=now)
    return _figures(tallies, scope)


def dashboard_figures_live(
    user: User, filters: DashboardFilters, *, scope: Scope, now: datetime
) -> DashboardFigures:
    """The dashboard counted from the clocks whatever the filters (the kept counters' reference)."""
    return _figures(_live_tallies(user, filters, now=now), scope)


def _figures(tallies: _Tallies, scope: Scope) -> DashboardFigures:
    # by center: every overseen center is listed, with zeros where nothing is at risk
    by_center = [
        GroupRow(
            key=str(c.pk),
            label=c.name,
            detail=c.get_level_display(),
            counts=tallies.per_center.get(c.pk, LevelCounts()),
        )
        for c in scope.centers
    ]

    # by department (the answering assignment's department; none before assignment)
    departments = scope.departments_by_id
    by_department = []
    for dept_id, counts in tallies.per_department.items():
        dept = departments.get(dept_id) if dept_id is not None else None
        by_department.append(
            GroupRow(
                key=NONE if dept_id is None else str(dept_id),
                label=dept.name
                if dept
                else (str(_("Not assigned")) if dept_id is None else f"#{dept_id}"),
                detail=dept.center.name if dept else "",
                counts=counts,
            )
        )

    # by officer (the handler who accepted; none while awaiting sign-for/acceptance), then the
    # officers' names
    per_officer = tallies.per_officer
    officers = User.objects.select_related("department").in_bulk(
        [pk for pk in per_officer if pk is not None]
    )
    by_officer = []
    for user_id, counts in per_officer.items():
        officer = officers.get(user_id) if user_id is not None else None
        by_officer.append(
            GroupRow(
                key=NONE if user_id is None else str(user_id),
                label=str(officer)
                if officer
                else (str(_("No handler yet")) if user_id is None else f"#{user_id}"),
                detail=officer.department.name if officer and officer.department else "",
                counts=counts,
            )
        )

    return DashboardFigures(
        totals=tallies.totals,
        overdue_clocks=tallies.overdue_clocks,
        aging=[AgeCount(b, tallies.aging[b.key]) for b in AGE_BUCKETS],
        by_center=by_center,
        by_department=_worst_first(by_department),
        by_officer=_worst_first(by_officer),
        law_related=tallies.law,
    )


# --- the drill-down list -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListTotals:
    clocks: int
    cases: int


def drilldown_totals(qs: QuerySet[Deadline]) -> ListTotals:
    totals = qs.order_by().aggregate(clocks=Count("pk"), cases=Count("case_id", distinct=True))
    return ListTotals(clocks=totals["clocks"] or 0, cases=totals["cases"] or 0)


def drilldown(user: User, filters: DashboardFilters, *, now: datetime) -> QuerySet[Deadline]:
    """The clocks behind a dashboard number, most overdue first (the partial index's order)."""
    return (
        at_risk_deadlines(user, filters, now=now)
        .select_related("case__center")
        .only(
            "id",
            "kind",
            "due_at",
            "warning_level",
            "escalation_step",
            "overdue_since",
            "assignment_id",
            "case__id",
            "case__number",
            "case__state",
            "case__is_law_related",
            "case__center__id",
            "case__center__name",
        )
        .order_by("due_at", "id")
    )


@dataclass(frozen=True)
class DrilldownRow:
    deadline: Deadline
    case: Case
    department: Department | None
    is_lead: bool
    handler: User | None
    days: int
    escalation: EscalationStep | None


def drilldown_rows(deadlines: Sequence[Deadline], *, now: datetime) -> list[DrilldownRow]:
    """Name the departments, handlers and escalation steps of one page of clocks: three queries
    whatever the page size."""
    dept_ids = {d.responsible_department_id for d in deadlines} - {None}  # type: ignore[attr-defined]
    handler_ids = {d.responsible_handler_id for d in deadlines} - {None}  # type: ignore[attr-defined]
    departments = Department.objects.in_bulk(list(dept_ids)) if dept_ids else {}
    handlers = User.objects.in_bulk(list(handler_ids)) if handler_ids else {}
    steps = {s.step: s for s in EscalationStep.objects.all()} if deadlines else {}
    rows = []
    for d in deadlines:
        dept_id = d.responsible_department_id  # type: ignore[attr-defined]
        handler_id = d.responsible_handler_id  # type: ignore[attr-defined]
        rows.append(
            DrilldownRow(
                deadline=d,
                case=d.case,
                department=departments.get(dept_id) if dept_id is not None else None,
                is_lead=d.responsible_role == AssignmentRole.LEAD,  # type: ignore[attr-defined]
                handler=handlers.get(handler_id) if handler_id is not None else None,
                days=days_remaining(d.due_at, now),
                escalation=steps.get(d.escalation_step) if d.escalation_step else None,
            )
        )
    return rows


# --- the leader reception duty roster ----------------------------------------------------------


def duty_roster(user: User, *, today: date, days: int = DUTY_ROSTER_DAYS) -> list[LeaderDuty]:
    """Who receives visitors at the user's center on each of the next ``days`` days (领导接访日).
    Served by the unique index leaderduty_one_per_day (center_id, date)."""
    if user.center_id is None:
        return []
    return list(
        LeaderDuty.objects.filter(
            center_id=user.center_id,
            date__gte=today,
            date__lt=today + timedelta(days=days),
        )
        .select_related("leader")
        .order_by("date")
    )


# --- the department head's pending extension requests (Art 34) --------------------------------------

PENDING_EXTENSIONS_SHOWN = 50


def pending_extensions_for(user: User) -> list[ExtensionRequest]:
    """Extension requests awaiting this head's decision: pending, on a handling clock still
    running, on a case whose active lead department is the head's (the one whose head decides,
    supervision.services.extensions.decide_extension). Oldest first, the head's inbox lists them
    with a link to decide; one query, with the case, the requester and the clock."""
    if not user.department_id or not (user.is_superuser or user.has_role(Role.HEAD)):
        return []
    lead_here = Assignment.objects.filter(
        case_id=OuterRef("case_id"),
        role=AssignmentRole.LEAD,
        state__in=ACTIVE_ASSIGNMENT_STATES,
        department_id=user.department_id,
    )
    return list(
        ExtensionRequest.objects.filter(
            Exists(lead_here), state=ExtensionState.PENDING, deadline__met_at__isnull=True
        )
        .select_related("case", "requested_by", "deadline")
        .order_by("requested_at", "pk")[:PENDING_EXTENSIONS_SHOWN]
    )


# --- the leader's own key cases (包案) ---------------------------------------------------------------

OWN_RESPONSIBILITIES_SHOWN = 50


def responsibilities_of(user: User) -> list[LeaderResponsibility]:
    """The leader responsibilities (包案) naming this user as the responsible leader: unresolved
    first, soonest due first, then the resolved ones, latest first. Only a leader can be named
    (supervision.services.leader), so no query for anyone else. One query, served by
    leaderresp_leader_idx."""
    if not user.has_role(Role.LEADER):
        return []
    return list(
        LeaderResponsibility.objects.filter(leader_id=user.pk)
        .select_related("case", "handler")
        .order_by("is_resolved", "due_at", "-resolved_at", "pk")[:OWN_RESPONSIBILITIES_SHOWN]
    )
