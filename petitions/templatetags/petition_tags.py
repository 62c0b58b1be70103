"""Template filters for case pages: state colour classes, deadline wording, event labels."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from petitions.events import EVENT_LABELS  # noqa: F401 - re-exported for older imports
from petitions.events import event_label as _event_label
from petitions.models import Case
from petitions.states import CaseState

register = template.Library()


def _is_overdue(case: Case, now: datetime | None = None) -> bool:
    return (
        case.state in CaseState.open_states()
        and case.next_due_at is not None
        and case.next_due_at < (now or timezone.now())
    )


@register.filter
def state_tag(value: Case | str) -> str:
    """CSS classes for a case's state tag: ``state-open``, ``state-overdue`` or ``state-closed``.

    Given a Case, an open case past its next deadline is "overdue"; given a bare state code it
    cannot be, so only open/closed are told apart."""
    if isinstance(value, Case):
        if _is_overdue(value):
            return "tag state-overdue"
        state = value.state
    else:
        state = str(value)
    return "tag state-open" if state in CaseState.open_states() else "tag state-closed"


@register.filter
def is_overdue(case: Case) -> bool:
    return isinstance(case, Case) and _is_overdue(case)


@register.filter
def days_left(due: datetime | None) -> str:
    """ "3 days left" / "due today" / "2 days overdue" for a deadline, counted in Beijing calendar
    days (a deadline falls due at the end of its last day: clocks.deadlines)."""
    if not due:
        return ""
    now = timezone.now()
    today = timezone.localdate(now)
    due_day = timezone.localdate(due)
    if due >= now:
        days = (due_day - today).days
        if days <= 0:
            return str(_("due today"))
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    days = max((today - due_day).days, 1)
    return ngettext("%(n)d day overdue", "%(n)d days overdue", days) % {"n": days}


@register.filter
def event_label(kind: str) -> str:
    """A timeline event's name in the user's language, never its code (petitions.events)."""
    return _event_label(kind)
