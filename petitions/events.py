"""Readable names of timeline events (CaseEvent.kind) for the case page, in the user's language.

A kind is shown by its label here, or, for a state change, by its transition's label
(petitions.states.TRANSITIONS); an unknown kind shows a neutral "Case event", never the code.
Apps above petitions label their own kinds without petitions importing them:

    from petitions.events import register_event_labels
    register_event_labels({"reply_drafted": _("Written reply drafted")})   # in AppConfig.ready()

The kinds the apps write today are listed below as well, so the timeline is right even before an
app registers them; tests/test_i18n_pages.py checks every kind written anywhere in the code.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .states import TRANSITIONS

EVENT_LABELS: dict[str, str | Promise] = {
    # petitions / intake
    "registered": _("Registered"),
    "repeat_visit": _("Repeat visit"),
    "attachment_added": _("Attachment added"),
    # routing: the departments' side
    "assist_signed": _("Assisting department signed for"),
    "assist_returned": _("Assisting department returned the assignment"),
    "note": _("Progress note"),
    "contribution": _("Assisting department's contribution"),
    # supervision overlays
    "extension_requested": _("Extension requested"),
    "extension_approved": _("Extension approved"),
    "extension_rejected": _("Extension rejected"),
    "supervision_order": _("Supervision order issued"),
    "supervision_order_responded": _("Supervision order answered"),
    "supervision_order_closed": _("Supervision order closed"),
    "reminder": _("Reminder sent"),
    "leader_responsibility": _("Leader responsibility assigned"),
    "leader_responsibility_resolved": _("Leader responsibility resolved"),
    "consultation": _("Consultation held"),
    "accountability_finding": _("Accountability finding recorded"),
    "bulletin": _("Named in a bulletin"),
    # clocks (the deadline sweep)
    "deadline_warning": _("Deadline approaching"),
    "deadline_overdue": _("Deadline passed"),
    "deadline_on_time": _("Deadline back on time"),
    "escalated": _("Escalated"),
    "window_closed": _("Time limit ended"),
    # closure and appeals
    "reply_drafted": _("Written reply drafted"),
    "reply_submitted": _("Written reply submitted for approval"),
    "reply_approved": _("Written reply approved"),
    "reply_sent_back": _("Written reply sent back"),
    "evaluated": _("Evaluated"),
    "return_visit": _("Return visit"),
    "return_visit_scheduled": _("Return visit scheduled"),
    "reexamination": _("Re-examination outcome"),
    "review_window_lapsed": _("Period to ask for review ended"),
    "termination_proposed": _("Lawful termination proposed"),
    "termination_reviewed": _("Lawful termination approved"),
    "termination_rejected": _("Lawful termination rejected"),
    # history reasons that are not transitions
    "extension": _("Extension"),
    "deadline sweep": _("Deadline check"),
}
FALLBACK = _("Case event")


def register_event_labels(labels: Mapping[str, str | Promise]) -> None:
    EVENT_LABELS.update(labels)


def event_label(kind: str) -> str:
    if kind in EVENT_LABELS:
        return str(EVENT_LABELS[kind])
    if kind in TRANSITIONS:
        return str(TRANSITIONS[kind].label)
    return str(FALLBACK)
