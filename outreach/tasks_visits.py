"""The 约访 reminder (beat, every 15 minutes): appointments due within the next day and not yet
reminded get one notification to the case's lead department (its officers and head; the one who
set the appointment when no department is assigned) and ``reminded_at`` set.

Set-based, a fixed number of queries per run whatever the number of appointments: one locking
select of the appointments to remind (``FOR UPDATE SKIP LOCKED``: rows another run holds are that
run's), one read of their cases' lead departments, one bulk update with its history rows
(simple-history's bulk helper, as ``QuerySet.update`` writes none), one insert of the case events
and one of the outbox rows. Safe to run twice, or twice at once: a row is picked only while
``reminded_at`` is null, a concurrent run skips the rows this one holds, and every outbox row
carries a ``dedupe_key`` (INSERT ... ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from clocks.deadlines import CHINA_TZ
from clocks.models import Notification, NotificationKind
from clocks.notify import kick_delivery
from core.roles import Role
from petitions.models import CaseEvent
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole

from .models import Outreach, OutreachKind, OutreachState

logger = logging.getLogger(__name__)

REMIND_AHEAD = timedelta(days=1)
BATCH = 500


def remind_due_appointments(now: datetime | None = None) -> int:
    """Remind the officers of the appointments due within REMIND_AHEAD; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Outreach.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                kind=OutreachKind.APPOINTMENT,
                state=OutreachState.SCHEDULED,
                reminded_at__isnull=True,
                at__gt=now,
                at__lte=now + REMIND_AHEAD,
            )
            # open cases only: an archived file takes no event (and a closed case's
            # appointment is for the officer to cancel, not to be reminded of)
            .filter(case__state__in=CaseState.open_states())
            .select_related("case", "leader")
            .order_by("at", "pk")[:BATCH]
        )
        if not rows:
            return 0
        lead: dict[int, tuple[int, int]] = {
            case_id: (department_id, center_id)
            for case_id, department_id, center_id in Assignment.objects.filter(
                case_id__in={r.case_id for r in rows},
                role=AssignmentRole.LEAD,
                state__in=ACTIVE_ASSIGNMENT_STATES,
            ).values_list("case_id", "department_id", "department__center_id")
        }
        notes: list[Notification] = []
        events: list[CaseEvent] = []
        for row in rows:
            when = f"{row.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"
            body = _("%(number)s: the petitioner is invited on %(at)s at %(place)s.") % {
                "number": row.case.number,
                "at": when,
                "place": row.place,
            }
            audience: list[dict[str, Any]]
            if row.case_id in lead:
                department_id, center_id = lead[row.case_id]
                audience = [
                    {
                        "audience_center_id": center_id,
                        "audience_department_id": department_id,
                        "audience_role": role,
                    }
                    for role in (Role.OFFICER, Role.HEAD)
                ]
            else:
                audience = [{"recipient_id": row.recorded_by_id}]
            if row.leader_id is not None:
                audience.append({"recipient_id": row.leader_id})
            for n, target in enumerate(audience):
                notes.append(
                    Notification(
                        case_id=row.case_id,
                        kind=NotificationKind.REMINDER,
                        title=_("Appointment tomorrow: %(number)s") % {"number": row.case.number},
                        body=body,
                        created_at=now,
                        dedupe_key=f"appt-remind:{row.pk}:{n}",
                        **target,
                    )
                )
            events.append(
                CaseEvent(
                    case_id=row.case_id,
                    kind="appointment_reminded",
                    actor=None,
                    at=now,
                    message=body,
                    data={"outreach": row.pk},
                )
            )
            row.reminded_at = now
            row.version += 1
            row._history_user = None  # type: ignore[attr-defined]
        bulk_update_with_history(
            rows, Outreach, ["reminded_at", "version"], batch_size=BATCH, default_user=None
        )
        CaseEvent.objects.bulk_create(events)
        Notification.objects.bulk_create(notes, ignore_conflicts=True)
        kick_delivery()
    logger.info("appointment reminders: %d", len(rows))
    return len(rows)


@shared_task(name="outreach.tasks_visits.remind_appointments")
def remind_appointments() -> int:
    total = 0
    while True:
        n = remind_due_appointments()
        total += n
        if n < BATCH:
            return total
