"""The supervision overlays of DOMAIN.md §4 and the extension of §5: the write path for each.

Extension (Art 34), supervision order (督办单), reminder (催办), leader responsibility (包案),
key-case consultation (会诊), accountability finding (责任倒查) and bulletin (通报). Every function is
typed and keyword-only, takes the acting user, checks role, state and guards on locked rows, keeps
history (simple-history, ``_history_user``), writes a CaseEvent in the same transaction and leaves a
Notification row for whoever must act next (e-mailed after commit, supervision.notify).

Who may act:
- department officers and heads act for their own department (extensions, order responses);
- supervisors and leaders act on the cases of their center *and of the centers below it*: unlike
  the case decisions (petitions.selectors.can_act_on), supervising a subordinate center's case from
  above is the point of 督办, so the check is core.selectors.centers_visible_to.

The case row is locked first in every function (then the overlay row), one lock order for all, so
a double click or two supervisors at once are serialised rather than deadlocked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDenied
from core.models import Center, Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from petitions.models import Case, CaseEvent
from petitions.selectors import cases_visible_to
from petitions.services import record_event
from petitions.states import CaseState
from routing.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRole,
    AssignmentState,
    NoticeKind,
    WrittenNotice,
)
from routing.services import _issue_notice

from .deadlines import (
    CHINA_TZ,
    meet_deadline,
    open_deadline,
    refresh_case_next_due,
    rule_for,
    warning_level_for,
)
from .models import (
    AccountabilityFinding,
    Bulletin,
    Consultation,
    DayType,
    Deadline,
    DeadlineKind,
    ExtensionRequest,
    ExtensionState,
    Holiday,
    HolidayKind,
    LeaderResponsibility,
    Notification,
    NotificationKind,
    OrderState,
    SupervisionOrder,
    WarningLevel,
)
from .notify import kick_delivery

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
    return centers_visible_to(actor).filter(pk=case.center_id).exists()


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


# --- supervision orders (督办单) --------------------------------------------------------------------


def _department_of_case_center(case: Case, department: Department | None, field: str) -> None:
    if department is None:
        return
    if department.center_id != case.center_id or not department.is_active:
        raise ValidationError(
            {field: _("Choose an active department of %(center)s.") % {"center": case.center.name}}
        )


def _order_clock_key(case: Case, department: Department | None) -> int | None:
    """The assignment an order's clock hangs on: the addressed department's assignment on the
    case (the latest not returned or cancelled), so that the sweep's warnings reach that
    department's handler and its escalation that department's head. An order to no department
    is a case-level clock (NULL). One running order clock per key (deadline_one_open_per_key).

    Raises a field error for a department that has no part in the case: an order goes to an
    organ handling it."""
    if department is None:
        return None
    key = (
        Assignment.objects.filter(case_id=case.pk, department=department)
        .exclude(state__in=[AssignmentState.RETURNED, AssignmentState.CANCELLED])
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    if key is None:
        raise ValidationError(
            {
                "department": _("%(department)s has no part in this case.")
                % {"department": department.name}
            }
        )
    return key


def order_departments(case: Case) -> QuerySet[Department]:
    """The departments an order on ``case`` may be addressed to (see _order_clock_key)."""
    part = Assignment.objects.filter(case_id=case.pk, department_id=OuterRef("pk")).exclude(
        state__in=[AssignmentState.RETURNED, AssignmentState.CANCELLED]
    )
    return Department.objects.filter(Exists(part), is_active=True).order_by("id")


def _order_length(case: Case, start: datetime, due_at: datetime) -> int:
    """The supervisor's date as a length in the rule's own days, so the clock falls due on that
    date: calendar days, or (a province's working-day rule) the working days up to it."""
    first = start.astimezone(CHINA_TZ).date()
    last = due_at.astimezone(CHINA_TZ).date()
    if rule_for(DeadlineKind.SUPERVISION_ORDER, case.center).day_type != DayType.WORKING:
        return (last - first).days
    overrides = dict(
        Holiday.objects.filter(date__gt=first, date__lte=last).values_list("date", "kind")
    )
    days = (first + timedelta(days=n) for n in range(1, (last - first).days + 1))
    return sum(
        1
        for d in days
        if (overrides[d] == HolidayKind.WORKDAY if d in overrides else d.weekday() < 5)
    )


def order_deadline(order: SupervisionOrder) -> Deadline | None:
    """The order's response clock: opened at the moment the order was issued."""
    return (
        Deadline.objects.filter(
            case_id=order.case_id, kind=DeadlineKind.SUPERVISION_ORDER, starts_at=order.issued_at
        )
        .order_by("-id")
        .first()
    )


def issue_supervision_order(
    *,
    actor: User,
    case: Case,
    requirement: str,
    due_at: datetime,
    department: Department | None = None,
) -> SupervisionOrder:
    """督办单: a written order with its own response date, to a department of the case's center
    (or, without one, to whoever holds the case). Its clock runs in the deadline sweep, so an
    unanswered order warns, goes overdue and escalates like any statutory clock."""
    _require_supervisor(actor, case, _("issue supervision orders"))
    requirement = _required_text(requirement, "requirement", _("Write what the order requires."))
    now = timezone.now()
    if due_at <= now:
        raise ValidationError({"due_at": _("The response date must be in the future.")})
    _department_of_case_center(case, department, "department")
    with transaction.atomic():
        locked = _lock_case(case)
        _require_open(locked)
        key = _order_clock_key(locked, department)
        if Deadline.objects.filter(
            case_id=locked.pk,
            kind=DeadlineKind.SUPERVISION_ORDER,
            assignment_id=key,
            met_at__isnull=True,
        ).exists():
            raise DomainError(
                _(
                    "An order to the same addressee on this case still awaits its response; "
                    "close it before issuing another."
                ),
                code="order_open",
            )
        serial = SupervisionOrder.objects.filter(case=locked).count() + 1
        deadline = open_deadline(
            case=locked,
            kind=DeadlineKind.SUPERVISION_ORDER,
            start=now,
            assignment_id=key,
            length_override=_order_length(locked, now, due_at),
        )
        order = SupervisionOrder(
            case=locked,
            number=f"{locked.number}-D{serial:02d}",
            department=department,
            requirement=requirement,
            # Due at the end of its day in Beijing, as the clock is (supervision.deadlines).
            due_at=deadline.due_at,
            issued_by=actor,
            issued_at=now,
        )
        order._history_user = actor  # type: ignore[attr-defined]
        order.save()
        addressee = department.name if department is not None else locked.center.name
        record_event(
            case=locked,
            kind="supervision_order",
            actor=actor,
            at=now,
            message=_("Supervision order %(number)s to %(to)s, response due %(due)s: %(text)s")
            % {
                "number": order.number,
                "to": addressee,
                "due": _beijing_date(order.due_at),
                "text": requirement,
            },
            data={"order": order.pk, "department": department.pk if department else None},
        )
        _notify(
            locked,
            NotificationKind.SUPERVISION_ORDER,
            _("Supervision order %(number)s: respond in writing by %(due)s.")
            % {"number": order.number, "due": _beijing_date(order.due_at)},
            _handlers_audience(locked, department),
            at=now,
        )
    return order


def can_respond_to_order(
    actor: User, order: SupervisionOrder, lead_department_id: int | None
) -> bool:
    """Officers and heads of the addressed department or of the lead department (its id given,
    so that a page listing several orders looks the lead up once)."""
    if actor.is_superuser:
        return True
    if not actor.has_role(*DEPARTMENT_ROLES) or actor.department_id is None:
        return False
    return actor.department_id in {order.department_id, lead_department_id}


def respond_to_order(*, actor: User, order: SupervisionOrder, response: str) -> SupervisionOrder:
    """The addressed department (or the lead department) answers in writing; the order's clock is
    met at that moment (a late answer stays on record as late: met_at after due_at)."""
    _require_roles(actor, DEPARTMENT_ROLES, _("respond to supervision orders"))
    lead = lead_assignment(order.case)
    if not can_respond_to_order(actor, order, lead.department_id if lead else None):
        raise PermissionDenied(_("This supervision order is addressed to another department."))
    response = _required_text(response, "response", _("Write the response."))
    now = timezone.now()
    with transaction.atomic():
        locked_case = _lock_case(order.case)
        locked = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        if locked.state != OrderState.OPEN:
            raise DomainError(
                _("This supervision order has already been answered or closed."),
                code="order_not_open",
            )
        locked.response = response
        locked.responded_by = actor
        locked.responded_at = now
        locked.state = OrderState.RESPONDED
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["response", "responded_by", "responded_at", "state"])
        _meet_order_clock(locked, now)
        record_event(
            case=locked_case,
            kind="supervision_order_responded",
            actor=actor,
            at=now,
            message=_("Response to supervision order %(number)s: %(text)s")
            % {"number": locked.number, "text": response},
            data={"order": locked.pk, "late": now > locked.due_at},
        )
        _notify(
            locked_case,
            NotificationKind.SUPERVISION_ORDER,
            _("Supervision order %(number)s has been answered.") % {"number": locked.number},
            _to_user(locked.issued_by),
            at=now,
        )
    return locked


def _meet_order_clock(order: SupervisionOrder, at: datetime) -> None:
    deadline = order_deadline(order)
    if deadline is not None and deadline.met_at is None:
        meet_deadline(
            case=order.case,
            kind=DeadlineKind.SUPERVISION_ORDER,
            at=at,
            assignment_id=deadline.assignment_id,
        )


def close_order(*, actor: User, order: SupervisionOrder, note: str = "") -> SupervisionOrder:
    """A supervisor closes the order: normally once answered; closing an unanswered order
    withdraws it (its clock stops; the timeline says it was closed without a response)."""
    _require_supervisor(actor, order.case, _("close supervision orders"), roles=(Role.SUPERVISOR,))
    now = timezone.now()
    with transaction.atomic():
        locked_case = _lock_case(order.case)
        locked = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        if locked.state == OrderState.CLOSED:
            raise DomainError(_("This supervision order is already closed."), code="order_closed")
        unanswered = locked.state == OrderState.OPEN
        locked.state = OrderState.CLOSED
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state"])
        if unanswered:
            _meet_order_clock(locked, now)
        message = (
            _("Supervision order %(number)s closed without a response.")
            if unanswered
            else _("Supervision order %(number)s closed.")
        ) % {"number": locked.number}
        record_event(
            case=locked_case,
            kind="supervision_order_closed",
            actor=actor,
            at=now,
            message=f"{message} {note.strip()}".strip(),
            data={"order": locked.pk, "unanswered": unanswered},
        )
    return locked


# --- reminders (催办) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    event: CaseEvent
    sent: bool  # False: the same supervisor's reminder of a moment ago was returned instead


def send_reminder(*, actor: User, case: Case, message: str) -> Reminder:
    """催办: urge whoever holds the case (the lead department's officers and head, or triage when
    it is not assigned). A double click within a minute sends one reminder, not two."""
    _require_supervisor(actor, case, _("send reminders"))
    message = _required_text(message, "message", _("Write the reminder."))
    now = timezone.now()
    with transaction.atomic():
        # The case lock serialises a double click: the second request sees the first's event.
        locked = _lock_case(case)
        _require_open(locked)
        recent = (
            CaseEvent.objects.filter(
                case=locked, kind="reminder", actor=actor, at__gte=now - REMINDER_REPEAT_WINDOW
            )
            .order_by("-at")
            .first()
        )
        if recent is not None:
            return Reminder(event=recent, sent=False)
        audience = _handlers_audience(locked, None)
        event = record_event(
            case=locked,
            kind="reminder",
            actor=actor,
            at=now,
            message=message,
            data={"to": sorted({str(row["audience_role"]) for row in audience})},
        )
        _notify(locked, NotificationKind.REMINDER, message, audience, at=now)
    return Reminder(event=event, sent=True)


# --- leader responsibility (包案) -----------------------------------------------------------------


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
        or not leader.has_role(Role.LEADER)
        or leader.center_id not in visible
        # The leader must be able to open the case: the case's center or one above it.
        or not centers_visible_to(leader).filter(pk=case.center_id).exists()
    ):
        errors["leader"] = [
            _("Choose a leader of %(center)s or of a center above it.")
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


# --- key-case consultation (会诊) -------------------------------------------------------------------


def record_consultation(
    *,
    actor: User,
    case: Case,
    held_at: datetime,
    departments: Sequence[Department],
    participants: str,
    decisions: str,
) -> Consultation:
    """会诊: the organs of the case's center met on it; the decisions bind them, so each organ
    present is told."""
    _require_supervisor(actor, case, _("record consultations"))
    errors: dict[str, list[str]] = {}
    if not decisions.strip():
        errors["decisions"] = [_("Record the decisions taken.")]
    chosen = list(dict.fromkeys(departments))
    if not chosen:
        errors["departments"] = [_("Name the organs present.")]
    elif any(d.center_id != case.center_id for d in chosen):
        errors["departments"] = [
            _("Only departments of %(center)s take part.") % {"center": case.center.name}
        ]
    now = timezone.now()
    if held_at > now + timedelta(minutes=5):  # a few minutes of clock skew between machines
        errors["held_at"] = [_("Record a consultation once it has been held.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_case(case)
        _require_open(locked)
        consultation = Consultation(
            case=locked,
            held_at=held_at,
            participants=participants.strip(),
            decisions=decisions.strip(),
            recorded_by=actor,
        )
        consultation._history_user = actor  # type: ignore[attr-defined]
        consultation.save()
        consultation.departments.set(chosen)
        record_event(
            case=locked,
            kind="consultation",
            actor=actor,
            at=now,
            message=_("Consultation with %(organs)s: %(decisions)s")
            % {"organs": ", ".join(d.name for d in chosen), "decisions": consultation.decisions},
            data={"consultation": consultation.pk, "departments": [d.pk for d in chosen]},
        )
        _notify(
            locked,
            NotificationKind.EVENT,
            _("Decisions of the consultation on this case: %(decisions)s")
            % {"decisions": consultation.decisions},
            [
                {
                    "audience_center_id": d.center_id,
                    "audience_department_id": d.pk,
                    "audience_role": Role.HEAD,
                }
                for d in chosen
            ],
            at=now,
        )
    return consultation


# --- accountability (责任倒查) ----------------------------------------------------------------------


def record_accountability_finding(
    *,
    actor: User,
    case: Case,
    department: Department | None = None,
    officer: User | None = None,
    finding: str,
    measures: str = "",
) -> AccountabilityFinding:
    """责任倒查: a finding against the department or officer whose handling failed. Open or
    closed cases alike: responsibility is usually traced after the failure."""
    _require_supervisor(actor, case, _("record accountability findings"))
    if department is None and officer is None:
        raise ValidationError(_("Name the department or the officer found responsible."))
    errors: dict[str, list[str]] = {}
    if not finding.strip():
        errors["finding"] = [_("Write the finding.")]
    visible = visible_center_ids(actor)
    if department is not None and department.center_id not in visible:
        errors["department"] = [_("Choose a department of a center you supervise.")]
    if officer is not None and officer.center_id not in visible:
        errors["officer"] = [_("Choose a staff member of a center you supervise.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case)
        record = AccountabilityFinding(
            case=locked,
            department=department,
            officer=officer,
            finding=finding.strip(),
            measures=measures.strip(),
            recorded_by=actor,
            recorded_at=now,
        )
        record._history_user = actor  # type: ignore[attr-defined]
        record.save()
        named = ", ".join(
            [*([department.name] if department else []), *([str(officer)] if officer else [])]
        )
        record_event(
            case=locked,
            kind="accountability_finding",
            actor=actor,
            at=now,
            message=_("Accountability finding against %(named)s: %(finding)s")
            % {"named": named, "finding": record.finding},
            data={
                "finding": record.pk,
                "department": department.pk if department else None,
                "officer": officer.pk if officer else None,
            },
        )
        audience = _to_user(officer)
        if department is not None:
            audience.append(
                {
                    "audience_center_id": department.center_id,
                    "audience_department_id": department.pk,
                    "audience_role": Role.HEAD,
                }
            )
        _notify(
            locked,
            NotificationKind.EVENT,
            _("Accountability finding recorded: %(finding)s") % {"finding": record.finding},
            audience,
            at=now,
        )
    return record


# --- bulletins (通报) -------------------------------------------------------------------------------


def issue_bulletin(
    *,
    actor: User,
    title: str,
    body: str,
    departments: Sequence[Department],
    cases: Sequence[Case] = (),
) -> Bulletin:
    """通报 from the actor's center naming units that handled cases badly, and the cases. Units
    are departments of the centers the actor supervises; cases are cases the actor may see."""
    _require_roles(actor, SUPERVISING_ROLES, _("issue bulletins"))
    center: Center | None = actor.center
    if center is None:
        raise PermissionDenied(_("You are not attached to a center."))
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the bulletin a title.")]
    if not body.strip():
        errors["body"] = [_("Write the text of the bulletin.")]
    units = list(dict.fromkeys(departments))
    visible = visible_center_ids(actor)
    if not units:
        errors["departments"] = [_("Name at least one unit.")]
    elif any(d.center_id not in visible for d in units):
        errors["departments"] = [_("Name only departments of centers you supervise.")]
    named = list(dict.fromkeys(cases))
    if named:
        seen = set(
            cases_visible_to(actor)
            .filter(pk__in=[c.pk for c in named])
            .values_list("pk", flat=True)
        )
        if len(seen) != len(named):
            errors["cases"] = [_("Name only cases you can see.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        # Lock the cases named (in id order, the one lock order) so their timelines get the event
        # atomically with the bulletin.
        locked_cases = list(
            Case.objects.select_for_update().filter(pk__in=[c.pk for c in named]).order_by("pk")
        )
        bulletin = Bulletin.objects.create(
            center=center, title=title.strip(), body=body.strip(), issued_by=actor, issued_at=now
        )
        bulletin.departments.set(units)
        bulletin.cases.set(locked_cases)
        for case in locked_cases:
            record_event(
                case=case,
                kind="bulletin",
                actor=actor,
                at=now,
                message=_("Named in bulletin “%(title)s”") % {"title": bulletin.title},
                data={"bulletin": bulletin.pk},
            )
        _notify(
            None,
            NotificationKind.EVENT,
            bulletin.body,
            [
                {
                    "audience_center_id": d.center_id,
                    "audience_department_id": d.pk,
                    "audience_role": Role.HEAD,
                }
                for d in units
            ],
            at=now,
            title=bulletin.title,
        )
    return bulletin


# --- reads for the case page and the API ------------------------------------------------------------
# Kept beside the writes they show (this module's owner has no selectors module of its own); every
# read starts from a case the viewer was already allowed to see (petitions.selectors.get_case_for).


@dataclass
class CaseOverlays:
    deadlines: list[Deadline]
    extension_requests: list[ExtensionRequest]
    orders: list[SupervisionOrder]
    reminders: list[CaseEvent]
    responsibilities: list[LeaderResponsibility]
    consultations: list[Consultation]
    findings: list[AccountabilityFinding]
    bulletins: list[Bulletin]


def case_overlays(case: Case) -> CaseOverlays:
    """Everything supervision has on one case, in a fixed number of queries whatever the rows."""
    return CaseOverlays(
        deadlines=list(
            Deadline.objects.filter(case_id=case.pk, met_at__isnull=True).order_by("due_at")
        ),
        extension_requests=list(
            ExtensionRequest.objects.filter(case_id=case.pk)
            .select_related("requested_by", "decided_by", "deadline")
            .order_by("-requested_at", "-id")
        ),
        orders=list(
            SupervisionOrder.objects.filter(case_id=case.pk)
            .select_related("department", "issued_by", "responded_by")
            .order_by("-issued_at", "-id")
        ),
        reminders=list(
            CaseEvent.objects.filter(case_id=case.pk, kind="reminder")
            .select_related("actor")
            .order_by("-at", "-id")
        ),
        responsibilities=list(
            LeaderResponsibility.objects.filter(case_id=case.pk)
            .select_related("leader", "handler", "created_by")
            .order_by("-created_at", "-id")
        ),
        consultations=list(
            Consultation.objects.filter(case_id=case.pk)
            .select_related("recorded_by")
            .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("id")))
            .order_by("-held_at", "-id")
        ),
        findings=list(
            AccountabilityFinding.objects.filter(case_id=case.pk)
            .select_related("department", "officer", "recorded_by")
            .order_by("-recorded_at", "-id")
        ),
        bulletins=list(
            Bulletin.objects.filter(cases__id=case.pk)
            .select_related("center", "issued_by")
            .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("id")))
            .order_by("-issued_at", "-id")
        ),
    )


def extension_requests_visible_to(user: User) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(case__in=cases_visible_to(user))


def orders_visible_to(user: User) -> QuerySet[SupervisionOrder]:
    return SupervisionOrder.objects.filter(case__in=cases_visible_to(user))


def responsibilities_visible_to(user: User) -> QuerySet[LeaderResponsibility]:
    return LeaderResponsibility.objects.filter(case__in=cases_visible_to(user))
