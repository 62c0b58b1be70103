"""Accountability findings (责任倒查) against the officer or department that failed.

Only those who had a part in the case may be named (issue 13 #4): a department that held an
assignment on it (lead or assisting, in any center of its transfer chain: a transfer moves the
same case, so its assignments stay on it), and a person who held one of those assignments (signed
for it or handled it) or heads a department that did. A cancelled assignment was never held.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import (
    NotificationKind,
)
from core.models import Department, User
from core.roles import Role
from petitions.models import Case
from petitions.services import record_event
from routing.models import Assignment, AssignmentState
from supervision.models import (
    AccountabilityFinding,
)

from .common import (
    _lock_case,
    _notify,
    _require_supervisor,
    _to_user,
    visible_center_ids,
)

# --- accountability (责任倒查) ----------------------------------------------------------------------


def _held_assignments(case: Case) -> QuerySet[Assignment]:
    return Assignment.objects.filter(case_id=case.pk).exclude(state=AssignmentState.CANCELLED)


def finding_departments(case: Case) -> QuerySet[Department]:
    """The departments a finding on ``case`` may name: those that held an assignment on it."""
    return Department.objects.filter(
        pk__in=_held_assignments(case).values("department_id")
    ).order_by("center__path", "id")


def finding_officers(case: Case) -> QuerySet[User]:
    """The people a finding on ``case`` may name: who signed for or handled an assignment on it,
    and the heads of the departments that held one."""
    held = _held_assignments(case)
    return (
        User.objects.filter(
            Q(pk__in=held.exclude(handler=None).values("handler_id"))
            | Q(pk__in=held.exclude(signed_by=None).values("signed_by_id"))
            | Q(department_id__in=held.values("department_id"), roles__role=Role.HEAD)
        )
        .distinct()
        .order_by("username")
    )


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
    elif department is not None and not finding_departments(case).filter(pk=department.pk).exists():
        errors["department"] = [
            _("%(department)s held no assignment on this case; name only those who had a part.")
            % {"department": department.name}
        ]
    if officer is not None and officer.center_id not in visible:
        errors["officer"] = [_("Choose a staff member of a center you supervise.")]
    elif officer is not None and not finding_officers(case).filter(pk=officer.pk).exists():
        errors["officer"] = [
            _("%(officer)s had no part in this case; name only those who had a part.")
            % {"officer": officer}
        ]
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
