"""Reads of campaigns, through the viewer (STYLE.md: reads take the viewer).

Who sees what:
- a center's staff (center roles) see their center's campaigns and, read-only, those of the
  centers below it, with all their matters;
- a center or department a campaign handed matters to sees that campaign, and only the matters
  handed to it (a lower center's staff also see the matters handed to its departments);
- the responsible leader and the handler of a matter see it, wherever they sit;
- the leading group's head and members see their campaign; outside reviewers see the campaigns
  that sampled cases for them (and those cases: ``reviewer_case_ids``).
Not-yours and not-found are the same 404 (``get_campaign_for``).

Who runs a campaign (``can_manage``): a supervisor or leader of the campaign's own center, or the
one of a center above it who opened it or heads its leading group. Everyone else reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncWeek
from django.http import Http404
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from core.models import User
from core.roles import CENTER_ROLES, DEPARTMENT_ROLES, Role
from core.selectors import visible_center_ids
from petitions.models import Case, CaseEvent, Visit
from petitions.states import CaseState

from .models import Campaign, Matter, MatterOutcome, SampledCase

MANAGING_ROLES = (Role.SUPERVISOR, Role.LEADER)


def reviewer_case_ids(user: User) -> QuerySet[Any] | None:
    """The cases sampled for an outside reviewer (petitions.hooks user visibility provider):
    None, and no query, for everyone else."""
    if not user.has_role(Role.REVIEWER):
        return None
    return SampledCase.objects.filter(reviewers=user).values_list("case_id", flat=True)


# --- visibility -----------------------------------------------------------------------------------


def _center_ids(user: User) -> list[int]:
    """The centers whose campaigns the user reads: its own and those below (center roles only;
    department staff read what was handed to their department)."""
    if user.role_codes & CENTER_ROLES:
        return visible_center_ids(user)  # organisation cache, no query
    return []


def _handed_to_q(user: User) -> Q:
    """Matters handed to the user's side: its center (or below), its department, or the user."""
    condition = Q(leader_id=user.pk) | Q(handler_id=user.pk)
    ids = _center_ids(user)
    if ids:
        condition |= Q(center_id__in=ids) | Q(department__center_id__in=ids)
    if user.role_codes & DEPARTMENT_ROLES and user.department_id:
        condition |= Q(department_id=user.department_id)
    return condition


def _sees_whole_campaign(user: User, campaign: Campaign) -> bool:
    if user.is_superuser:
        return True
    return (
        campaign.center_id in _center_ids(user)
        or campaign.group_leader_id == user.pk
        or campaign.created_by_id == user.pk
    )


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns the user may read (see the module docstring), each once."""
    qs = Campaign.objects.all()
    if user.is_superuser:
        return qs
    if not user.is_authenticated or user.center_id is None:
        return qs.none()
    condition: Any = (
        Q(group_leader_id=user.pk)
        | Q(created_by_id=user.pk)
        | Exists(Campaign.members.through.objects.filter(campaign_id=OuterRef("pk"), user=user))
        | Exists(Matter.objects.filter(_handed_to_q(user), campaign_id=OuterRef("pk")))
    )
    ids = _center_ids(user)
    if ids:
        condition |= Q(center_id__in=ids)
    if user.has_role(Role.REVIEWER):
        condition |= Exists(SampledCase.objects.filter(campaign_id=OuterRef("pk"), reviewers=user))
    return qs.filter(condition)


def get_campaign_for(user: User, pk: int | str) -> Campaign:
    """A visible campaign or Http404, whether it does not exist or is not the user's to see."""
    try:
        return campaigns_visible_to(user).select_related("center", "group_leader").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404("No such campaign") from None


def can_manage(user: User, campaign: Campaign) -> bool:
    """Runs the campaign (changes it, hands matters down, sweeps, samples): a supervisor or
    leader of its center, or of a center above it who opened it or heads its leading group.
    A subordinate center's campaign is read-only to the centers above it otherwise."""
    if user.is_superuser:
        return True
    if not user.is_authenticated or not user.has_role(*MANAGING_ROLES):
        return False
    if campaign.center_id == user.center_id:
        return True
    return campaign.center_id in visible_center_ids(user) and user.pk in (
        campaign.created_by_id,
        campaign.group_leader_id,
    )


def matters_visible_to(user: User, campaign: Campaign | None = None) -> QuerySet[Matter]:
    """Matters the user may read: all of a campaign the user reads whole, else those handed to
    the user's side. With the relations the ledger lists show."""
    qs = Matter.objects.select_related(
        "campaign",
        "case",
        "case__center",
        "center",
        "department",
        "department__center",
        "leader",
        "handler",
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if user.is_superuser:
        return qs
    if not user.is_authenticated or user.center_id is None:
        return qs.none()
    if campaign is not None and _sees_whole_campaign(user, campaign):
        return qs
    condition = _handed_to_q(user) | Q(campaign__group_leader_id=user.pk)
    ids = _center_ids(user)
    if ids:
        condition |= Q(campaign__center_id__in=ids)
    return qs.filter(condition)


def get_matter_for(user: User, campaign: Campaign, pk: int | str) -> Matter:
    try:
        return matters_visible_to(user, campaign).get(pk=pk)
    except (Matter.DoesNotExist, ValueError, TypeError):
        raise Http404("No such matter") from None


# --- summary --------------------------------------------------------------------------------------

RATE_DIGITS = 4


def terminated_case_q(prefix: str = "case__") -> Q:
    """The matter's case was lawfully terminated (Art 37): in that state, or archived after it.
    A matter counts as ``terminated`` from its case, computed here, not stored by a task: the
    case decides, so the figure never lags behind it."""
    return Q(**{f"{prefix}state": CaseState.TERMINATED}) | (
        Q(**{f"{prefix}state": CaseState.ARCHIVED})
        & Q(
            Exists(
                CaseEvent.objects.filter(case_id=OuterRef("case_id"), to_state=CaseState.TERMINATED)
            )
        )
    )


def ceased_q(campaign: Campaign, now: datetime) -> Q:
    """息诉罢访: resolved, the observation window after ``resolved_at`` is over, and within it no
    visit on the case and no new case of its main petitioner was registered."""
    window = timedelta(days=campaign.observation_days)
    window_end = ExpressionWrapper(OuterRef("resolved_at") + window, output_field=DateTimeField())
    came_back = Visit.objects.filter(
        case_id=OuterRef("case_id"), at__gt=OuterRef("resolved_at"), at__lte=window_end
    )
    new_case = Case.objects.filter(
        main_petitioner_id=OuterRef("case__main_petitioner_id"),
        registered_at__gt=OuterRef("resolved_at"),
        registered_at__lte=window_end,
    ).exclude(pk=OuterRef("case_id"))
    return (
        Q(outcome=MatterOutcome.RESOLVED, resolved_at__lte=now - window)
        & ~Exists(came_back)
        & ~Exists(new_case)
    )


def _figure_aggregates(campaign: Campaign, now: datetime) -> dict[str, Count]:
    terminated = terminated_case_q()
    resolved = Q(outcome=MatterOutcome.RESOLVED)
    return {
        "handed_down": Count("pk"),
        "resolved": Count("pk", filter=resolved),
        # a lawfully terminated case ends the matter unless it was resolved first
        "terminated": Count(
            "pk", filter=~resolved & (Q(outcome=MatterOutcome.TERMINATED) | terminated)
        ),
        "in_hand": Count("pk", filter=Q(outcome=MatterOutcome.IN_HAND) & ~terminated),
        "stalled": Count("pk", filter=Q(outcome=MatterOutcome.STALLED) & ~terminated),
        "ceased": Count("pk", filter=ceased_q(campaign, now)),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, RATE_DIGITS) if whole else None


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["resolution_rate"] = _rate(row["resolved"], row["handed_down"])
    row["cessation_rate"] = _rate(row["ceased"], row["handed_down"])
    return row


GROUP_FIGURES = ("handed_down", "resolved", "in_hand", "stalled", "terminated", "ceased")


def _grouped(qs: QuerySet[Matter], aggregates: dict[str, Count], **keys: Any) -> list[dict]:
    rows = cast(Any, qs).values(**keys).annotate(**aggregates).order_by("group_name", "group_id")
    return [
        _with_rates(
            {
                "id": row["group_id"],
                "name": row["group_name"],
                **{k: row[k] for k in GROUP_FIGURES},
            }
        )
        for row in rows
    ]


def campaign_summary(
    campaign: Campaign, *, user: User | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The campaign's figures: how many matters were handed down, resolved (化解), in hand,
    stalled, ended by lawful termination, ceased (息诉罢访), the rates and the targets; the same
    figures by receiving center, department, responsible leader and week. With ``user``, only the
    matters that user may read count (a lower center sees its own figures).

    Set-based: five queries (the totals and one per breakdown) whatever the number of matters.
    ``by_week`` groups by the week (Monday, Beijing time) a matter was handed down, so a week's
    row reads "of what was handed down that week, so much is resolved by now".
    """
    now = now or timezone.now()
    matters = Matter.objects.filter(campaign=campaign)
    if user is not None:
        matters = matters_visible_to(user, campaign).select_related(None)
    aggregates = _figure_aggregates(campaign, now)
    totals = _with_rates(dict(matters.order_by().aggregate(**aggregates)))
    by_center = _grouped(
        matters.order_by(),
        aggregates,
        group_id=Coalesce("center_id", "department__center_id"),
        group_name=Coalesce("center__name", "department__center__name"),
    )
    # A matter handed down to a center is the department's of its 包案 leader (by default the
    # head of the case's lead department), so the department table counts every matter.
    by_department = _grouped(
        matters.filter(
            Q(department__isnull=False) | Q(leader__department__isnull=False)
        ).order_by(),
        aggregates,
        group_id=Coalesce("department_id", "leader__department_id"),
        group_name=Coalesce("department__name", "leader__department__name"),
    )
    by_leader = _grouped(
        matters.order_by(),
        aggregates,
        group_id=F("leader_id"),
        group_name=Coalesce(NullIf("leader__full_name", Value("")), "leader__username"),
    )
    by_week = _grouped(
        matters.order_by(),
        aggregates,
        group_id=TruncWeek("handed_down_at", tzinfo=CHINA_TZ),
        group_name=TruncWeek("handed_down_at", tzinfo=CHINA_TZ),
    )
    for row in by_week:
        week = row["id"].astimezone(CHINA_TZ).date() if row["id"] is not None else None
        row["id"] = row["name"] = week.isoformat() if week else None
    return {
        **totals,
        "targets": dict(campaign.targets or {}),
        "by_center": by_center,
        "by_department": by_department,
        "by_leader": by_leader,
        "by_week": by_week,
    }
