"""The clocks of review and re-review (DOMAIN.md §5), on the clock engine (clocks/).

- The petitioner's *window* to ask (30 calendar days from the written answer, Arts 35-36): a right,
  shown to them, never anyone's overdue work. When it runs out unused, the matter is final
  (appeals.tasks.finalise_lapsed_windows).
- The reviewing body's *duty* to decide (30 calendar days from the request): supervised by the sweep
  like every other duty.

The kinds come from clocks.models.DeadlineKind. The engine is being reorganised (windows and
duties as separate kinds); until the window and re-review kinds exist under their new names the
older names are used, so nothing here depends on the order in which the two changes land.
"""

from __future__ import annotations

from datetime import datetime

from clocks.deadlines import compute_due
from clocks.models import DeadlineKind
from closure.selectors import review_window_due
from core.models import Center

# The petitioner's window to ask for review or re-review (one kind for both: the same right).
WINDOW_KIND: str = str(
    getattr(DeadlineKind, "REVIEW_REQUEST_WINDOW", None) or DeadlineKind.REVIEW_REQUEST
)
REVIEW_DECISION_KIND: str = str(DeadlineKind.REVIEW_DECISION)
RE_REVIEW_DECISION_KIND: str = str(
    getattr(DeadlineKind, "RE_REVIEW_DECISION", None) or DeadlineKind.REVIEW_DECISION
)


def window_due(*, answered_at: datetime, center: Center) -> datetime:
    """The end of the window that opened when a written answer was delivered at ``answered_at``:
    23:59:59 Beijing time on the 30th calendar day after (the day of delivery does not count;
    a holiday on the last day does not move it: clocks.deadlines). One rule, kept where the
    reply's page reads it too (closure.selectors.review_window_due)."""
    return review_window_due(answered_at=answered_at, center=center)


def decision_due(*, kind: str, requested_at: datetime, center: Center) -> datetime:
    due_at, _provisional, _rule = compute_due(kind=kind, start=requested_at, center=center)
    return due_at
