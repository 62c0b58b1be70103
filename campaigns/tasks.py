"""The campaigns' progress clock (beat, hourly): matters whose next progress report is due soon
are warned, those past it are overdue, and those overdue for ESCALATE_AFTER_DAYS are escalated to
the campaign center's supervisors.

Set-based, a fixed number of queries per run whatever the number of matters: one locking select
of the matters that need a change (``FOR UPDATE SKIP LOCKED``: rows another run holds are that
run's), one bulk update with their history rows (simple-history's bulk helper, as
``QuerySet.update`` writes none), one insert of the case events and one of the outbox rows. Safe
to run twice, or twice at once: a row is picked only while its stored level or step is below the
one due (a guard on the old value), a concurrent run skips the rows this one holds, and every
outbox row carries a ``dedupe_key`` (INSERT ... ON CONFLICT DO NOTHING). A progress entry
(services.matters.record_progress) moves the date on and clears the level and step.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from clocks.deadlines import CHINA_TZ
from clocks.models import Notification, NotificationKind
from clocks.notify import kick_delivery
from core.roles import Role
from petitions.models import CaseEvent

from .models import CampaignState, Matter, MatterOutcome, WarningLevel
from .selectors import terminated_case_q

logger = logging.getLogger(__name__)

WARNING_DAYS = 2  # "due soon": the report is due within two days
ESCALATE_AFTER_DAYS = 3  # overdue this many days: the campaign center's supervisors are told
LEVEL_RANK: dict[str, int] = {
    WarningLevel.NONE: 0,
    WarningLevel.WARNING: 1,
    WarningLevel.OVERDUE: 2,
}


def _level_due(next_on: Any, today: Any) -> str:
    if next_on < today:
        return WarningLevel.OVERDUE
    if next_on <= today + timedelta(days=WARNING_DAYS):
        return WarningLevel.WARNING
    return WarningLevel.NONE


def run_progress_sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    today = now.astimezone(CHINA_TZ).date()
    escalate_on_or_before = today - timedelta(days=ESCALATE_AFTER_DAYS)
    # Only what needs a change: a level below the one due, or an escalation not yet made.
    needs_change = (
        Q(next_progress_on__lt=today) & ~Q(warning_level=WarningLevel.OVERDUE)
        | Q(next_progress_on__lte=today + timedelta(days=WARNING_DAYS))
        & Q(warning_level=WarningLevel.NONE)
        | Q(next_progress_on__lte=escalate_on_or_before, escalation_step=0)
    )
    changed: list[Matter] = []
    events: list[CaseEvent] = []
    notes: list[Notification] = []
    with transaction.atomic():
        rows = list(
            Matter.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                needs_change,
                outcome__in=[MatterOutcome.IN_HAND, MatterOutcome.STALLED],
                campaign__state=CampaignState.OPEN,
                next_progress_on__isnull=False,
            )
            .exclude(terminated_case_q())
            .select_related("campaign", "case")
        )
        for matter in rows:
            assert matter.next_progress_on is not None
            due = matter.next_progress_on.isoformat()
            level = _level_due(matter.next_progress_on, today)
            raised = LEVEL_RANK[level] > LEVEL_RANK[matter.warning_level]
            escalate = matter.next_progress_on <= escalate_on_or_before and (
                matter.escalation_step == 0
            )
            if not (raised or escalate):
                continue
            if raised:
                matter.warning_level = level
                kind = (
                    NotificationKind.OVERDUE
                    if level == WarningLevel.OVERDUE
                    else NotificationKind.WARNING
                )
                body = (
                    _("The progress report on this backlog matter was due on %(due)s.")
                    if level == WarningLevel.OVERDUE
                    else _("The progress report on this backlog matter is due on %(due)s.")
                ) % {"due": due}
                for person in {matter.handler_id, matter.leader_id} - {None}:
                    notes.append(
                        Notification(
                            recipient_id=person,
                            case_id=matter.case_id,
                            kind=kind,
                            title=matter.case.number,
                            body=body,
                            created_at=now,
                            dedupe_key=f"cmp:{matter.pk}:{level}:{due}:{person}",
                        )
                    )
                if level == WarningLevel.OVERDUE:
                    events.append(
                        CaseEvent(
                            case_id=matter.case_id,
                            kind="campaign_progress_overdue",
                            at=now,
                            data={"matter": matter.pk, "due": due},
                        )
                    )
            if escalate:
                matter.escalation_step = 1
                notes.append(
                    Notification(
                        audience_center_id=matter.campaign.center_id,
                        audience_role=Role.SUPERVISOR,
                        case_id=matter.case_id,
                        kind=NotificationKind.ESCALATION,
                        title=matter.case.number,
                        body=_(
                            "Campaign “%(campaign)s”: no progress reported on this backlog "
                            "matter since its report was due on %(due)s."
                        )
                        % {"campaign": matter.campaign.name, "due": due},
                        created_at=now,
                        dedupe_key=f"cmp-esc:{matter.pk}:1:{due}",
                    )
                )
                events.append(
                    CaseEvent(
                        case_id=matter.case_id,
                        kind="campaign_progress_escalated",
                        at=now,
                        data={"matter": matter.pk, "due": due, "step": 1},
                    )
                )
            matter.version += 1
            changed.append(matter)
        if changed:
            bulk_update_with_history(
                changed,
                Matter,
                ["warning_level", "escalation_step", "version"],
                default_change_reason="progress sweep",
                default_date=now,
            )
            CaseEvent.objects.bulk_create(events)
            Notification.objects.bulk_create(notes, ignore_conflicts=True)
            kick_delivery()
    return {
        "changed": len(changed),
        "overdue": sum(1 for m in changed if m.warning_level == WarningLevel.OVERDUE),
        "escalated": sum(1 for e in events if e.kind == "campaign_progress_escalated"),
        "notifications": len(notes),
    }


@shared_task(acks_late=True)
def sweep_matter_progress() -> dict[str, int]:
    """Beat, hourly (config.settings.base.CELERY_BEAT_SCHEDULE); safe to run again."""
    counts = run_progress_sweep()
    logger.info("campaign progress sweep: %s", counts)
    return counts
