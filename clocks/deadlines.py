"""Opening, meeting and measuring deadlines (DOMAIN.md §5).

When a deadline falls due
-------------------------
The regulation counts in whole days and the day of the triggering event does not count (as in
Civil Code Art 201): a clock started at any hour of 1 March with 15 calendar days runs to the end
of 16 March. A deadline is therefore due at 23:59:59 Beijing time on its last day, for calendar
and working days alike, so that an act done at any time on the last day is on time and a due date
never depends on the hour at which the case happened to be registered. Days are Beijing days
whatever the server or user time zone, hence the fixed ``CHINA_TZ`` rather than the active zone.

A calendar-day deadline whose last day is a public holiday is *not* moved to the next working day:
the 信访工作条例 does not say so (the Civil Code's Art 203 roll-over is for civil periods); a
province that wants it can use a working-day rule instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery

from core.codecache import TableCache
from core.models import Center, CenterLevel
from petitions.models import Case

from .calendar import add_calendar_days, add_working_days
from .models import DUTY_KINDS, DayType, Deadline, DeadlineKind, DeadlineRule, WarningLevel

CHINA_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DEFAULT_WARNING_DAYS: dict[str, int] = {"approaching": 3, "severe": 1}


def _check_kind(kind: str) -> None:
    if kind not in DeadlineKind.values:
        raise ValueError(f"unknown deadline kind {kind!r}")


def _province_code(center: Center) -> str | Subquery:
    """The region code of the province ``center`` belongs to: itself if it is one, else the root
    of its materialised path (as a subquery, so rule_for stays one query), else walk up."""
    if center.level == CenterLevel.PROVINCE:
        return center.region_code
    root = center.path.strip("/").split("/")[0] if center.path else ""
    if root.isdigit():
        return Subquery(Center.objects.filter(pk=int(root)).values("region_code")[:1])
    node: Center | None = center
    while node is not None and node.level != CenterLevel.PROVINCE:
        node = node.parent
    return node.region_code if node is not None else ""


def _load_rules() -> dict[str, dict[str, DeadlineRule]]:
    rules: dict[str, dict[str, DeadlineRule]] = {}
    for rule in DeadlineRule.objects.all():
        rules.setdefault(rule.kind, {})[rule.province_region_code] = rule
    return rules


# Every rule, by kind and province code (core.codecache: dropped when a rule is saved or deleted).
_rules: TableCache[dict[str, dict[str, DeadlineRule]]] = TableCache(
    "clocks.deadline_rules", _load_rules, ("clocks.DeadlineRule",)
)


def rule_for(kind: str, center: Center) -> DeadlineRule:
    """The rule for ``kind`` at ``center``: its province's override, else the national default.
    A kind with only its national rule is answered from the in-process cache, without a query
    (no need to know the center's province); a kind some province overrides, in one query.

    Raises ``DeadlineRule.DoesNotExist`` when neither exists (a kind nobody configured)."""
    _check_kind(kind)
    cached = _rules.get().get(kind)
    if cached is not None and set(cached) == {""}:
        return copy.copy(cached[""])
    rule = (
        DeadlineRule.objects.filter(kind=kind)
        .filter(Q(province_region_code="") | Q(province_region_code=_province_code(center)))
        # "" sorts first, so descending puts the province's own row ahead of the default.
        .order_by("-province_region_code")
        .first()
    )
    if rule is None:
        raise DeadlineRule.DoesNotExist(f"no deadline rule for {kind!r} (national or provincial)")
    return rule


def _local_date(at: datetime) -> date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("deadline times must be timezone-aware")
    return at.astimezone(CHINA_TZ).date()


def _end_of_day(d: date) -> datetime:
    return datetime.combine(d, END_OF_DAY, tzinfo=CHINA_TZ)


def compute_due(
    *, kind: str, start: datetime, center: Center, length_override: int | None = None
) -> tuple[datetime, bool, DeadlineRule]:
    """When a ``kind`` clock started at ``start`` at ``center`` falls due.

    Returns (due_at, is_provisional, rule). ``length_override`` replaces the rule's length (a
    supervisor's own time limit on a supervision order) but keeps its day type and basis.
    ``is_provisional`` is true when working days were counted in a year without official
    holiday data; calendar-day deadlines never are."""
    rule = rule_for(kind, center)
    length = rule.length if length_override is None else length_override
    if length < 0:
        raise ValueError("a deadline length cannot be negative")
    start_day = _local_date(start)
    if rule.day_type == DayType.WORKING:
        last_day, provisional = add_working_days(start_day, length)
    else:
        last_day, provisional = add_calendar_days(start_day, length), False
    return _end_of_day(last_day), provisional, rule


@dataclass(frozen=True)
class PlannedDeadline:
    """A clock computed before its case is saved (open_planned_deadline)."""

    kind: str
    start: datetime
    due_at: datetime
    is_provisional: bool
    rule: DeadlineRule

    @property
    def is_duty(self) -> bool:
        """A duty's due date is the case's ``next_due_at`` (refresh_case_next_due)."""
        return self.kind in DUTY_KINDS


def plan_deadline(*, kind: str, start: datetime, center: Center) -> PlannedDeadline:
    """The ``kind`` clock a new case at ``center`` will run from ``start``, so the case can be
    inserted with its ``next_due_at`` already set."""
    _check_kind(kind)
    due_at, provisional, rule = compute_due(kind=kind, start=start, center=center)
    return PlannedDeadline(
        kind=kind, start=start, due_at=due_at, is_provisional=provisional, rule=rule
    )


def open_planned_deadline(*, case: Case, plan: PlannedDeadline) -> Deadline:
    """Start the planned clock on a case inserted in the caller's transaction with
    ``next_due_at = plan.due_at`` when ``plan.is_duty`` (else NULL). No other transaction can see
    that case yet, so no clock can be running on it: unlike open_deadline, no read of the running
    clocks, no savepoint and no refresh of ``next_due_at``: one INSERT and its history row. A
    clock that did exist would still fail the partial unique constraint and roll back the whole
    registration, never run twice."""
    rule = plan.rule
    return Deadline.objects.create(
        case=case,
        kind=plan.kind,
        rule=rule,
        basis=rule.basis,
        day_type=rule.day_type,
        starts_at=plan.start,
        due_at=plan.due_at,
        is_provisional=plan.is_provisional,
    )


def _open_deadlines(case_id: int, kind: str, assignment_id: int | None) -> QuerySet[Deadline]:
    # Served by the partial unique index deadline_one_open_per_key. ``assignment_id=None`` is the
    # case-level clock (IS NULL), not "any assignment": the same key as the unique constraint.
    return Deadline.objects.filter(
        case_id=case_id, kind=kind, assignment_id=assignment_id, met_at__isnull=True
    )


def open_deadline(
    *,
    case: Case,
    kind: str,
    start: datetime,
    assignment_id: int | None = None,
    length_override: int | None = None,
) -> Deadline:
    """Start the ``kind`` clock on ``case`` (per assignment if given). Idempotent: if the same
    clock is already running it is returned unchanged, even when a concurrent call won the race."""
    _check_kind(kind)
    existing = _open_deadlines(case.pk, kind, assignment_id).first()
    if existing is not None:
        return existing
    due_at, provisional, rule = compute_due(
        kind=kind, start=start, center=case.center, length_override=length_override
    )
    try:
        with transaction.atomic():
            deadline = Deadline.objects.create(
                case=case,
                kind=kind,
                rule=rule,
                basis=rule.basis,
                day_type=rule.day_type,
                starts_at=start,
                due_at=due_at,
                is_provisional=provisional,
                assignment_id=assignment_id,
            )
            refresh_case_next_due(case.pk)
    except IntegrityError:
        # Another transaction opened the same clock between our read and insert: the partial
        # unique constraint rejected ours, and theirs is the one to use.
        existing = _open_deadlines(case.pk, kind, assignment_id).first()
        if existing is None:
            raise
        return existing
    return deadline


def meet_deadline(*, case: Case, kind: str, at: datetime, assignment_id: int | None = None) -> int:
    """Stop the running ``kind`` clock on ``case`` at ``at``. Returns the number of clocks
    stopped (0 if none was running, e.g. a concurrent call stopped it first)."""
    _check_kind(kind)
    with transaction.atomic():
        # Row by row with save(), not QuerySet.update(), so simple-history records the change.
        # After waiting for a concurrent locker PostgreSQL re-checks met_at IS NULL, so a clock
        # is stopped once.
        deadlines = list(_open_deadlines(case.pk, kind, assignment_id).select_for_update())
        for deadline in deadlines:
            deadline.met_at = at
            deadline.save(update_fields=["met_at"])
        if deadlines:
            refresh_case_next_due(case.pk)
    return len(deadlines)


def refresh_case_next_due(case_id: int) -> None:
    """Set ``Case.next_due_at`` to the earliest due date of the case's running *duties* (NULL if
    none), in one UPDATE with a correlated subquery so that it cannot race a read-modify-write.
    Windows (someone's right: the receiver's objection, the petitioner's review request) are not
    the case's next deadline: on an accepted case the handling deadline shows.
    A denormalised field: Case history is deliberately not written for it."""
    earliest = (
        Deadline.objects.duties()
        .filter(case_id=OuterRef("pk"), met_at__isnull=True)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Case.objects.filter(pk=case_id).update(next_due_at=Subquery(earliest))


# --- measuring ------------------------------------------------------------------------------------


def days_remaining(due_at: datetime, now: datetime) -> int:
    """Whole days left, rounded down: 0 = due within the next 24 hours, negative = overdue.

    With deadlines due at 23:59:59 Beijing time this equals the number of Beijing calendar days
    between today and the due day (due today: 0, due tomorrow: 1, due yesterday: -1)."""
    return (due_at - now).days


def warning_level_for(
    due_at: datetime, now: datetime, thresholds: Mapping[str, int] | None = None
) -> WarningLevel:
    """The warning level of a clock at ``now``.

    Overdue once ``now`` is past ``due_at``; else severe when ``days_remaining`` is at most
    ``thresholds["severe"]``, approaching when at most ``thresholds["approaching"]``. Thresholds
    default to ``settings.DEADLINE_WARNING_DAYS`` ({"approaching": 3, "severe": 1}). Measured in
    the same whole days as ``days_remaining`` so the colour always matches the number shown."""
    if thresholds is None:
        thresholds = getattr(settings, "DEADLINE_WARNING_DAYS", DEFAULT_WARNING_DAYS)
    if now > due_at:
        return WarningLevel.OVERDUE
    left = days_remaining(due_at, now)
    if left <= thresholds.get("severe", DEFAULT_WARNING_DAYS["severe"]):
        return WarningLevel.SEVERE
    if left <= thresholds.get("approaching", DEFAULT_WARNING_DAYS["approaching"]):
        return WarningLevel.APPROACHING
    return WarningLevel.ON_TIME
