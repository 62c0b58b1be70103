"""Shared guards and notification helpers of the supervision overlays (role and center checks,
the case lock, outbox rows). Imported by every overlay module of this package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clocks.deadlines import (
    CHINA_TZ,
)
from clocks.models import (
    Notification,
)
from clocks.notify import kick_delivery
from core.errors import DomainError, PermissionDenied
from core.models import Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from core.selectors import visible_center_ids as cached_visible_center_ids
from petitions.models import Case
from petitions.states import CaseState
from routing.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRole,
)

MAX_EXTENSION_DAYS = 30  # Art 34: one extension of at most thirty days
REMINDER_REPEAT_WINDOW = timedelta(minutes=1)  # a double click within this is one reminder
SUPERVISING_ROLES = (Role.SUPERVISOR, Role.LEADER)
DEPARTMENT_ROLES = (Role.OFFICER, Role.HEAD)


# --- guards ---------------------------------------------------------------------------------------


def _require_roles(actor: User, roles: Iterable[str], what: str) -> None:
    if actor.is_superuser:
        return
    if not actor.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow you to %(what)s.") % {"what": what})


def visible_center_ids(actor: User) -> set[int]:
    return set(centers_visible_to(actor).values_list("pk", flat=True))


def can_supervise(actor: User, case: Case) -> bool:
    """A supervisor or leader of the case's center or of a center above it (read-only cases of
    subordinate centers may still be supervised from above)."""
    if actor.is_superuser:
        return True
    if not actor.has_role(*SUPERVISING_ROLES) or actor.center_id is None:
        return False
    return case.center_id in cached_visible_center_ids(actor)  # organisation cache, no query


def _require_supervisor(actor: User, case: Case, what: str, roles: Sequence[str] = ()) -> None:
    _require_roles(actor, roles or SUPERVISING_ROLES, what)
    if not can_supervise(actor, case):
        raise PermissionDenied(_("This case is outside the centers you supervise."))


def _require_open(case: Case) -> None:
    if case.state not in CaseState.open_states():
        raise DomainError(
            _("The case is “%(state)s”: it is no longer open.")
            % {"state": case.get_state_display()},
            code="case_not_open",
        )


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("center").get(pk=case.pk)


def lead_assignment(case: Case) -> Assignment | None:
    """The case's active lead assignment (one at most: assignment_one_active_lead)."""
    return (
        Assignment.objects.filter(
            case_id=case.pk, role=AssignmentRole.LEAD, state__in=ACTIVE_ASSIGNMENT_STATES
        )
        .select_related("department")
        .first()
    )


def _beijing_date(at: datetime) -> str:
    """A due date as staff read it in messages: the Beijing day (deadlines end at 23:59:59)."""
    return f"{at.astimezone(CHINA_TZ):%Y-%m-%d}"


# --- notifications --------------------------------------------------------------------------------


def _department_audience(case: Case, department: Department) -> list[dict[str, Any]]:
    return [
        {
            "audience_center_id": department.center_id,
            "audience_department_id": department.pk,
            "audience_role": role,
        }
        for role in DEPARTMENT_ROLES
    ]


def _handlers_audience(case: Case, department: Department | None) -> list[dict[str, Any]]:
    """Who must act on a case: the officers and head of ``department`` (else of the lead
    department), else triage at the case's center (an unassigned case)."""
    if department is None:
        lead = lead_assignment(case)
        department = lead.department if lead is not None else None
    if department is not None:
        return _department_audience(case, department)
    return [{"audience_center_id": case.center_id, "audience_role": Role.TRIAGE}]


def _notify(
    case: Case | None,
    kind: str,
    body: str,
    audience: Iterable[dict[str, Any]],
    *,
    at: datetime,
    title: str = "",
) -> int:
    """Write outbox rows in the caller's transaction; e-mail goes out after commit."""
    rows = [
        Notification(
            case=case,
            kind=kind,
            title=(title or (case.number if case is not None else ""))[:200],
            body=body,
            created_at=at,
            **row,
        )
        for row in audience
    ]
    Notification.objects.bulk_create(rows)
    if rows:
        kick_delivery()
    return len(rows)


def _to_user(user: User | None) -> list[dict[str, Any]]:
    return [{"recipient_id": user.pk}] if user is not None else []
