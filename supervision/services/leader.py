"""Leader responsibility (包案): a named leader answers for a key case."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import (
    NotificationKind,
)
from core.errors import DomainError
from core.models import User
from core.roles import Role
from core.selectors import centers_visible_to
from petitions.models import Case
from petitions.services import record_event
from routing.models import Assignment
from supervision.models import (
    LeaderResponsibility,
)

from .common import (
    _beijing_date,
    _lock_case,
    _notify,
    _require_open,
    _require_supervisor,
    _required_text,
    _to_user,
    visible_center_ids,
)

# --- leader responsibility (包案) -----------------------------------------------------------------


def may_hold_responsibility(leader: User, case: Case) -> bool:
    """Who may answer for a case (包案): a leader, or the head of a department the case was
    assigned to (the organ's head, who usually holds a backlog matter handed down by a campaign:
    DOMAIN.md §8). Where the leader sits is checked by the caller."""
    if leader.has_role(Role.LEADER):
        return True
    return (
        leader.has_role(Role.HEAD)
        and leader.department_id is not None
        and Assignment.objects.filter(case_id=case.pk, department_id=leader.department_id).exists()
    )


def assign_leader_responsibility(
    *,
    actor: User,
    case: Case,
    leader: User,
    handler: User | None,
    due_at: datetime,
    target_result: str,
) -> LeaderResponsibility:
    """包案: a named leader answers for a key case until the target result, with a handler and
    a due date. One unresolved responsibility per case at a time."""
    _require_supervisor(actor, case, _("assign leader responsibility"))
    errors: dict[str, list[str]] = {}
    if not target_result.strip():
        errors["target_result"] = [_("State the result to be reached.")]
    visible = visible_center_ids(actor)
    if (
        not leader.is_active
        or not may_hold_responsibility(leader, case)
        or leader.center_id not in visible
        # The leader must be able to open the case: the case's center or one above it.
        or not centers_visible_to(leader).filter(pk=case.center_id).exists()
    ):
        errors["leader"] = [
            _(
                "Choose a leader of %(center)s or of a center above it, or the head of a "
                "department handling the case."
            )
            % {"center": case.center.name}
        ]
    if handler is not None and (not handler.is_active or handler.center_id not in visible):
        errors["handler"] = [_("Choose a staff member of a center you supervise.")]
    now = timezone.now()
    if due_at <= now:
        errors["due_at"] = [_("The due date must be in the future.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_case(case)
        _require_open(locked)
        if LeaderResponsibility.objects.filter(case=locked, is_resolved=False).exists():
            raise DomainError(
                _("A leader already answers for this case; resolve that responsibility first."),
                code="responsibility_exists",
            )
        responsibility = LeaderResponsibility(
            case=locked,
            leader=leader,
            handler=handler,
            due_at=due_at,
            target_result=target_result.strip(),
            created_by=actor,
            created_at=now,
        )
        responsibility._history_user = actor  # type: ignore[attr-defined]
        responsibility.save()
        record_event(
            case=locked,
            kind="leader_responsibility",
            actor=actor,
            at=now,
            message=_("Leader responsibility: %(leader)s, due %(due)s. Target: %(target)s")
            % {
                "leader": leader,
                "due": _beijing_date(due_at),
                "target": responsibility.target_result,
            },
            data={
                "responsibility": responsibility.pk,
                "leader": leader.pk,
                "handler": handler.pk if handler else None,
            },
        )
        people = [leader, *([handler] if handler is not None and handler != leader else [])]
        _notify(
            locked,
            NotificationKind.EVENT,
            _("You are named on the leader responsibility for this case (due %(due)s).")
            % {"due": _beijing_date(due_at)},
            [row for person in people for row in _to_user(person)],
            at=now,
        )
    return responsibility


def resolve_leader_responsibility(
    *, actor: User, responsibility: LeaderResponsibility, result: str
) -> LeaderResponsibility:
    """The leader (or a supervisor of the case) records the result reached (包案化解)."""
    case = responsibility.case
    if not (actor.is_superuser or actor.pk == responsibility.leader_id):
        _require_supervisor(actor, case, _("resolve leader responsibility"))
    result = _required_text(result, "result", _("Record the result reached."))
    now = timezone.now()
    with transaction.atomic():
        locked_case = _lock_case(case)
        locked = LeaderResponsibility.objects.select_for_update().get(pk=responsibility.pk)
        if locked.is_resolved:
            raise DomainError(
                _("This leader responsibility is already resolved."), code="already_resolved"
            )
        locked.is_resolved = True
        locked.result = result
        locked.resolved_at = now
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["is_resolved", "result", "resolved_at"])
        record_event(
            case=locked_case,
            kind="leader_responsibility_resolved",
            actor=actor,
            at=now,
            message=result,
            data={"responsibility": locked.pk, "on_time": now <= locked.due_at},
        )
    return locked
