"""Supervision orders (督办单): issue, respond, close; each runs on a clocks.Deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import (
    CHINA_TZ,
    meet_deadline,
    open_deadline,
    rule_for,
)
from clocks.models import (
    DayType,
    Deadline,
    DeadlineKind,
    Holiday,
    HolidayKind,
    NotificationKind,
)
from core.errors import DomainError, PermissionDenied
from core.models import Department, User
from core.roles import Role
from petitions.models import Case
from petitions.services import record_event
from routing.models import (
    Assignment,
    AssignmentState,
)
from supervision.models import (
    OrderState,
    SupervisionOrder,
)

from .common import (
    DEPARTMENT_ROLES,
    _beijing_date,
    _handlers_audience,
    _lock_case,
    _notify,
    _require_open,
    _require_roles,
    _require_supervisor,
    _required_text,
    _to_user,
    lead_assignment,
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
    """督办单: a written order with its own response date, to a department of the case's center.
    Without one chosen it goes to the lead department holding the case at issue time, which is
    stored: the order names its addressee (致 公安局), as the paper form does, and keeps naming it
    if the case later moves. Only an unassigned case's order has no department (it goes to the
    center's screening). Its clock runs in the deadline sweep, so an unanswered order warns,
    goes overdue and escalates like any statutory clock."""
    _require_supervisor(actor, case, _("issue supervision orders"))
    requirement = _required_text(requirement, "requirement", _("Write what the order requires."))
    now = timezone.now()
    if due_at <= now:
        raise ValidationError({"due_at": _("The response date must be in the future.")})
    _department_of_case_center(case, department, "department")
    with transaction.atomic():
        locked = _lock_case(case)
        _require_open(locked)
        if department is None:
            lead = lead_assignment(locked)  # read under the case lock: no reassignment races it
            department = lead.department if lead is not None else None
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
            # Due at the end of its day in Beijing, as the clock is (clocks.deadlines).
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
