"""Extension of the handling period (Art 34): request, decision, the petitioner's notice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import (
    CHINA_TZ,
    refresh_case_next_due,
    warning_level_for,
)
from clocks.models import (
    Deadline,
    DeadlineKind,
    NotificationKind,
    WarningLevel,
)
from core.errors import DomainError, PermissionDenied
from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.services import record_event
from petitions.states import CaseState
from routing.models import (
    NoticeKind,
    WrittenNotice,
)
from routing.services import _issue_notice
from supervision.models import (
    ExtensionRequest,
    ExtensionState,
)

from .common import (
    DEPARTMENT_ROLES,
    MAX_EXTENSION_DAYS,
    _beijing_date,
    _lock_case,
    _notify,
    _require_roles,
    _to_user,
    lead_assignment,
)

# --- extensions (Art 34) --------------------------------------------------------------------------


def open_handling_deadline(case: Case) -> Deadline | None:
    """The running 60-day handling clock of the case (case-level, one at most)."""
    return (
        Deadline.objects.filter(
            case_id=case.pk, kind=DeadlineKind.HANDLING, assignment_id=None, met_at__isnull=True
        )
        .select_related("rule")
        .first()
    )


def _max_extension_days(deadline: Deadline) -> int:
    """The rule's maximum (provinces may set less), never beyond Art 34's thirty days."""
    limit = deadline.rule.max_extension_days if deadline.rule is not None else MAX_EXTENSION_DAYS
    return min(limit, MAX_EXTENSION_DAYS)


def _require_lead_department(actor: User, case: Case, roles: Sequence[str], what: str) -> None:
    _require_roles(actor, roles, what)
    if actor.is_superuser:
        return
    lead = lead_assignment(case)
    if lead is None or actor.department_id != lead.department_id:
        raise PermissionDenied(_("Only the lead department handling the case may do this."))


def request_extension(*, actor: User, case: Case, days: int, reason: str) -> ExtensionRequest:
    """The lead department asks to extend the handling period once, by at most 30 days, with a
    reason the petitioner will be told (Art 34); the department head decides."""
    _require_lead_department(actor, case, DEPARTMENT_ROLES, _("request extensions"))
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the extension; the petitioner is told it.")]
    if days < 1 or days > MAX_EXTENSION_DAYS:
        errors["days"] = [
            _("An extension is between 1 and %(max)d days (Art 34).") % {"max": MAX_EXTENSION_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case)
        if locked.state != CaseState.HANDLING:
            raise DomainError(
                _("An extension can only be requested while the case is being handled."),
                code="illegal_transition",
            )
        found = open_handling_deadline(locked)
        if found is None:
            raise DomainError(_("The case has no running handling period."), code="no_deadline")
        deadline = (
            Deadline.objects.select_for_update(of=("self",)).select_related("rule").get(pk=found.pk)
        )
        limit = _max_extension_days(deadline)
        if days > limit:
            raise ValidationError(
                {
                    "days": _("The rule for this center allows at most %(max)d days.")
                    % {"max": limit}
                }
            )
        # Once per clock: the DB constraint extension_once_per_deadline is the backstop; this
        # check gives the reason in words. The case row lock serialises two requests at once.
        if deadline.extended_days or (
            ExtensionRequest.objects.filter(deadline=deadline)
            .exclude(state=ExtensionState.REJECTED)
            .exists()
        ):
            raise DomainError(
                _("The handling period may be extended only once (Art 34)."),
                code="extension_exists",
            )
        if now > deadline.due_at:
            raise DomainError(
                _("The handling period ended on %(due)s; an extension must be asked for in time.")
                % {"due": _beijing_date(deadline.due_at)},
                code="deadline_passed",
            )
        request = ExtensionRequest(
            case=locked,
            deadline=deadline,
            days=days,
            reason=reason.strip(),
            requested_by=actor,
            requested_at=now,
        )
        request._history_user = actor  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError as exc:  # pragma: no cover - the checks above run under the lock
            raise DomainError(
                _("The handling period may be extended only once (Art 34)."),
                code="extension_exists",
            ) from exc
        record_event(
            case=locked,
            kind="extension_requested",
            actor=actor,
            at=now,
            message=_("Extension of %(days)d days requested: %(reason)s")
            % {"days": days, "reason": request.reason},
            data={"extension": request.pk, "days": days},
        )
        lead = lead_assignment(locked)
        if lead is not None:
            _notify(
                locked,
                NotificationKind.EVENT,
                _("Extension of %(days)d days awaits your approval.") % {"days": days},
                [
                    {
                        "audience_center_id": lead.department.center_id,
                        "audience_department_id": lead.department_id,
                        "audience_role": Role.HEAD,
                    }
                ],
                at=now,
            )
    return request


@dataclass(frozen=True)
class ExtensionDecision:
    request: ExtensionRequest
    deadline: Deadline
    notice: WrittenNotice | None  # the petitioner's notice, when approved


def decide_extension(
    *, actor: User, request: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionDecision:
    """The head of the lead department approves or rejects. Approval moves the handling clock,
    resets its warnings when the new date is clear of the warning window, and issues the written
    notice telling the petitioner the reason and the new date (Art 34)."""
    case = request.case
    _require_lead_department(actor, case, (Role.HEAD,), _("decide extensions"))
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": _("Give the reason for rejecting the extension.")})
    now = timezone.now()
    with transaction.atomic():
        locked_case = _lock_case(case)
        locked = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != ExtensionState.PENDING:
            raise DomainError(
                _("This extension request has already been decided."), code="already_decided"
            )
        deadline = Deadline.objects.select_for_update().get(pk=locked.deadline_id)
        if deadline.met_at is not None:
            raise DomainError(
                _("The handling period has ended (the case moved on); nothing to extend."),
                code="deadline_closed",
            )
        locked.state = ExtensionState.APPROVED if approve else ExtensionState.REJECTED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_note = note
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        notice: WrittenNotice | None = None
        if approve:
            _extend_deadline(deadline, days=locked.days, reason=locked.reason, now=now, actor=actor)
            refresh_case_next_due(locked_case.pk)
            # The lead assignment's due date follows, so the department inbox agrees with the clock.
            lead = lead_assignment(locked_case)
            if lead is not None:
                lead.due_at = lead.due_at + timedelta(days=locked.days)
                lead._history_user = actor  # type: ignore[attr-defined]
                lead.save(update_fields=["due_at"])
            notice = issue_extension_notice(
                case=locked_case,
                actor=actor,
                reason=locked.reason,
                days=locked.days,
                due=deadline.due_at,
                at=now,
            )
            message = _("Extension of %(days)d days approved; handling now due %(due)s.") % {
                "days": locked.days,
                "due": _beijing_date(deadline.due_at),
            }
        else:
            message = _("Extension rejected: %(note)s") % {"note": note}
        record_event(
            case=locked_case,
            kind="extension_approved" if approve else "extension_rejected",
            actor=actor,
            at=now,
            message=message,
            data={
                "extension": locked.pk,
                "days": locked.days,
                "due_at": deadline.due_at.isoformat(),
                "notice": notice.pk if notice is not None else None,
            },
        )
        _notify(
            locked_case,
            NotificationKind.EVENT,
            message,
            _to_user(locked.requested_by),
            at=now,
        )
    request.__dict__.update(
        {f: getattr(locked, f) for f in ("state", "decided_by_id", "decided_at", "decision_note")}
    )
    return ExtensionDecision(request=locked, deadline=deadline, notice=notice)


def _extend_deadline(
    deadline: Deadline, *, days: int, reason: str, now: datetime, actor: User
) -> None:
    """Move a locked clock by ``days``. If the new date is clear of the warning window the clock
    is on time again; if it is no longer overdue its overdue record and escalation start over (a
    later overdue counts from the new date). A clock still inside the window keeps its level,
    and the sweep moves it on from there."""
    deadline.due_at = deadline.due_at + timedelta(days=days)
    deadline.extended_days += days
    deadline.extension_reason = reason
    level = warning_level_for(deadline.due_at, now)
    fields = ["due_at", "extended_days", "extension_reason"]
    if level != WarningLevel.OVERDUE:
        if deadline.warning_level == WarningLevel.OVERDUE or level == WarningLevel.ON_TIME:
            deadline.warning_level = level
        deadline.overdue_since = None
        deadline.escalation_step = 0
        fields += ["warning_level", "overdue_since", "escalation_step"]
    deadline._history_user = actor  # type: ignore[attr-defined]
    deadline._change_reason = "extension"  # type: ignore[attr-defined]
    deadline.save(update_fields=fields)


def issue_extension_notice(
    *, case: Case, actor: User, reason: str, days: int, due: datetime, at: datetime
) -> WrittenNotice:
    """The petitioner's written notice of the extension (信访事项延期办理告知书), frozen as issued.
    Numbered like every other notice of the case (routing.services)."""
    return _issue_notice(
        case=case,
        kind=NoticeKind.EXTENSION,
        actor=actor,
        # The notice is the regulation's Chinese form: its date is written the Chinese way.
        context={
            "reason": reason,
            "days": str(days),
            "due": f"{due.astimezone(CHINA_TZ):%Y年%m月%d日}",
        },
        at=at,
    )
