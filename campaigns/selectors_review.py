"""Reads of a quality review (案件评查), through the viewer: results with bands and rankings, an
outside reviewer's tasks, a department's reviews.

Who sees what: whoever sees the campaign (campaigns.selectors.campaigns_visible_to: its center and
the centers above) sees the whole sample and every review; a reviewer sees the cases assigned to
them; the staff of a department under review see the reviews of their department's cases (to
object). Not-yours and not-found are the same 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.roles import CENTER_ROLES, Role
from core.selectors import visible_center_ids

from .models import Campaign, CaseReview, SampledCase, ScoreSheet

EXCELLENT, PASS, FAIL = "excellent", "pass", "fail"
BAND_LABELS = {EXCELLENT: _("Excellent"), PASS: _("Pass"), FAIL: _("Fail")}
ONE_PLACE = Decimal("0.1")


def band_of(score: Decimal | int | None, sheet: ScoreSheet | None) -> str | None:
    """优秀 from the sheet's excellent_from, 合格 from its pass_from, else 不合格 (90 and 60 on the
    default sheet)."""
    if score is None:
        return None
    excellent_from = sheet.excellent_from if sheet is not None else 90
    pass_from = sheet.pass_from if sheet is not None else 60
    if score >= excellent_from:
        return EXCELLENT
    if score >= pass_from:
        return PASS
    return FAIL


def _mean(values: Iterable[Decimal | int]) -> Decimal | None:
    values = [Decimal(v) for v in values]
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@dataclass
class CaseResult:
    sample: SampledCase
    reviews: list[CaseReview]
    score: Decimal | None  # the mean of its reviews' final totals, one decimal
    band: str | None
    rank: int | None = None

    @property
    def band_label(self) -> Any:
        return BAND_LABELS.get(self.band or "", "")


@dataclass
class UnitResult:
    id: int | None
    name: str
    cases: int = 0
    scored: int = 0
    score: Decimal | None = None
    band: str | None = None
    rank: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: {EXCELLENT: 0, PASS: 0, FAIL: 0})

    @property
    def band_label(self) -> Any:
        return BAND_LABELS.get(self.band or "", "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cases": self.cases,
            "scored": self.scored,
            "score": str(self.score) if self.score is not None else None,
            "band": self.band,
            "rank": self.rank,
            "excellent": self.counts[EXCELLENT],
            "pass": self.counts[PASS],
            "fail": self.counts[FAIL],
        }


@dataclass
class ReviewResults:
    sheet: ScoreSheet | None
    cases: list[CaseResult]
    by_department: list[UnitResult]
    by_center: list[UnitResult]


def _rank(rows: list[Any]) -> list[Any]:
    """Highest score first, unscored last; ties share a rank (1, 2, 2, 4)."""
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.name))
    previous: Decimal | None = None
    rank = 0
    for n, row in enumerate(rows, start=1):
        if row.score is None:
            row.rank = None
            continue
        if row.score != previous:
            rank, previous = n, row.score
        row.rank = rank
    return rows


def samples_of(campaign: Campaign) -> QuerySet[SampledCase]:
    """The campaign's sample with what the review pages show, in a fixed number of queries."""
    return (
        SampledCase.objects.filter(campaign=campaign)
        .select_related("case", "case__center", "department", "department__center")
        .prefetch_related(
            "reviewers",
            Prefetch(
                "reviews",
                queryset=CaseReview.objects.select_related("reviewer")
                .prefetch_related("scores")
                .order_by("pk"),
            ),
        )
        .order_by("pk")
    )


def review_results(campaign: Campaign, user: User | None = None) -> ReviewResults:
    """A score per case (the mean of its reviews' final totals: the adjusted total where an
    objection was upheld), its band, and the ranking per department and per center (a unit's
    score is the mean of its scored cases' scores). ``user`` must see the campaign; the caller
    looked it up through campaigns.selectors.get_campaign_for."""
    from .services.review import sheet_for

    sheet = sheet_for(campaign)
    cases: list[CaseResult] = []
    departments: dict[int | None, UnitResult] = {}
    centers: dict[int, UnitResult] = {}
    unit_scores: dict[tuple[str, int | None], list[Decimal]] = defaultdict(list)
    for sample in samples_of(campaign):
        reviews = list(sample.reviews.all())
        score = _mean(r.final_total for r in reviews)
        band = band_of(score, sheet)
        cases.append(CaseResult(sample=sample, reviews=reviews, score=score, band=band))
        dept = sample.department
        dept_row = departments.setdefault(
            sample.department_id,
            UnitResult(
                id=sample.department_id, name=str(dept) if dept else str(_("No department"))
            ),
        )
        center = sample.case.center
        center_row = centers.setdefault(center.pk, UnitResult(id=center.pk, name=center.name))
        for key, row in (("d", dept_row), ("c", center_row)):
            row.cases += 1
            if score is not None:
                row.scored += 1
                assert band is not None
                row.counts[band] += 1
                unit_scores[(key, row.id)].append(score)
    for key, rows in (("d", departments), ("c", centers)):
        for row in rows.values():
            row.score = _mean(unit_scores[(key, row.id)])
            row.band = band_of(row.score, sheet)
    ranked_cases = _rank_cases(cases)
    return ReviewResults(
        sheet=sheet,
        cases=ranked_cases,
        by_department=_rank(list(departments.values())),
        by_center=_rank(list(centers.values())),
    )


def _rank_cases(cases: list[CaseResult]) -> list[CaseResult]:
    cases.sort(key=lambda r: (r.score is None, -(r.score or 0), r.sample.case.number))
    previous: Decimal | None = None
    rank = 0
    for n, row in enumerate(cases, start=1):
        if row.score is None:
            continue
        if row.score != previous:
            rank, previous = n, row.score
        row.rank = rank
    return cases


# --- what each viewer may reach ---------------------------------------------------------------------


def can_read_results(user: User, campaign: Campaign) -> bool:
    """The whole review (every case, the rankings): who runs the campaign, and the staff of its
    center and of the centers above (read-only). Not a reviewer (their own cases only), not a
    department (its own cases only)."""
    if user.is_superuser:
        return True
    if not user.role_codes & CENTER_ROLES:
        return False
    return campaign.center_id in visible_center_ids(user)


def reviewer_samples(user: User) -> QuerySet[SampledCase]:
    """The cases a reviewer (staff or outside) is assigned to, in running campaigns first."""
    return (
        SampledCase.objects.filter(reviewers=user)
        .select_related("campaign", "case", "department")
        .prefetch_related(
            Prefetch("reviews", queryset=CaseReview.objects.filter(reviewer=user), to_attr="mine")
        )
        .order_by("campaign__state", "-campaign__starts_on", "pk")
    )


def department_samples(user: User) -> QuerySet[SampledCase]:
    """The sampled cases of the viewer's department (its head and officers), to see the scores
    and object."""
    if user.department_id is None or not user.has_role(Role.HEAD, Role.OFFICER):
        return SampledCase.objects.none()
    return SampledCase.objects.filter(department_id=user.department_id)


def visible_campaign_ids(user: User) -> QuerySet[Any]:
    from .selectors import campaigns_visible_to

    return campaigns_visible_to(user).values("pk")


def samples_visible_to(user: User) -> QuerySet[SampledCase]:
    """Every sampled case the viewer may read a review of: whole campaigns they see, their own
    assignments as reviewer, their department's cases."""
    if user.is_superuser:
        return SampledCase.objects.all()
    condition = Q(reviewers=user)
    if user.department_id is not None and user.has_role(Role.HEAD, Role.OFFICER):
        condition |= Q(department_id=user.department_id)
    if not user.has_role(Role.REVIEWER) or user.role_codes - {Role.REVIEWER}:
        condition |= Q(campaign_id__in=visible_campaign_ids(user))
    return SampledCase.objects.filter(condition).distinct()


def get_sample_for(user: User, campaign: Campaign, case_id: int | str) -> SampledCase:
    try:
        return (
            samples_visible_to(user)
            .select_related("campaign", "case", "case__center", "department")
            .get(campaign=campaign, case_id=case_id)
        )
    except (SampledCase.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found") from None


def get_review_for(user: User, pk: int | str) -> CaseReview:
    """A review the viewer may read (through its sample), else 404."""
    try:
        return (
            CaseReview.objects.filter(sample__in=samples_visible_to(user).values("pk"))
            .select_related(
                "sample",
                "sample__campaign",
                "sample__campaign__center",
                "sample__case",
                "sample__department",
                "reviewer",
            )
            .get(pk=pk)
        )
    except (CaseReview.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found") from None


def reviews_visible_in(user: User, campaign: Campaign) -> QuerySet[SampledCase]:
    """The campaign's samples the viewer may read, with their reviews."""
    return samples_of(campaign).filter(pk__in=samples_visible_to(user).values("pk"))
