"""The indicators a center is judged by (DOMAIN.md §6), defined once, as data and code together.

Each ``Indicator`` carries its code, its Chinese label and the text of its definition
(numerator, denominator, what is excluded), which the page shows beside the figure and the API
returns with it, so the number and its definition cannot drift apart. Values are computed with
SQL aggregates (conditional ``Count(..., filter=...)`` over the rows of the unit the indicator
counts, ``EXISTS`` subqueries for the conditions); nothing loops over cases in Python. A rate whose
denominator is zero is ``None`` (shown "—"), never 0 % or 100 %.

Common rules
------------
- The period is Beijing days ``[from 00:00, to + 1 day 00:00)``; each indicator says which event
  places a unit in the period.
- A case counts where it is held now (``Case.center``): a transferred case is one row and counts
  once, at the receiving center (and once in any scope that holds both centers).
- An acceptance or completion counts in the period in which it happened (by ``met_at``), on time
  or late (issue 18 #6: placed by the due date, a case accepted or finished late on 7 Dec with a
  due date of 2 Dec fell out of a 3-7 Dec report, which then showed 100 %). A clock that ran out
  unmet counts late in the period of its due date while it stays unmet; once met it counts in the
  period of its completion instead. A clock not yet due and not met (including a case with no
  clock yet) is not counted. An extension moves ``due_at`` (clocks), so an extended case is on
  time when it meets the extended date. The overdue count places a case by the day it went
  overdue (its first missed duty).
- Lawfully terminated cases (Art 37: "no longer counted") are left out of every indicator and of
  the overdue count (acceptance and completion too since issue 18 #6); visits after a
  termination do not count at all. Activity counts (cases registered, visits before the
  termination, transfers, supervision orders) keep them: those events happened.
- Rates are over distinct cases, so a case with two clocks of a kind (reassigned) counts once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Case as DbCase
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clocks.models import DUTY_KINDS as CLOCK_DUTY_KINDS
from clocks.models import Deadline, DeadlineKind
from petitions.models import Case, CaseEvent, Visit
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, Transfer
from supervision.models import LeaderResponsibility, SupervisionOrder

from .filters import CHINA_TZ, NOT_HANDLED_ASSIGNMENT_STATES, ReportFilters

GROUP_VISIT_HEADCOUNT = 5  # DOMAIN.md §3: practice counts 5 or more people as a group visit
SATISFIED_RATINGS = ("satisfied", "basically_satisfied")
# Supervised duties (DOMAIN.md §5), as clocks defines them. Windows (objection, review request)
# are someone's right and never anyone's overdue work.
DUTY_KINDS: tuple[str, ...] = tuple(sorted(CLOCK_DUTY_KINDS))
# A case still before handling: a met handling clock on such a case ended by reassignment, not
# by finishing the work.
PRE_HANDLING_STATES = (
    CaseState.REGISTERED,
    CaseState.ASSIGNED,
    CaseState.RETURNED,
    CaseState.SIGNED,
)
CLOSED_STATES = (CaseState.CLOSED, CaseState.ARCHIVED)
TERMINATION_EVENT_KINDS = ("terminate", "terminated", "termination_approved")
REVIEW_EVENT_KINDS = ("request_review", "request_re_review", "review_requested")


def optional_model(label: str) -> type[Model] | None:
    """A model of an app that may not be installed yet (closure, appeals): None if absent."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _case_ref(prefix: str) -> str:
    return "pk" if not prefix else f"{prefix}id"


def terminated_q(prefix: str = "") -> Q:
    """The case is lawfully terminated (state, or a termination event before archiving)."""
    return Q(**{f"{prefix}state": CaseState.TERMINATED}) | Q(
        Exists(
            CaseEvent.objects.filter(
                case_id=OuterRef(_case_ref(prefix)), kind__in=TERMINATION_EVENT_KINDS
            )
        )
    )


def _decided(f: ReportFilters, now: datetime) -> tuple[Q, Q]:
    """(on time in the period, late in the period) for deadline rows: a met clock by the day it
    was met, an unmet one by the day it ran out (module docstring)."""
    met_in_period = Q(met_at__gte=f.since, met_at__lt=f.until)
    on_time = met_in_period & Q(met_at__lte=F("due_at"))
    late = (met_in_period & Q(met_at__gt=F("due_at"))) | Q(
        met_at__isnull=True, due_at__gte=f.since, due_at__lt=min(f.until, now)
    )
    return on_time, late


def _went_overdue(f: ReportFilters, now: datetime) -> Q:
    """Deadline rows that ran out in the period (by ``due_at``), met late or not met."""
    return Q(due_at__gte=f.since, due_at__lt=min(f.until, now)) & (
        Q(met_at__isnull=True) | Q(met_at__gt=F("due_at"))
    )


Counter = Callable[[ReportFilters, datetime], dict[str, int]]


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str | Promise
    numerator: str | Promise
    denominator: str | Promise
    exclusions: str | Promise
    basis: str | Promise  # which event places a unit in the period

    @property
    def definition(self) -> str:
        return str(
            _("Numerator: %(num)s. Denominator: %(den)s. Period: %(basis)s. Excluded: %(excl)s.")
            % {
                "num": self.numerator,
                "den": self.denominator,
                "basis": self.basis,
                "excl": self.exclusions,
            }
        )


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "timely_acceptance",
        _("Timely acceptance rate"),
        _("cases whose lead department accepted the assignment within the acceptance limit"),
        _(
            "cases accepted in the period (on time or late), and cases whose acceptance limit "
            "ran out in the period unaccepted"
        ),
        _(
            "lawfully terminated cases (Art 37); cases with no acceptance clock yet or one not "
            "yet due; clocks of assignments that were returned or withdrawn"
        ),
        _(
            "by acceptance date, whether on time or late; an acceptance still missing counts "
            "late on the day its limit ran out, until it is made"
        ),
    ),
    Indicator(
        "on_time_completion",
        _("On-time completion rate"),
        _("cases whose handling was finished by the (extended) due date"),
        _(
            "cases finished in the period (on time or late), and cases overdue and unfinished "
            "whose handling limit ran out in the period"
        ),
        _(
            "lawfully terminated cases (Art 37); cases with no handling clock yet or "
            "one not yet due; a handling clock ended by reassignment"
        ),
        _(
            "by completion date, whether on time or late; an unfinished case counts "
            "late on the day its limit ran out, until it is finished"
        ),
    ),
    Indicator(
        "satisfaction",
        _("Satisfaction rate"),
        _("evaluated cases rated satisfied or basically satisfied (rating of the department)"),
        _("cases evaluated within the evaluation window of their current written reply"),
        _(
            "lawfully terminated cases (Art 37); evaluations after the window; evaluations of a "
            "reply since superseded (the latest evaluation of the current reply counts)"
        ),
        _("delivery date of the current written reply"),
    ),
    Indicator(
        "center_satisfaction",
        _("Satisfaction with the center"),
        _(
            "evaluated cases that rated the center satisfied or basically satisfied (shown "
            "beside the satisfaction rate, which uses the department's rating)"
        ),
        _("cases evaluated within the evaluation window of their current written reply"),
        _(
            "lawfully terminated cases (Art 37); evaluations after the window; evaluations of a "
            "reply since superseded (the latest evaluation of the current reply counts)"
        ),
        _("delivery date of the current written reply"),
    ),
    Indicator(
        "participation",
        _("Evaluation participation rate"),
        _("cases evaluated within the evaluation window"),
        _(
            "cases whose current written reply was delivered in the period and whose evaluation "
            "window has closed or which were evaluated"
        ),
        _(
            "lawfully terminated cases (Art 37); cases whose evaluation window is still open "
            "and not yet evaluated"
        ),
        _("delivery date of the current written reply"),
    ),
    Indicator(
        "repeat_petition",
        _("Repeat petition rate"),
        _("repeat visits (the same person on the same matter again)"),
        _("all visits, letters, calls and online submissions"),
        _("visits on a lawfully terminated case after its termination (Art 37)"),
        _("date of the visit"),
    ),
    Indicator(
        "first_time_resolution",
        _("First-time resolution rate"),
        _("closed cases never taken to review or re-review and never reopened"),
        _("cases closed in the period"),
        _("lawfully terminated cases (Art 37)"),
        _("closing date"),
    ),
    Indicator(
        "leader_resolution",
        _("Leader-responsibility resolution rate"),
        _("cases under a leader's responsibility (包案) resolved in the period"),
        _("cases under a leader's responsibility open at any time in the period"),
        _(
            "lawfully terminated cases (Art 37); responsibilities resolved before the period or "
            "created after it"
        ),
        _("resolution date"),
    ),
    Indicator(
        "cessation",
        _("Cessation rate"),
        _("closed cases with no further visit within the cessation window after closing"),
        _("cases closed in the period whose cessation window has ended"),
        _("lawfully terminated cases (Art 37); cases whose window has not ended yet"),
        _("closing date"),
    ),
)
INDICATOR_CODES = tuple(i.code for i in INDICATORS)
COUNT_LABELS: dict[str, str | Promise] = {
    "cases": _("Cases registered"),
    "visits": _("Visits"),
    "group_visits": _("Group visits"),
    "skip_level_visits": _("Skip-level visits"),
    "transfers": _("Transfers"),
    "supervision_orders": _("Supervision orders"),
    "overdue": _("Overdue cases"),
}


@dataclass(frozen=True)
class IndicatorValue:
    indicator: Indicator
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return self.numerator / self.denominator

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def label(self) -> str:
        return str(self.indicator.label)

    @property
    def display(self) -> str:
        return format_rate(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": None if self.value is None else round(self.value, 6),
            "definition": self.indicator.definition,
        }


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# --- the counting queries (one aggregate each; see the module docstring) -------------------------


def clock_figures(
    f: ReportFilters, now: datetime, *, group_by: str | None = None, daily: bool = False
) -> Any:
    """Acceptance and completion, on deadline rows, in one aggregate (or one GROUP BY: by lead
    department/handler, or by day and case dimensions for the daily counters)."""
    on_time, late = _decided(f, now)
    not_handled = Exists(
        Assignment.objects.filter(
            pk=OuterRef("assignment_id"), state__in=NOT_HANDLED_ASSIGNMENT_STATES
        )
    )
    later_handling = Exists(
        Deadline.objects.filter(
            case_id=OuterRef("case_id"),
            kind=DeadlineKind.HANDLING,
            starts_at__gt=OuterRef("starts_at"),
        )
    )
    acceptance = Q(kind=DeadlineKind.ACCEPTANCE_NOTICE) & ~Q(not_handled)
    handling = (
        Q(kind=DeadlineKind.HANDLING)
        & ~Q(later_handling)
        & ~Q(met_at__isnull=False, case__state__in=PRE_HANDLING_STATES)
    )
    qs = Deadline.objects.filter(
        f.case_q("case__"),
        Q(kind__in=[DeadlineKind.ACCEPTANCE_NOTICE, DeadlineKind.HANDLING]),
        on_time | late,
    ).exclude(terminated_q("case__"))
    aggregates = {
        "acc_num": Count("case_id", distinct=True, filter=acceptance & on_time),
        "acc_den": Count("case_id", distinct=True, filter=acceptance),
        "done_num": Count("case_id", distinct=True, filter=handling & on_time),
        "done_den": Count("case_id", distinct=True, filter=handling),
    }
    if daily:
        # the same placement as _decided: the day it was met, else the day it ran out
        day = DbCase(When(met_at__isnull=False, then=_day("met_at")), default=_day("due_at"))
        return daily_groups(qs, day, "case__", aggregates)
    if group_by is None:
        return qs.aggregate(**aggregates)
    return (
        qs.annotate(group=lead_assignment_field("case_id", group_by))
        .values("group")
        .annotate(**aggregates)
    )


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=CHINA_TZ)


def daily_groups(qs: Any, day: Any, prefix: str, aggregates: dict[str, Any]) -> Any:
    """``qs`` grouped by the Beijing day that places a row in a period and by the case
    dimensions the daily counters keep (reports.counters)."""
    return (
        qs.annotate(
            g_day=day,
            g_center=F(f"{prefix}center_id"),
            g_channel=F(f"{prefix}channel_id"),
            g_category=F(f"{prefix}category_id"),
            g_law=F(f"{prefix}is_law_related"),
        )
        .values("g_day", "g_center", "g_channel", "g_category", "g_law")
        .annotate(**aggregates)
        .order_by()
    )


GROUP_FIELDS = {"department": "department_id", "handler": "handler_id"}


def lead_assignment_field(case_ref: str, group_by: str) -> Subquery:
    """The department (or handler) answering for the case: its latest lead assignment that was
    not handed back or withdrawn."""
    return Subquery(
        Assignment.objects.filter(case_id=OuterRef(case_ref), role=AssignmentRole.LEAD)
        .exclude(state__in=NOT_HANDLED_ASSIGNMENT_STATES)
        .order_by("-assigned_at", "-pk")
        .values(GROUP_FIELDS[group_by])[:1]
    )


def evaluation_figures(
    f: ReportFilters,
    now: datetime,
    window_days: int,
    *,
    group_by: str | None = None,
    daily: bool = False,
) -> Any:
    """Satisfaction and participation over the current replies delivered in the period."""
    reply_model = optional_model("closure.Reply")
    evaluation_model = optional_model("closure.Evaluation")
    empty = {"sat_num": 0, "csat_num": 0, "eval_num": 0, "due_den": 0}
    if reply_model is None or evaluation_model is None:
        return empty if group_by is None and not daily else []
    window = timedelta(days=window_days)
    window_end = ExpressionWrapper(OuterRef("delivered_at") + window, output_field=DateTimeField())
    latest = evaluation_model.objects.filter(  # type: ignore[attr-defined]
        case_id=OuterRef("case_id"),
        evaluated_at__gte=OuterRef("delivered_at"),
        evaluated_at__lte=window_end,
    ).order_by("-evaluated_at", "-pk")
    latest_rating = Subquery(latest.values("department_rating")[:1])
    # the center's rating of the same (latest) evaluation, shown beside the department's
    latest_center_rating = Subquery(latest.values("center_rating")[:1])
    qs = (
        reply_model.objects.filter(  # type: ignore[attr-defined]
            f.case_q("case__"),
            superseded_at__isnull=True,
            delivered_at__gte=f.since,
            delivered_at__lt=f.until,
        )
        .exclude(terminated_q("case__"))
        .annotate(rating=latest_rating, center_rating=latest_center_rating)
    )
    evaluated = Q(rating__isnull=False)
    window_open = Q(delivered_at__gt=now - window)
    aggregates = {
        "sat_num": Count("case_id", distinct=True, filter=Q(rating__in=SATISFIED_RATINGS)),
        "csat_num": Count("case_id", distinct=True, filter=Q(center_rating__in=SATISFIED_RATINGS)),
        "eval_num": Count("case_id", distinct=True, filter=evaluated),
        "due_den": Count("case_id", distinct=True, filter=evaluated | ~window_open),
    }
    if daily:
        return daily_groups(qs, _day("delivered_at"), "case__", aggregates)
    if group_by is None:
        return qs.aggregate(**aggregates)
    return (
        qs.annotate(group=lead_assignment_field("case_id", group_by))
        .values("group")
        .annotate(**aggregates)
    )


def visit_figures(f: ReportFilters, *, daily: bool = False) -> Any:
    after_termination = Exists(
        CaseEvent.objects.filter(
            case_id=OuterRef("case_id"),
            kind__in=TERMINATION_EVENT_KINDS,
            at__lt=OuterRef("at"),
        )
    )
    qs = Visit.objects.filter(f.case_q("case__"), at__gte=f.since, at__lt=f.until).exclude(
        after_termination
    )
    aggregates = {
        "visits": Count("pk"),
        "repeat": Count("pk", filter=Q(is_repeat=True)),
        "group_visits": Count(
            "pk", filter=Q(headcount__gte=GROUP_VISIT_HEADCOUNT) | Q(case__is_group=True)
        ),
        "skip_level_visits": Count("pk", filter=Q(case__is_skip_level=True)),
    }
    if daily:
        return daily_groups(qs, _day("at"), "case__", aggregates)
    return qs.aggregate(**aggregates)


def closing_figures(f: ReportFilters, now: datetime, *, daily: bool = False) -> Any:
    """First-time resolution and cessation, over the cases closed in the period."""
    reviewed = Q(
        Exists(CaseEvent.objects.filter(case_id=OuterRef("pk"), kind__in=REVIEW_EVENT_KINDS))
    )
    review_model = optional_model("appeals.ReviewRequest")
    if review_model is not None:
        reviewed |= Q(Exists(review_model.objects.filter(case_id=OuterRef("pk"))))  # type: ignore[attr-defined]
    closure_model = optional_model("closure.CaseClosure")
    if closure_model is not None:
        reviewed |= Q(
            Exists(
                closure_model.objects.filter(  # type: ignore[attr-defined]
                    case_id=OuterRef("pk"), reopened_at__isnull=False
                )
            )
        )
    window = timedelta(days=f.cessation_days)
    petitioned_again = Exists(
        Visit.objects.filter(
            case_id=OuterRef("pk"),
            at__gt=OuterRef("closed_at"),
            at__lte=ExpressionWrapper(OuterRef("closed_at") + window, output_field=DateTimeField()),
        )
    )
    window_ended = Q(closed_at__lte=now - window)
    qs = Case.objects.filter(
        f.case_q(),
        state__in=CLOSED_STATES,
        closed_at__gte=f.since,
        closed_at__lt=f.until,
    ).exclude(terminated_q())
    aggregates = {
        "closed": Count("pk"),
        "first_time": Count("pk", filter=~reviewed),
        "cessation_den": Count("pk", filter=window_ended),
        "cessation_num": Count("pk", filter=window_ended & ~Q(petitioned_again)),
    }
    if daily:
        return daily_groups(qs, _day("closed_at"), "", aggregates)
    return qs.aggregate(**aggregates)


def leader_figures(f: ReportFilters) -> dict[str, int]:
    qs = (
        LeaderResponsibility.objects.filter(f.case_q("case__"), created_at__lt=f.until)
        .exclude(resolved_at__lt=f.since)
        .exclude(terminated_q("case__"))
    )
    return qs.aggregate(
        den=Count("case_id", distinct=True),
        num=Count(
            "case_id",
            distinct=True,
            filter=Q(is_resolved=True, resolved_at__gte=f.since, resolved_at__lt=f.until),
        ),
    )


def overdue_q(f: ReportFilters, now: datetime) -> Q:
    """Deadline rows of a supervised duty that went overdue in the period, and were the case's
    first missed duty: a case counts as overdue in the period in which it first went overdue,
    so a case late twice counts once (in live figures and in the daily counters alike)."""
    late = _went_overdue(f, now)
    earlier_miss = Exists(
        Deadline.objects.filter(
            case_id=OuterRef("case_id"),
            kind__in=DUTY_KINDS,
            due_at__lt=OuterRef("due_at"),
        ).filter(Q(met_at__isnull=True) | Q(met_at__gt=F("due_at")))
    )
    return Q(kind__in=DUTY_KINDS) & late & ~Q(earlier_miss)


def other_counts(f: ReportFilters, now: datetime) -> dict[str, int]:
    cases = Case.objects.filter(f.case_q(), registered_at__gte=f.since, registered_at__lt=f.until)
    transfers = Transfer.objects.filter(
        f.case_q("case__", with_center=False),
        from_center_id__in=f.center_ids,
        transferred_at__gte=f.since,
        transferred_at__lt=f.until,
    )
    orders = SupervisionOrder.objects.filter(
        f.case_q("case__"), issued_at__gte=f.since, issued_at__lt=f.until
    )
    overdue = (
        Deadline.objects.filter(f.case_q("case__"), overdue_q(f, now))
        .exclude(terminated_q("case__"))
        .aggregate(n=Count("case_id", distinct=True))["n"]
    )
    return {
        "cases": cases.count(),
        "transfers": transfers.count(),
        "supervision_orders": orders.count(),
        "overdue": overdue,
    }


@dataclass(frozen=True)
class Report:
    filters: ReportFilters
    indicators: tuple[IndicatorValue, ...]
    counts: dict[str, int]
    computed_at: datetime

    def by_code(self) -> dict[str, IndicatorValue]:
        return {i.code: i for i in self.indicators}

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.filters.period_dict(),
            "indicators": [i.as_dict() for i in self.indicators],
            "counts": self.counts,
        }


def compute(f: ReportFilters, *, now: datetime | None = None) -> Report:
    """Every indicator and count for the filters. From the daily counters where they cover the
    period (reports.counters), the rest live; see compute_live."""
    from .counters import compute_with_counters

    now = now or timezone.now()
    return compute_with_counters(f, now) or compute_live(f, now=now)


def assemble(
    f: ReportFilters, now: datetime, figures: dict[str, int], leader: dict[str, int]
) -> Report:
    """A Report from the summed figures (live, from counters, or both)."""
    pairs = {
        "timely_acceptance": (figures["acc_num"], figures["acc_den"]),
        "on_time_completion": (figures["done_num"], figures["done_den"]),
        "satisfaction": (figures["sat_num"], figures["eval_num"]),
        "center_satisfaction": (figures["csat_num"], figures["eval_num"]),
        "participation": (figures["eval_num"], figures["due_den"]),
        "repeat_petition": (figures["repeat"], figures["visits"]),
        "first_time_resolution": (figures["first_time"], figures["closed"]),
        "leader_resolution": (leader["num"], leader["den"]),
        "cessation": (figures["cessation_num"], figures["cessation_den"]),
    }
    values = tuple(IndicatorValue(ind, *pairs[ind.code]) for ind in INDICATORS)
    counts = {key: figures[key] for key in COUNT_LABELS}
    return Report(filters=f, indicators=values, counts=counts, computed_at=now)


def compute_live(f: ReportFilters, *, now: datetime | None = None) -> Report:
    """Every indicator and count by aggregates over the rows: nine queries whatever the data
    size (their cost grows with the rows in the period and scope)."""
    now = now or timezone.now()
    return assemble(f, now, live_figures(f, now), leader_figures(f))


def live_figures(f: ReportFilters, now: datetime) -> dict[str, int]:
    """The figures the daily counters keep (reports.counters.METRICS), computed live: eight
    aggregates (everything but the leader-responsibility one)."""
    from . import conf

    clocks = clock_figures(f, now)
    evaluations = evaluation_figures(f, now, conf.evaluation_window_days())
    visits = visit_figures(f)
    closing = closing_figures(f, now)
    counts = other_counts(f, now)
    return {**clocks, **evaluations, **visits, **closing, **counts}


def compute_cached(f: ReportFilters, *, now: datetime | None = None) -> Report:
    """compute(), kept for REPORTS_CACHE_SECONDS (reports.cache)."""
    from .cache import cached

    return cached("indicators", f, lambda: compute(f, now=now))
