"""Template filters for case pages: state colour classes, deadline wording, event labels."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from petitions.models import Case
from petitions.states import TRANSITIONS, CaseState

register = template.Library()

# Timeline kinds written by petitions.services that are not transitions. Transitions take their
# label from petitions.states.TRANSITIONS; kinds other apps add fall back to a readable form of the
# kind itself until they are listed here.
EVENT_LABELS: dict[str, str | Promise] = {
    "registered": _("Registered"),
    "repeat_visit": _("Repeat visit"),
    "attachment_added": _("Attachment added"),
    # closure (written reply, evaluation, return visits)
    "reply_drafted": _("Written reply drafted"),
    "reply_submitted": _("Written reply submitted for approval"),
    "reply_approved": _("Written reply approved"),
    "reply_sent_back": _("Written reply sent back"),
    "evaluated": _("Evaluated"),
    "return_visit_scheduled": _("Return visit scheduled"),
    "return_visit": _("Return visit"),
    "reexamination": _("Re-examination outcome"),
}


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
    if kind in EVENT_LABELS:
        return str(EVENT_LABELS[kind])
    if kind in TRANSITIONS:
        return str(TRANSITIONS[kind].label)
    return kind.replace("_", " ").capitalize()
