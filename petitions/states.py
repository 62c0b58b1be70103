"""The case life cycle of DOMAIN.md §4, defined in one place.

``TRANSITIONS`` is the only table of what may follow what and who may do it. Services call
``check_transition`` before they change a case; nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.roles import Role


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("Registered, awaiting screening")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    REFERRED = "referred", _("Referred to the competent organ")
    LEGAL_PROCEDURE = "legal_procedure", _("Routed into legal procedure")
    ASSIGNED = "assigned", _("Assigned, awaiting sign-for")
    RETURNED = "returned", _("Returned by the department")
    SIGNED = "signed", _("Signed for, awaiting acceptance")
    HANDLING = "handling", _("Accepted, being handled")
    REPLIED = "replied", _("Written reply issued")
    REVIEW = "review", _("Under review")
    RE_REVIEW = "re_review", _("Under re-review")
    CLOSED = "closed", _("Closed")
    TERMINATED = "terminated", _("Lawfully terminated")
    ARCHIVED = "archived", _("Archived")

    @classmethod
    def open_states(cls) -> frozenset[str]:
        return frozenset(
            {
                cls.REGISTERED,
                cls.ASSIGNED,
                cls.RETURNED,
                cls.SIGNED,
                cls.HANDLING,
                cls.REPLIED,
                cls.REVIEW,
                cls.RE_REVIEW,
            }
        )

    @classmethod
    def final_states(cls) -> frozenset[str]:
        """States in which a returning person's same matter is not opened again as new."""
        return frozenset({cls.TERMINATED})


S = CaseState


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str | Promise


def _t(
    name: str, sources: set[str], target: str, roles: set[str], label: str | Promise
) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(roles), label)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        # Front desk: a simple enquiry answered and closed the same day (one-stop answer).
        _t(
            "answer_on_spot",
            {S.REGISTERED},
            S.CLOSED,
            {Role.RECEPTION, Role.TRIAGE},
            _("Answered on the spot"),
        ),
        # Screening within 15 days of registration (Art 22).
        _t(
            "not_accept",
            {S.REGISTERED, S.RETURNED},
            S.NOT_ACCEPTED,
            {Role.TRIAGE},
            _("Not accepted"),
        ),
        _t("refer_out", {S.REGISTERED, S.RETURNED}, S.REFERRED, {Role.TRIAGE}, _("Referred out")),
        _t(
            "route_legal",
            {S.REGISTERED, S.RETURNED},
            S.LEGAL_PROCEDURE,
            {Role.TRIAGE},
            _("Routed into legal procedure"),
        ),
        _t("assign", {S.REGISTERED, S.RETURNED}, S.ASSIGNED, {Role.TRIAGE}, _("Assigned")),
        _t(
            "transfer",
            {S.REGISTERED, S.RETURNED},
            S.REGISTERED,
            {Role.TRIAGE},
            _("Transferred to another center"),
        ),
        _t(
            "reassign",
            {S.ASSIGNED, S.SIGNED, S.HANDLING},
            S.ASSIGNED,
            {Role.TRIAGE, Role.SUPERVISOR},
            _("Reassigned"),
        ),
        # Receiving side (Art 23).
        _t("sign_for", {S.ASSIGNED}, S.SIGNED, {Role.OFFICER, Role.HEAD}, _("Signed for")),
        _t(
            "return_assignment",
            {S.ASSIGNED, S.SIGNED},
            S.RETURNED,
            {Role.OFFICER, Role.HEAD},
            _("Returned with objection"),
        ),
        _t("confirm_return", {S.RETURNED}, S.REGISTERED, {Role.TRIAGE}, _("Return confirmed")),
        _t("accept", {S.SIGNED}, S.HANDLING, {Role.OFFICER, Role.HEAD}, _("Accepted")),
        # Handling and reply (Arts 32-34).
        # The approved reply is delivered by the lead department (closure.services.deliver_reply;
        # the head's approval is checked there).
        _t(
            "reply",
            {S.HANDLING},
            S.REPLIED,
            {Role.OFFICER, Role.HEAD},
            _("Written reply issued"),
        ),
        # Art 33: a mediation or settlement agreement ends the case (closure.services).
        _t(
            "close_by_agreement",
            {S.HANDLING},
            S.CLOSED,
            {Role.HEAD},
            _("Closed by a mediation or settlement agreement"),
        ),
        _t(
            "request_review",
            {S.REPLIED},
            S.REVIEW,
            {Role.RECEPTION, Role.TRIAGE},
            _("Review requested"),
        ),
        # Arts 35-36: decided by the reviewing center (the next level up; appeals.services checks
        # the center), after which the re-review window runs; after re-review the matter is final.
        _t(
            "decide_review",
            {S.REVIEW},
            S.REPLIED,
            {Role.SUPERVISOR, Role.LEADER},
            _("Review decided"),
        ),
        _t(
            "request_re_review",
            {S.REPLIED},
            S.RE_REVIEW,
            {Role.RECEPTION, Role.TRIAGE},
            _("Re-review requested"),
        ),
        _t(
            "decide_re_review",
            {S.RE_REVIEW},
            S.CLOSED,
            {Role.SUPERVISOR, Role.LEADER},
            _("Re-review decided"),
        ),
        _t("close", {S.REPLIED}, S.CLOSED, {Role.SUPERVISOR, Role.ARCHIVIST}, _("Closed")),
        # Lawful termination (Art 37), approved at provincial level (checked in the service).
        _t(
            "terminate",
            {S.REPLIED, S.CLOSED},
            S.TERMINATED,
            {Role.SUPERVISOR, Role.LEADER},
            _("Lawfully terminated"),
        ),
        _t(
            "archive",
            {S.CLOSED, S.TERMINATED, S.NOT_ACCEPTED, S.REFERRED, S.LEGAL_PROCEDURE},
            S.ARCHIVED,
            # a supervisor archives when overriding the evaluation rule (closure.services)
            {Role.ARCHIVIST, Role.SUPERVISOR},
            _("Archived"),
        ),
        # An archived or closed file reopened by a supervisor with a reason (closure.services).
        _t(
            "reopen",
            {S.ARCHIVED, S.CLOSED},
            S.HANDLING,
            {Role.SUPERVISOR},
            _("Reopened"),
        ),
    ]
}


def allowed_transitions(state: str, roles: frozenset[str]) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources and t.roles & roles]
