"""Supervision's actions on the case page (petitions.actions). Each is a link to the matching
section of the case supervision page (supervision.case_views), where its form is; the conditions
mirror the ones that page uses to offer the form."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clocks.models import Deadline
from core.models import User
from core.roles import Role
from petitions.actions import Action
from petitions.models import Case
from petitions.states import CaseState

from .models import (
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
    SupervisionOrder,
)
from .services import can_respond_to_order, can_supervise, lead_assignment


def _department(user: User, case: Case, page: str) -> Iterator[Action]:
    if not (user.is_superuser or (user.department_id and user.has_role(Role.OFFICER, Role.HEAD))):
        return
    lead = lead_assignment(case)
    lead_id = lead.department_id if lead is not None else None
    in_lead = user.is_superuser or (lead_id is not None and user.department_id == lead_id)
    if in_lead:
        handling = (
            Deadline.objects.filter(
                case_id=case.pk, kind="handling", assignment_id__isnull=True, met_at__isnull=True
            )
            .order_by("-id")
            .first()
        )
        requests = list(ExtensionRequest.objects.filter(deadline=handling)) if handling else []
        if (
            case.state == CaseState.HANDLING
            and handling is not None
            and not handling.extended_days
            and timezone.now() <= handling.due_at
            and all(r.state == ExtensionState.REJECTED for r in requests)
        ):
            yield Action(
                _("Request an extension"), f"{page}#extensions", name="supervision.extension"
            )
        if (user.is_superuser or user.has_role(Role.HEAD)) and any(
            r.state == ExtensionState.PENDING for r in requests
        ):
            yield Action(
                _("Decide the extension request"),
                f"{page}#extensions",
                style="primary",
                name="supervision.decide_extension",
            )
    open_orders = SupervisionOrder.objects.filter(case_id=case.pk, state=OrderState.OPEN)
    if any(can_respond_to_order(user, order, lead_id) for order in open_orders):
        yield Action(
            _("Respond to the supervision order"),
            f"{page}#orders",
            style="primary",
            name="supervision.respond_order",
        )


def case_actions(user: User, case: Case) -> Iterator[Action]:
    if case.state == CaseState.ARCHIVED:
        return  # an archived file is read-only: every overlay write is refused (record_event)
    page = reverse("supervision_case:detail", args=[case.pk])
    yield from _department(user, case, page)
    unresolved = list(LeaderResponsibility.objects.filter(case_id=case.pk, is_resolved=False))
    supervise = can_supervise(user, case)
    if not supervise:
        if any(r.leader_id == user.pk for r in unresolved):
            yield Action(
                _("Record the result of the leader responsibility"),
                f"{page}#responsibility",
                name="supervision.resolve_responsibility",
            )
        return
    if case.state in CaseState.open_states():
        yield Action(_("Issue a supervision order"), f"{page}#orders", name="supervision.order")
        yield Action(_("Send a reminder"), f"{page}#reminders", name="supervision.reminder")
        if not unresolved:
            yield Action(
                _("Assign leader responsibility"),
                f"{page}#responsibility",
                name="supervision.responsibility",
            )
        yield Action(
            _("Record a consultation"), f"{page}#consultations", name="supervision.consultation"
        )
    if unresolved:
        yield Action(
            _("Record the result of the leader responsibility"),
            f"{page}#responsibility",
            name="supervision.resolve_responsibility",
        )
    if (user.is_superuser or user.has_role(Role.SUPERVISOR)) and SupervisionOrder.objects.filter(
        case_id=case.pk, state=OrderState.RESPONDED
    ).exists():
        yield Action(
            _("Close the answered supervision order"),
            f"{page}#orders",
            name="supervision.close_order",
        )
    yield Action(
        _("Record an accountability finding"), f"{page}#findings", name="supervision.finding"
    )
    yield Action(_("Issue a bulletin"), f"{page}#bulletins", name="supervision.bulletin")
