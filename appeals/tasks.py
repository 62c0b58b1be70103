"""Closing the petitioner's review windows that ran out unused (Arts 35-36): the matter becomes
final. Runs from Celery beat next to the deadline sweep (settings.CELERY_BEAT_SCHEDULE) and from
``manage.py finalise_review_windows``.

Set-based like the sweep (clocks.sweep): each batch claims lapsed window clocks with
``FOR UPDATE SKIP LOCKED`` (two workers never take the same one), closes them with a guarded
UPDATE, and writes their history rows, the Finality rows and the case events in bulk, in one
transaction. Idempotent: a closed window is not claimed again, and a case already final is left
as it is. A request recorded at the same moment locks the window row first (meet_deadline), so
the two cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import Deadline, Notification, NotificationKind, WarningLevel
from clocks.notify import kick_delivery
from core.roles import Role
from petitions.models import Case, CaseEvent

from .models import Finality, FinalityReason, ReviewKind, ReviewRequest
from .windows import RE_REVIEW_DECISION_KIND, REVIEW_DECISION_KIND, WINDOW_KIND

BATCH_SIZE = 2_000


def _finalise_batch(now: datetime, limit: int) -> int:
    decided_review = ReviewRequest.objects.filter(
        case_id=OuterRef("case_id"), kind=ReviewKind.REVIEW
    ).exclude(decision="")
    with transaction.atomic():
        windows = list(
            Deadline.objects.filter(kind=WINDOW_KIND, met_at__isnull=True, due_at__lt=now)
            .annotate(after_review=Exists(decided_review))
            .order_by("due_at")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        if not windows:
            return 0
        ids = [w.pk for w in windows]
        # The window ended at its due time, not when this task happened to run.
        for window in windows:
            window.met_at = window.due_at
        Deadline.objects.filter(pk__in=ids, met_at__isnull=True).update(met_at=F("due_at"))
        Deadline.history.bulk_history_create(  # type: ignore[attr-defined]
            windows, update=True, default_change_reason="review window lapsed"
        )
        case_ids = {w.case_id for w in windows}
        already = set(
            Finality.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True)
        )
        finalities = []
        events = []
        for window in windows:
            if window.case_id in already:
                continue
            already.add(window.case_id)
            reason = (
                FinalityReason.RE_REVIEW_WINDOW_LAPSED
                if window.after_review  # type: ignore[attr-defined]
                else FinalityReason.REVIEW_WINDOW_LAPSED
            )
            finalities.append(
                Finality(case_id=window.case_id, reason=reason, final_at=window.due_at)
            )
            events.append(
                CaseEvent(
                    case_id=window.case_id,
                    kind="review_window_lapsed",
                    at=now,
                    message=_("%(reason)s: the matter is final and is not accepted again.")
                    % {"reason": FinalityReason(reason).label},
                    data={"deadline": window.pk, "reason": reason},
                )
            )
        created = Finality.objects.bulk_create(finalities)
        Finality.history.bulk_history_create(created)  # type: ignore[attr-defined]
        CaseEvent.objects.bulk_create(events)
        # The cases' nearest deadline: running duties only, never a window (as
        # clocks.deadlines.refresh_case_next_due), one UPDATE for the batch.
        earliest = (
            Deadline.objects.duties()
            .filter(case_id=OuterRef("pk"), met_at__isnull=True)
            .order_by("due_at")
            .values("due_at")[:1]
        )
        Case.objects.filter(pk__in=case_ids).update(next_due_at=Subquery(earliest))
    return len(windows)


def finalise_lapsed_windows(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Close every review/re-review window that ran out before ``now``; returns how many."""
    now = now or timezone.now()
    total = 0
    while True:
        done = _finalise_batch(now, batch_size)
        total += done
        if done < batch_size:
            return total


def tell_reviewing_centers(*, now: datetime | None = None) -> int:
    """The sweep warns and escalates a decision clock at the case's own center (clocks.sweep
    addresses case-level clocks there); the body that must decide is the reviewing center. Its
    supervisors are told here when the clock the sweep rated is due within a day or overdue: one
    outbox row per clock and level (``dedupe_key``), so a rerun adds nothing."""
    now = now or timezone.now()
    pending = ReviewRequest.objects.filter(case_id=OuterRef("case_id"), decision="").order_by(
        "-requested_at"
    )
    rows = (
        Deadline.objects.filter(
            kind__in=[REVIEW_DECISION_KIND, RE_REVIEW_DECISION_KIND],
            met_at__isnull=True,
            warning_level__in=[WarningLevel.SEVERE, WarningLevel.OVERDUE],
        )
        .annotate(
            reviewing_center_id=Subquery(pending.values("reviewing_center_id")[:1]),
            case_number=F("case__number"),
        )
        .filter(reviewing_center_id__isnull=False)
        .values_list(
            "pk", "case_id", "case_number", "warning_level", "due_at", "reviewing_center_id"
        )
    )
    notes = [
        Notification(
            case_id=case_id,
            audience_center_id=center_id,
            audience_role=Role.SUPERVISOR,
            kind=NotificationKind.OVERDUE
            if level == WarningLevel.OVERDUE
            else NotificationKind.WARNING,
            title=number,
            body=(
                _("Review decision overdue since %(due)s")
                if level == WarningLevel.OVERDUE
                else _("Review decision due by %(due)s")
            )
            % {"due": timezone.localdate(due_at).isoformat()},
            created_at=now,
            dedupe_key=f"appeals:{pk}:{level}:{int(due_at.timestamp())}",
        )
        for pk, case_id, number, level, due_at, center_id in rows
    ]
    known = set(
        Notification.objects.filter(dedupe_key__in=[n.dedupe_key for n in notes]).values_list(
            "dedupe_key", flat=True
        )
    )
    notes = [n for n in notes if n.dedupe_key not in known]
    if not notes:
        return 0
    # ignore_conflicts: a concurrent run inserting the same rows is not an error.
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    kick_delivery()
    return len(notes)


@shared_task(acks_late=True, name="appeals.tasks.finalise_lapsed_windows")
def finalise_lapsed_windows_task() -> int:
    closed = finalise_lapsed_windows()
    tell_reviewing_centers()
    return closed
