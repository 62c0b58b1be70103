"""Guards shared by every step of closure: roles, the locked case and its version.

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db.models import F
from django.utils.translation import gettext as _

from clocks.models import DeadlineKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import can_act_on
from petitions.services import (
    require_not_archived,
)
from routing.models import Assignment

from ..models import Reply, ReplyStatus
from ..selectors import (
    lead_assignment,
)

# The petitioner's 30-day window to ask for review (Art 35): a window (a right that lapses), not a
# duty; the sweep does not warn about it, and appeals closes it (review requested, or lapsed).
REVIEW_WINDOW_KIND: str = DeadlineKind.REVIEW_REQUEST_WINDOW
RETURN_VISIT_WORKING_DAYS = 5  # a dissatisfied verdict is followed up within a working week
RETURN_VISIT_HORIZON = timedelta(days=365)  # a return visit is scheduled at most a year ahead
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)  # the same visit recorded again within this is one
CENTER_EVALUATION_ROLES = (Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR)


# --- guards shared by every step --------------------------------------------------------------------


def _require_roles(actor: User, roles: Sequence[str], message: str) -> None:
    if actor.is_superuser or actor.has_role(*roles):
        return
    raise PermissionDenied(message)


def _lock_case(case: Case, expected_version: int | None) -> Case:
    """Lock the case row; refuse a stale form and an archived file."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleState(
            _("The case was changed by someone else in the meantime; reload it and try again.")
        )
    require_not_archived(locked)
    return locked


def _bump_version(case: Case) -> None:
    """A closure step that changes no case field still changes what the case page shows: the
    version moves on so a form rendered before it is refused (StaleState)."""
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    case.version += 1


def _sync(case: Case, locked: Case) -> None:
    case.__dict__.update(
        {f: getattr(locked, f) for f in ("state", "state_changed_at", "version", "closed_at")}
    )


def _require_lead_member(actor: User, case: Case) -> Assignment:
    """The actor is an officer or head of the case's lead department (superusers act for it)."""
    lead = lead_assignment(case)
    if lead is None:
        raise DomainError(_("The case has no lead department."), code="no_lead")
    if actor.is_superuser:
        return lead
    if not actor.has_role(Role.OFFICER, Role.HEAD) or actor.department_id != lead.department_id:
        raise PermissionDenied(_("Only the lead department writes and delivers the reply."))
    return lead


def _require_center(actor: User, case: Case) -> None:
    if not can_act_on(actor, case):
        raise PermissionDenied(_("This case belongs to another center; you can only read it."))


def _text(value: str) -> str:
    return (value or "").strip()


def _current_reply_locked(case: Case) -> Reply:
    reply = (
        Reply.objects.select_for_update()
        .filter(case=case, superseded_at__isnull=True)
        .select_related("department")
        .first()
    )
    if reply is None:
        raise DomainError(_("No written reply has been drafted yet."), code="no_reply")
    return reply


def _delivered_reply_locked(case: Case) -> Reply:
    reply = _current_reply_locked(case)
    if reply.status != ReplyStatus.DELIVERED:
        raise DomainError(
            _("The written reply has not been delivered yet."), code="reply_not_delivered"
        )
    return reply
