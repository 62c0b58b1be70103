"""Key-case consultations (会诊): a meeting of the organs, with its decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import (
    NotificationKind,
)
from core.models import Department, User
from core.roles import Role
from petitions.models import Case
from petitions.services import record_event
from supervision.models import (
    Consultation,
)

from .common import (
    _lock_case,
    _notify,
    _require_open,
    _require_supervisor,
)

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
