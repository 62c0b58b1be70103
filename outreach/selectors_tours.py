"""Reads of 带案巡视 (tours carrying cases): who sees a tour, who runs it, its report and counts.

Who sees a tour (``tours_visible_to``):
- staff of the touring center and of the centers above it (read-only above: a center sees its
  own and its subordinates' work, core.selectors.visible_center_ids);
- the center visited, and the centers above it (the target is in their subtree);
- the tour's leader and members, wherever they sit.
Not-yours and not-found are the same 404 (``get_tour_for``).

Who acts (``can_manage_tour``): the supervisors and leaders of the touring center plan and
change the tour and file its report; the team (``is_on_team``: those, the tour's leader and its
members) records receptions, meetings and findings. Issuing an instruction as a 督办 and
recording a meeting go through supervision, which also requires the supervisor or leader role.

"Live": a tour stays live until it is reported and every instruction it left is met (the linked
supervision order responded to or closed) — ``is_live`` / ``live_q``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from clocks.deadlines import CHINA_TZ
from core.models import User
from core.roles import CENTER_ROLES, Role
from core.selectors import visible_center_ids
from petitions.models import Case
from supervision.models import OrderState

from .models import Tour, TourCase, TourReception, TourState

MANAGING_ROLES = (Role.SUPERVISOR, Role.LEADER)


def tours_visible_to(user: User) -> QuerySet[Tour]:
    qs = Tour.objects.all()
    if user.is_superuser:
        return qs
    if not user.is_authenticated:
        return qs.none()
    condition = Q(leader_id=user.pk) | Q(
        Exists(Tour.members.through.objects.filter(tour_id=OuterRef("pk"), user_id=user.pk))
    )
    if user.role_codes & CENTER_ROLES and user.center_id is not None:
        ids = visible_center_ids(user)
        condition |= Q(center_id__in=ids) | Q(target_center_id__in=ids)
    return qs.filter(condition)


def get_tour_for(user: User, pk: int | str) -> Tour:
    try:
        return tours_visible_to(user).select_related("center", "target_center", "leader").get(pk=pk)
    except (Tour.DoesNotExist, ValueError, TypeError):
        raise Http404("No such tour") from None


def may_plan_tours(user: User) -> bool:
    """A supervisor or leader of a center with centers below it (the page shows the plan link)."""
    if user.is_superuser:
        return True
    if not user.has_role(*MANAGING_ROLES) or user.center_id is None:
        return False
    return len(visible_center_ids(user)) > 1


def can_manage_tour(user: User, tour: Tour) -> bool:
    if user.is_superuser:
        return True
    return bool(user.has_role(*MANAGING_ROLES) and user.center_id == tour.center_id)


def is_on_team(user: User, tour: Tour) -> bool:
    if can_manage_tour(user, tour) or user.pk == tour.leader_id:
        return True
    return tour.members.filter(pk=user.pk).exists()


def live_q() -> Q:
    """Tours still live: not reported, or an instruction's order still awaits its response."""
    pending = TourCase.objects.filter(tour_id=OuterRef("pk"), order__state=OrderState.OPEN)
    return ~Q(state=TourState.REPORTED) | Q(Exists(pending))


def is_live(tour: Tour) -> bool:
    if tour.state != TourState.REPORTED:
        return True
    return TourCase.objects.filter(tour=tour, order__state=OrderState.OPEN).exists()


def with_figures(qs: QuerySet[Tour]) -> QuerySet[Tour]:
    """Annotate the list's figures: carried cases, receptions, instructions, instructions met,
    and whether the tour is live (constant number of queries for any number of rows)."""
    carried = TourCase.objects.filter(tour_id=OuterRef("pk"))
    return qs.annotate(
        n_cases=Count("carried", distinct=True),
        n_receptions=Count("receptions", distinct=True),
        n_instructions=Count("carried", filter=Q(carried__order__isnull=False), distinct=True),
        n_met=Count(
            "carried",
            filter=Q(carried__order__isnull=False) & ~Q(carried__order__state=OrderState.OPEN),
            distinct=True,
        ),
        has_open_order=Exists(carried.filter(order__state=OrderState.OPEN)),
    )


@dataclass(frozen=True)
class ReportRow:
    """One carried case in the tour's report."""

    carried: TourCase
    case: Case
    receptions: int
    meetings: int
    order_state: str  # "" (no instruction), or supervision.OrderState
    order_state_label: str
    met: bool


@dataclass(frozen=True)
class TourReport:
    tour: Tour
    rows: list[ReportRow]
    carried: int
    receptions: int
    meetings: int
    instructions: int
    instructions_met: int
    live: bool


def tour_report(tour: Tour) -> TourReport:
    """Per carried case: what was found, decided and instructed, the due date, the order's state
    and the case's state now; and the totals. Four queries whatever the number of cases."""
    carried = list(
        TourCase.objects.filter(tour=tour)
        .select_related("case", "case__center", "case__main_petitioner", "order", "matter")
        .order_by("pk")
    )
    receptions: dict[int, int] = dict(
        TourReception.objects.filter(tour=tour)
        .values_list("visit__case_id")
        .annotate(n=Count("pk"))
        .values_list("visit__case_id", "n")
    )
    meetings: dict[int, int] = dict(
        tour.meetings.values_list("consultation__case_id")
        .annotate(n=Count("pk"))
        .values_list("consultation__case_id", "n")
    )
    rows = []
    for tc in carried:
        order = tc.order
        state = order.state if order is not None else ""
        rows.append(
            ReportRow(
                carried=tc,
                case=tc.case,
                receptions=receptions.get(tc.case_id, 0),
                meetings=meetings.get(tc.case_id, 0),
                order_state=state,
                order_state_label=order.get_state_display() if order is not None else "",
                met=order is not None and state != OrderState.OPEN,
            )
        )
    instructions = sum(1 for r in rows if r.order_state)
    met = sum(1 for r in rows if r.met)
    return TourReport(
        tour=tour,
        rows=rows,
        carried=len(rows),
        receptions=sum(receptions.values()),
        meetings=sum(meetings.values()),
        instructions=instructions,
        instructions_met=met,
        live=tour.state != TourState.REPORTED or met < instructions,
    )


def tours_carrying(user: User, case: Case) -> list[Tour]:
    """The tours (visible to ``user``) carrying ``case``, newest first: the case page's panel."""
    return list(
        tours_visible_to(user)
        .filter(carried__case=case)
        .select_related("center", "target_center", "leader")
        .order_by("-starts_on", "-pk")
        .distinct()
    )


def _beijing_day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def counts(
    center_ids: Iterable[int], since: datetime, until: datetime, *, side: str = "visited"
) -> dict[str, int]:
    """带案巡视 figures for the reports, over [since, until) (aware datetimes):

    - ``tours``: tours starting in the period (``starts_on``, a Beijing date) whose center visited
      (``side="visited"``, the default: what a county's report shows) or touring center
      (``side="touring"``) is in ``center_ids``;
    - ``receptions``: receptions held on such tours (any tour of those centers) whose visit's
      time falls in the period;
    - ``instructions``: instructions issued as a 督办 in the period (the order's issue time) on
      such tours; ``instructions_met``: of those, the ones whose order was responded to or
      closed by now.
    Four small queries."""
    ids = list(center_ids)
    field = "target_center_id__in" if side == "visited" else "center_id__in"
    if side not in ("visited", "touring"):
        raise ValueError(side)
    tours = Tour.objects.filter(**{field: ids})
    first, last = _beijing_day(since), _beijing_day(until)
    n_tours = tours.filter(starts_on__gte=first, starts_on__lt=last).count()
    n_receptions = TourReception.objects.filter(
        tour__in=tours, visit__at__gte=since, visit__at__lt=until
    ).count()
    instructed = TourCase.objects.filter(
        tour__in=tours, order__isnull=False, order__issued_at__gte=since, order__issued_at__lt=until
    )
    row: dict[str, Any] = instructed.aggregate(
        n=Count("pk"), met=Count("pk", filter=~Q(order__state=OrderState.OPEN))
    )
    return {
        "tours": n_tours,
        "receptions": n_receptions,
        "instructions": int(row["n"] or 0),
        "instructions_met": int(row["met"] or 0),
    }


def case_panel_context(user: User, case: Case, page: Any) -> dict[str, Any]:
    """The case page's outreach card (outreach.case_panel): the tours carrying this case that the
    viewer may see. One query."""
    return {"tours": tours_carrying(user, case)}
