"""Supervision's actions on the case page (petitions.actions). Each is a link to the matching
section of the case supervision page (supervision.case_views), where its form is; the conditions
mirror the ones that page uses to offer the form."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clocks.models import Deadline
from core.models import User
from core.roles import Role
from petitions.actions import Action, CasePage
from petitions.models import Case
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, AssignmentRole

from .models import (
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
    SupervisionOrder,
)
from .services import can_respond_to_order, can_supervise


def _overlays(case: Case, ctx: CasePage) -> tuple[list[SupervisionOrder], list[int]]:
    """The case's open and answered supervision orders (id, department, state) and the leaders
    of its unresolved leader responsibilities, in one query per page (a UNION ALL of both)."""

    def load() -> tuple[list[SupervisionOrder], list[int]]:
        orders = SupervisionOrder.objects.filter(
            case_id=case.pk, state__in=[OrderState.OPEN, OrderState.RESPONDED]
        ).values_list(Value("order"), "id", "department_id", "state")
        responsibilities = LeaderResponsibility.objects.filter(
            case_id=case.pk, is_resolved=False
        ).values_list(Value("responsibility"), "id", "leader_id", Value(""))
        found: list[SupervisionOrder] = []
        leaders: list[int] = []
        for what, pk, other_id, state in orders.union(responsibilities, all=True):
            if what == "order":
                found.append(
                    SupervisionOrder(id=pk, case_id=case.pk, department_id=other_id, state=state)
                )
            else:
                leaders.append(other_id)
        return found, leaders

    return ctx.memo("supervision.overlays", load)


def _department(user: User, case: Case, url: str, ctx: CasePage) -> Iterator[Action]:
    if not (user.is_superuser or (user.department_id and user.has_role(Role.OFFICER, Role.HEAD))):
        return
    # The active lead assignment (one at most) and the open handling clock, from the page.
    lead = next(
        (
            a
            for a in ctx.assignments
            if a.role == AssignmentRole.LEAD and a.state in ACTIVE_ASSIGNMENT_STATES
        ),
        None,
    )
    lead_id = lead.department_id if lead is not None else None
    in_lead = user.is_superuser or (lead_id is not None and user.department_id == lead_id)
    if in_lead:
        # The open handling clock (the latest) and whether it has an extension request that was
        # not rejected / one pending, in one query.
        requests = ExtensionRequest.objects.filter(deadline_id=OuterRef("pk"))
        handling = (
            Deadline.objects.filter(
                case_id=case.pk, kind="handling", assignment_id__isnull=True, met_at__isnull=True
            )
            .annotate(
                live_request=Exists(requests.exclude(state=ExtensionState.REJECTED)),
                pending_request=Exists(requests.filter(state=ExtensionState.PENDING)),
            )
            .only("id", "extended_days", "due_at")
            .order_by("-id")
            .first()
        )
        if (
            case.state == CaseState.HANDLING
            and handling is not None
            and not handling.extended_days
            and timezone.now() <= handling.due_at
            and not handling.live_request
        ):
            yield Action(
                _("Request an extension"), f"{url}#extensions", name="supervision.extension"
            )
        if (
            (user.is_superuser or user.has_role(Role.HEAD))
            and handling is not None
            and handling.pending_request
        ):
            yield Action(
                _("Decide the extension request"),
                f"{url}#extensions",
                style="primary",
                name="supervision.decide_extension",
            )
    open_orders = [o for o in _overlays(case, ctx)[0] if o.state == OrderState.OPEN]
    if any(can_respond_to_order(user, order, lead_id) for order in open_orders):
        yield Action(
            _("Respond to the supervision order"),
            f"{url}#orders",
            style="primary",
            name="supervision.respond_order",
        )


def case_actions(user: User, case: Case, ctx: CasePage) -> Iterator[Action]:
    if case.state == CaseState.ARCHIVED:
        return  # an archived file is read-only: every overlay write is refused (record_event)
    url = reverse("supervision_case:detail", args=[case.pk])
    yield from _department(user, case, url, ctx)
    supervise = can_supervise(user, case)
    orders, unresolved = _overlays(case, ctx)  # unresolved: the leaders named
    if not supervise:
        if user.pk in unresolved:
            yield Action(
                _("Record the result of the leader responsibility"),
                f"{url}#responsibility",
                name="supervision.resolve_responsibility",
            )
        return
    if case.state in CaseState.open_states():
        yield Action(_("Issue a supervision order"), f"{url}#orders", name="supervision.order")
        yield Action(_("Send a reminder"), f"{url}#reminders", name="supervision.reminder")
        if not unresolved:
            yield Action(
                _("Assign leader responsibility"),
                f"{url}#responsibility",
                name="supervision.responsibility",
            )
        yield Action(
            _("Record a consultation"), f"{url}#consultations", name="supervision.consultation"
        )
    if unresolved:
        yield Action(
            _("Record the result of the leader responsibility"),
            f"{url}#responsibility",
            name="supervision.resolve_responsibility",
        )
    if (user.is_superuser or user.has_role(Role.SUPERVISOR)) and any(
        o.state == OrderState.RESPONDED for o in orders
    ):
        yield Action(
            _("Close the answered supervision order"),
            f"{url}#orders",
            name="supervision.close_order",
        )
    yield Action(
        _("Record an accountability finding"), f"{url}#findings", name="supervision.finding"
    )
    yield Action(_("Issue a bulletin"), f"{url}#bulletins", name="supervision.bulletin")
