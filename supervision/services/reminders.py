"""Reminders (催办) to whoever holds a case."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import (
    NotificationKind,
)
from core.models import User
from petitions.models import Case, CaseEvent
from petitions.services import record_event

from .common import (
    REMINDER_REPEAT_WINDOW,
    _handlers_audience,
    _lock_case,
    _notify,
    _require_open,
    _require_supervisor,
    _required_text,
)

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
