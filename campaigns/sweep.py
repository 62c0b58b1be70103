"""The sweep (排查, DOMAIN.md §8): which cases of a campaign's scope meet its stated criteria.

Criteria are a dict (saved on the campaign as ``Campaign.sweep_criteria``):

==========================  =====  ================================================================
key                         value  a case meets it when
==========================  =====  ================================================================
``open_days_over``          int N  it is open and was registered more than N days ago
``visits_at_least``         int k  k or more visits on it in the last 12 months (365 days)
``group``                   true   it is a group visit (``Case.is_group``)
``skip_level``              true   it is a skip-level petition (``Case.is_skip_level``)
``repeat_after_closure``    true   it was closed, and after ``closed_at`` a visit came on it or its
                                   main petitioner registered a new case
``final_returning``         true   its matter is final (不再受理: a Finality row, Arts 35-37), and
                                   after ``final_at`` a visit came on it or its main petitioner
                                   registered a new case
``overdue``                 true   it is open and a running duty clock is past due
                                   (``Case.next_due_at``, the earliest running duty, in the past)
``dissatisfied``            true   the evaluation that counts (the latest one, as closure reads
                                   it) rated the center or the department 不满意
``match``                   str    ``"all"`` (default): every stated criterion must hold (AND);
                                   ``"any"``: at least one must hold (OR)
==========================  =====  ================================================================

A boolean criterion set to false is the same as leaving it out. Anything else (an unknown key, a
wrong type, a number out of range, no criterion at all) is a ``ValidationError`` keyed by the
criterion, in the user's language.

The scope is the campaign's center, and every center below it when ``include_subordinates``.

The whole sweep is ONE query, never a loop over cases in Python: ``ORDER BY registered_at, id
LIMIT CANDIDATE_CAP + 1`` over the scope, each criterion a condition on the case row, an index
probe correlated on the case (EXISTS / a LIMIT 1 subquery), or a small hashed id set. The cap is
what makes it fast: PostgreSQL reads cases in the sweep's order (or from the small side: the
open cases' index, the overdue index, the repeat-visit set) and stops once the cap is filled,
instead of finding every match for an exact count. So the count is exact up to the cap, and past
it the answer says "more than CANDIDATE_CAP" (``SweepFound.truncated``): a sweep that wide needs
narrower criteria. Benchmarked at 1,000,000 cases in bench/bench_campaigns.py (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.models import Finality
from closure.models import Evaluation, EvaluationChannel, Rating
from core.models import User
from petitions.models import Case, Visit
from petitions.states import CaseState

# At most this many candidates are returned and saved per run (the total is reported beside
# them): a sweep is a list people read and decide one by one; a wider net is narrowed by adding
# criteria, not by paging through tens of thousands of rows.
CANDIDATE_CAP = 5000
VISIT_WINDOW_DAYS = 365
MAX_DAYS = 36_500
MAX_VISITS = 10_000

INT_CRITERIA = ("open_days_over", "visits_at_least")
BOOL_CRITERIA = (
    "group",
    "skip_level",
    "repeat_after_closure",
    "final_returning",
    "overdue",
    "dissatisfied",
)
CRITERIA = (*INT_CRITERIA, *BOOL_CRITERIA)
MATCH_MODES = ("all", "any")

# Labels for pages and messages (the API speaks in the keys).
LABELS = {
    "open_days_over": gettext_lazy("Open longer than N days"),
    "visits_at_least": gettext_lazy("At least k visits in 12 months"),
    "group": gettext_lazy("Group visit"),
    "skip_level": gettext_lazy("Skip-level petition"),
    "repeat_after_closure": gettext_lazy("Petitions again after closure"),
    "final_returning": gettext_lazy("Final matter (不再受理), the person keeps coming"),
    "overdue": gettext_lazy("Overdue"),
    "dissatisfied": gettext_lazy("Rated dissatisfied (不满意)"),
}


@dataclass(frozen=True)
class SweepCriteria:
    """Validated criteria; ``stated`` lists the criteria in force, in CRITERIA order."""

    open_days_over: int | None = None
    visits_at_least: int | None = None
    group: bool = False
    skip_level: bool = False
    repeat_after_closure: bool = False
    final_returning: bool = False
    overdue: bool = False
    dissatisfied: bool = False
    match: str = "all"

    @property
    def stated(self) -> list[str]:
        return [
            name
            for name in CRITERIA
            if (getattr(self, name) is not None if name in INT_CRITERIA else getattr(self, name))
        ]

    def as_dict(self) -> dict[str, Any]:
        """The canonical form saved on the campaign (stated criteria only, plus ``match``)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.stated}
        out["match"] = self.match
        return out


def parse_criteria(raw: object) -> SweepCriteria:
    """Validate criteria as sent by the API or the page. Raises ValidationError({key: [msg]})."""
    if not isinstance(raw, Mapping):
        raise ValidationError({"criteria": [_("Criteria must be an object of named criteria.")]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "match":
            if value not in MATCH_MODES:
                errors[key] = [_('Choose "all" (every criterion) or "any" (at least one).')]
            else:
                values[key] = value
        elif key in INT_CRITERIA:
            low, high = (0, MAX_DAYS) if key == "open_days_over" else (1, MAX_VISITS)
            if value is None:
                continue
            # JSON true is an int to Python: refuse it explicitly.
            if isinstance(value, bool) or not isinstance(value, int):
                errors[key] = [_("Enter a whole number.")]
            elif not low <= value <= high:
                errors[key] = [
                    _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
            else:
                values[key] = value
        elif key in BOOL_CRITERIA:
            if not isinstance(value, bool):
                errors[str(key)] = [_("Enter true or false.")]
            else:
                values[key] = value
        else:
            errors[str(key)] = [_("Unknown criterion.")]
    if errors:
        raise ValidationError(errors)
    criteria = SweepCriteria(**values)
    if not criteria.stated:
        raise ValidationError({"criteria": [_("State at least one criterion.")]})
    return criteria


# --- the query -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Criterion:
    """One stated criterion as SQL, in the form that is cheap for it at 1,000,000 cases:

    - ``row``: a condition on the case row alone (plain columns);
    - ``probe``: a test correlated on one case (EXISTS on an index), which PostgreSQL runs for
      the cases it reads in the sweep's order until the cap is filled: cheap when the criterion
      is met by a good share of the cases (it stops early), and the per-row "criteria met" flag;
    - ``ids``: an uncorrelated set of case ids (hashed once), for a criterion met by few cases
      whose set is cheap to compute from the other side (``visits_at_least``: an aggregate over
      the last 12 months' visits), where probing case after case would read the whole scope.
    """

    row: Q | None = None
    probe: Q | Exists | None = None
    ids: QuerySet[Any] | None = None

    def filter(self) -> Q | Exists:
        if self.row is not None:
            return self.row
        assert self.probe is not None
        if self.ids is not None:
            # the hashed set narrows, the probe decides (for the few rows in the set)
            return Q(pk__in=self.ids) & Q(self.probe)
        return self.probe

    def met(self) -> Q | Exists:
        if self.row is not None:
            return self.row
        assert self.probe is not None
        return self.probe


def _newer_case(petitioner: str, after: str) -> Exists:
    """A case of the same main petitioner registered after ``after`` (on the index
    case_petitioner_reg_idx: main_petitioner, registered_at)."""
    return Exists(
        Case.objects.filter(
            main_petitioner_id=OuterRef(petitioner), registered_at__gt=OuterRef(after)
        )
    )


def _visit_after(case: str, after: str) -> Exists:
    """A visit on the case after ``after``. Only repeat visits can be: a case's one first visit
    (is_repeat false) is its registration, before any closure or finality; every later visit is
    stored is_repeat (petitions.services.add_visit). Served by visit_repeat_case_at_idx."""
    return Exists(
        Visit.objects.filter(case_id=OuterRef(case), is_repeat=True, at__gt=OuterRef(after))
    )


def _criteria_sql(criteria: SweepCriteria, now: datetime) -> dict[str, _Criterion]:
    open_states = sorted(CaseState.open_states())
    out: dict[str, _Criterion] = {}
    if criteria.open_days_over is not None:
        out["open_days_over"] = _Criterion(
            row=Q(
                state__in=open_states,
                registered_at__lt=now - timedelta(days=criteria.open_days_over),
            )
        )
    if criteria.visits_at_least is not None:
        k = criteria.visits_at_least
        since = now - timedelta(days=VISIT_WINDOW_DAYS)
        # the k-th visit of the window exists (OFFSET k-1 LIMIT 1 on visit_case_at_idx)
        kth_visit = Exists(
            Visit.objects.filter(case_id=OuterRef("pk"), at__gte=since).order_by()[k - 1 : k]
        )
        if k == 1:
            out["visits_at_least"] = _Criterion(probe=kth_visit)
        else:
            # Few cases (~5% at 1,000,000), rarely the old ones the sweep reads first: probing
            # case after case would read the whole scope. A case has at most one visit that is
            # not a repeat (its first; petitions.services), so k visits in the window mean k-1
            # repeat visits there: that smaller set (visit_repeat_case_at_idx, a fifth of the
            # window's visits) is aggregated once and hashed, and the probe settles the rest.
            repeats = (
                Visit.objects.filter(is_repeat=True, at__gte=since)
                .values("case_id")
                .annotate(n=Count("*"))
                .filter(n__gte=k - 1)
                .values("case_id")
            )
            out["visits_at_least"] = _Criterion(ids=repeats, probe=kth_visit)
    if criteria.group:
        out["group"] = _Criterion(row=Q(is_group=True))
    if criteria.skip_level:
        out["skip_level"] = _Criterion(row=Q(is_skip_level=True))
    if criteria.repeat_after_closure:
        out["repeat_after_closure"] = _Criterion(
            probe=Q(closed_at__isnull=False)
            & (_visit_after("pk", "closed_at") | _newer_case("main_petitioner_id", "closed_at")),
        )
    if criteria.final_returning:
        # appeals' Finality carries the moment the matter became final, which this criterion
        # needs (petitions.hooks' final-matter providers say only whether it is final). Lawful
        # termination writes a Finality row too (reason "terminated").
        out["final_returning"] = _Criterion(
            probe=Exists(
                Finality.objects.filter(case_id=OuterRef("pk")).filter(
                    _visit_after("case_id", "final_at")
                    | _newer_case("case__main_petitioner_id", "final_at")
                )
            ),
        )
    if criteria.overdue:
        # Case.next_due_at is the earliest running duty's due time (clocks.deadlines
        # refresh_case_next_due): past it, a duty is overdue. A range scan on case_next_due_idx.
        out["overdue"] = _Criterion(row=Q(state__in=open_states, next_due_at__lt=now))
    if criteria.dissatisfied:
        # The evaluation that counts is the case's latest (closure.selectors.evaluation_for),
        # leaving out what counting_evaluations leaves out.
        # A probe per case: its latest counting evaluation, on evaluation_case_idx (case,
        # evaluated_at), and whether it is unhappy. (An EXISTS "unhappy, and no later one"
        # would be turned by PostgreSQL into a hashed set of every case's evaluations.) What
        # counts is closure.selectors.counting_evaluations's rule, written as a NOT EXISTS that
        # only return-visit rows reach (its join to the recorder would run on every probe): a
        # verdict at a return visit recorded by a member of the department rated does not count.
        unhappy = Q(center_rating=Rating.DISSATISFIED) | Q(department_rating=Rating.DISSATISFIED)
        by_rated_department = Exists(
            User.objects.filter(
                pk=OuterRef("recorded_by_id"), department_id=OuterRef("department_id")
            )
        )
        latest = (
            Evaluation.objects.filter(case_id=OuterRef("pk"))
            .filter(~Q(channel=EvaluationChannel.RETURN_VISIT) | ~by_rated_department)
            .order_by("-evaluated_at", "-pk")
            .annotate(unhappy=ExpressionWrapper(unhappy, output_field=BooleanField()))
            .values("unhappy")[:1]
        )
        out["dissatisfied"] = _Criterion(
            probe=Q(Exact(Subquery(latest, output_field=BooleanField()), True))
        )
    return out


def sweep_queryset(
    *, center_ids: list[int], criteria: SweepCriteria, now: datetime
) -> QuerySet[Case]:
    """The cases of ``center_ids`` that meet ``criteria``, oldest registration first; in the OR
    mode with one ``met_<criterion>`` flag per stated criterion.

    AND: every criterion filters. OR: one disjunction of the criteria, the row conditions first
    (PostgreSQL evaluates an OR's arms in order and stops at the first true one), and the flags
    say which criteria each row met (computed for the rows returned only)."""
    parts = _criteria_sql(criteria, now)
    qs = Case.objects.filter(center_id__in=center_ids)
    if criteria.match == "all":
        for part in parts.values():
            qs = qs.filter(part.filter())
    else:
        arms = sorted(parts.values(), key=lambda p: (p.row is None, p.ids is None))
        either = Q(arms[0].filter())
        for part in arms[1:]:
            either |= Q(part.filter())
        qs = qs.filter(either).annotate(
            **{
                f"met_{name}": ExpressionWrapper(part.met(), output_field=BooleanField())
                for name, part in parts.items()
            }
        )
    return qs.order_by("registered_at", "pk")


@dataclass
class SweepFound:
    """What one run found: the first ``len(rows)`` (at most the cap) matching cases as (case id,
    case number, criteria met), and ``total``: how many cases met the criteria, exact when
    ``truncated`` is false; when true, more than the cap met them (the total is then the cap)."""

    total: int
    rows: list[tuple[int, str, list[str]]] = field(default_factory=list)
    truncated: bool = False


def find_candidates(
    *, center_ids: list[int], criteria: SweepCriteria, now: datetime, cap: int | None = None
) -> SweepFound:
    """Run the sweep: one query, reading at most ``cap + 1`` rows (the extra one says whether
    more cases met the criteria: no exact count past the cap, which would make PostgreSQL find
    every match before returning the first)."""
    cap = CANDIDATE_CAP if cap is None else cap
    stated = criteria.stated
    qs = sweep_queryset(center_ids=center_ids, criteria=criteria, now=now)
    if criteria.match == "all":
        # Every row met every stated criterion: no flags to compute.
        rows = [
            (pk, number, list(stated)) for pk, number in qs.values_list("pk", "number")[: cap + 1]
        ]
    else:
        flags = [f"met_{name}" for name in stated]
        rows = [
            (row[0], row[1], [name for name, met in zip(stated, row[2:], strict=True) if met])
            for row in qs.values_list("pk", "number", *flags)[: cap + 1]
        ]
    truncated = len(rows) > cap
    rows = rows[:cap]
    return SweepFound(total=len(rows), rows=rows, truncated=truncated)
