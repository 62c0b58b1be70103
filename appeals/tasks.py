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

from clocks.models import Deadline
from petitions.models import Case, CaseEvent

from .models import Finality, FinalityReason, ReviewKind, ReviewRequest
from .windows import WINDOW_KIND

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
        # The cases' nearest deadline without the closed windows: one UPDATE for the batch.
        earliest = (
            Deadline.objects.filter(case_id=OuterRef("pk"), met_at__isnull=True)
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


@shared_task(acks_late=True, name="appeals.tasks.finalise_lapsed_windows")
def finalise_lapsed_windows_task() -> int:
    return finalise_lapsed_windows()
