"""Reads of appeals: the reviewing center's queue, a case's review and termination records, and the
desk's "不再受理" warning. Scoped like every other read (petitions.selectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDenied
from core.models import CenterLevel, User
from core.roles import Role
from petitions.models import Case, Petitioner

from .models import (
    Finality,
    FinalityReason,
    ReviewKind,
    ReviewRequest,
    Termination,
    TerminationState,
)

if TYPE_CHECKING:
    from routing.models import Assignment


def cases_under_review_by(center_ids: Sequence[int]) -> QuerySet[Any]:
    """Visibility provider (petitions.hooks): the cases these centers review or reviewed. The
    reviewing center is normally above the case's center and sees it anyway; this keeps its read
    access when it is not (a reorganised hierarchy, a transferred case)."""
    ids = list(center_ids)
    return (
        ReviewRequest.objects.filter(reviewing_center_id__in=ids)
        .exclude(case__center_id__in=ids)
        .values_list("case_id", flat=True)
    )


_BASIS = {
    FinalityReason.RE_REVIEW_DECIDED: "《信访工作条例》第三十六条",
    FinalityReason.REVIEW_WINDOW_LAPSED: "《信访工作条例》第三十五条",
    FinalityReason.RE_REVIEW_WINDOW_LAPSED: "《信访工作条例》第三十六条",
    FinalityReason.TERMINATED: "《信访工作条例》第三十七条",
}


def finality_warnings(petitioner: Petitioner, exclude: Case | None = None) -> list[str]:
    """Desk warnings (petitions.hooks): each final matter of this person, why it is final, and
    that the same matter on the same facts and reasons is not accepted again (Arts 35-37).
    Ids first (one narrow query, empty for most people), then the rows by primary key: the
    DISTINCT over seven joined relations took PostgreSQL 21 ms to plan for 0.7 ms of work at
    100,000 cases (issue 10)."""
    found = Finality.objects.filter(case__case_petitioners__petitioner=petitioner)
    if exclude is not None:
        found = found.exclude(case_id=exclude.pk)
    ids = list(found.values_list("pk", flat=True).distinct())
    if not ids:
        return []
    rows = (
        Finality.objects.filter(pk__in=ids)
        .select_related(
            "case__category__parent", "termination__support_unit", "review__reviewing_center"
        )
        .order_by("final_at")
    )
    warnings = []
    for finality in rows:
        case = finality.case
        text = _(
            "Not to be accepted again (不再受理): the matter of case %(number)s (%(category)s) is "
            "final – %(reason)s, since %(date)s. The same matter on the same facts and reasons is "
            "not accepted again (%(basis)s)."
        ) % {
            "number": case.number,
            "category": str(case.category),
            "reason": finality.get_reason_display(),
            "date": timezone.localdate(finality.final_at).isoformat(),
            "basis": _BASIS.get(FinalityReason(finality.reason), ""),
        }
        if finality.termination is not None:
            text += " " + _("Lawfully terminated; unit responsible for support: %(unit)s.") % {
                "unit": finality.termination.support_unit.name
            }
        warnings.append(text)
    return warnings


def finality_of(case: Case) -> Finality | None:
    return (
        Finality.objects.filter(case=case)
        .select_related("termination__support_unit", "review")
        .first()
    )


def reviews_of(case: Case) -> list[ReviewRequest]:
    return list(
        ReviewRequest.objects.filter(case=case)
        .select_related("reviewing_center", "recorded_by", "decided_by")
        .order_by("requested_at", "pk")
    )


def terminations_of(case: Case) -> list[Termination]:
    return list(
        Termination.objects.filter(case=case)
        .select_related(
            "department",
            "support_unit",
            "proposed_by",
            "center_reviewed_by",
            "approved_by",
            "rejected_by",
        )
        .order_by("proposed_at", "pk")
    )


def get_review_for(user: User, pk: int | str) -> ReviewRequest:
    """A review request whose case the user may see (404 otherwise, the same as a missing one)."""
    from petitions.selectors import cases_visible_to

    try:
        return (
            ReviewRequest.objects.select_related(
                "case__center",
                "case__main_petitioner",
                "case__category__parent",
                "reviewing_center",
                "decided_by",
                "reply__department",
            )
            .filter(case__in=cases_visible_to(user))
            .get(pk=pk)
        )
    except (ReviewRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such review") from None


# --- the reviewing center's queue -----------------------------------------------------------------


def is_approver(user: User) -> bool:
    return bool(user.center_id) and user.has_role(Role.SUPERVISOR, Role.LEADER)


def waiting_reviews(user: User) -> QuerySet[ReviewRequest]:
    """Review and re-review requests waiting for this user's center to decide, soonest due first
    (served by review_pending_idx)."""
    if not user.is_superuser and not is_approver(user):
        return ReviewRequest.objects.none()
    # A re-review forwarded upward is not decided here (forwarded_reviews lists it).
    qs = ReviewRequest.objects.filter(decision="", forwarded_to="")
    if not user.is_superuser:
        # Not what this user may not decide (services._check_may_decide): at the top of the
        # hierarchy a re-review stays in the center that decided the review, and whoever took
        # part in the answer challenged (drafted or approved the reply, decided the review) is
        # not its judge (Art 36: one level above, not the same body).
        qs = qs.filter(reviewing_center_id=user.center_id).exclude(
            Q(reply__drafted_by=user) | Q(reply__approved_by=user) | Q(previous__decided_by=user)
        )
    return qs.select_related(
        "case__center", "case__main_petitioner", "case__category__parent", "reviewing_center"
    ).order_by("decision_due_at", "pk")


def forwarded_reviews(user: User) -> QuerySet[ReviewRequest]:
    """Re-reviews this user's center forwarded upward (Art 36: its review was decided at the top
    of this deployment), awaiting the outcome it records when it comes back; oldest due first.
    Any supervisor or leader of that center records it (services.may_record_forwarded_outcome)."""
    if not user.is_superuser and not is_approver(user):
        return ReviewRequest.objects.none()
    qs = ReviewRequest.objects.filter(decision="").exclude(forwarded_to="")
    if not user.is_superuser:
        qs = qs.filter(reviewing_center_id=user.center_id)
    return qs.select_related("case__center", "case__main_petitioner", "reviewing_center").order_by(
        "decision_due_at", "pk"
    )


def waiting_terminations(user: User) -> QuerySet[Termination]:
    """Termination proposals waiting for this user: the center's review for supervisors and
    leaders of the case's center; provincial approval for those of the province center."""
    if not user.is_superuser and not is_approver(user):
        return Termination.objects.none()
    qs = Termination.objects.filter(
        state__in=[TerminationState.PROPOSED, TerminationState.CENTER_REVIEWED]
    )
    if not user.is_superuser:
        center = user.center
        assert center is not None
        condition = Q(state=TerminationState.PROPOSED, case__center_id=center.pk)
        if center.level == CenterLevel.PROVINCE:
            condition |= Q(
                state=TerminationState.CENTER_REVIEWED,
                case__center__path__startswith=center.path,
            )
        qs = qs.filter(condition)
    return qs.select_related(
        "case__center", "case__main_petitioner", "department", "support_unit"
    ).order_by("proposed_at", "pk")


@dataclass(frozen=True)
class WindowInfo:
    kind: str
    label: str
    answered_at: datetime
    due_at: datetime
    is_open: bool


def open_window(case: Case, now: datetime | None = None) -> WindowInfo | None:
    """The petitioner's current window to ask for review or re-review, if any."""
    from .services import review_subject

    if case.state != "replied":
        return None
    now = now or timezone.now()
    for kind in (ReviewKind.REVIEW, ReviewKind.RE_REVIEW):
        try:
            subject = review_subject(case, kind)
        except (DomainError, ValidationError):
            continue  # no answer of this kind to challenge
        return WindowInfo(
            kind=kind,
            label=str(ReviewKind(kind).label),
            answered_at=subject.answered_at,
            due_at=subject.window_due_at,
            is_open=now <= subject.window_due_at,
        )
    return None


HANDLING_STATES = frozenset({"registered", "assigned", "returned", "signed", "handling"})


def termination_hint(
    case: Case,
    *,
    window: WindowInfo | None,
    pending: ReviewRequest | None,
    has_active: bool,
    now: datetime | None = None,
) -> str:
    """When lawful termination becomes possible, for the page's termination section while it is
    not yet (DOMAIN.md §8, Arts 35-37): after the legal procedures are exhausted, i.e. the written
    reply delivered and the petitioner's review and re-review windows passed or used. Empty when
    there is nothing to say (a proposal under way, a matter that ended otherwise, or one whose
    procedures are exhausted: the lead department may propose now)."""
    if case.state in {"terminated", "archived"}:
        return ""
    if has_active:
        # A proposal under way whose procedures reopened (a review asked, a new answer
        # delivered since): its approval is refused until they are exhausted again; say so.
        from .services import procedures_open

        refusal = procedures_open(case, now or timezone.now())
        return str(refusal) if refusal is not None else ""
    if not case.is_law_related:
        return _("Only law-related matters can be lawfully terminated (Art 37).")
    if case.state in HANDLING_STATES:
        return _(
            "Lawful termination is possible once the legal procedures are exhausted: it can be "
            "proposed after the written reply has been delivered and the petitioner's windows to "
            "ask for review and re-review (30 days each from the written answer) have passed or "
            "been used (Arts 35-37)."
        )
    if case.state == "replied" and window is not None and window.is_open:
        return _(
            "It can be proposed after %(due)s: until then the petitioner may ask for %(kind)s "
            "(Arts 35-37)."
        ) % {"due": timezone.localdate(window.due_at).isoformat(), "kind": window.label}
    if case.state == "review" and pending is not None:
        return _(
            "It can be proposed after the review has been decided (due %(due)s) and the window "
            "to ask for re-review (30 days from the review answer) has passed or been used."
        ) % {"due": timezone.localdate(pending.decision_due_at).isoformat()}
    if case.state == "re_review" and pending is not None and pending.forwarded_to:
        return _(
            "It can be proposed after the outcome of the re-review forwarded to %(organ)s has "
            "been received and recorded (answer due %(due)s)."
        ) % {
            "organ": pending.forwarded_to,
            "due": timezone.localdate(pending.decision_due_at).isoformat(),
        }
    if case.state == "re_review" and pending is not None:
        return _("It can be proposed after the re-review has been decided (due %(due)s).") % {
            "due": timezone.localdate(pending.decision_due_at).isoformat()
        }
    # Whatever else the service would refuse for now (a window still open on a closed case):
    # the page says until when rather than leaving the section silent.
    from .services import procedures_open

    refusal = procedures_open(case, now or timezone.now())
    return str(refusal) if refusal is not None else ""


# --- what a user may do now (the case page's actions and the appeals page's forms) -----------------


@dataclass(frozen=True)
class Allowed:
    request_kind: str = ""  # "review" / "re_review" when the user may record that request now
    decide: ReviewRequest | None = None
    # Why a supervisor or leader is not offered the pending decision (another center decides
    # it, or they took part in the answer challenged): said on the page instead of silence.
    decide_refusal: str = ""
    # A re-review forwarded upward whose outcome this user may record.
    record_outcome: ReviewRequest | None = None
    propose: bool = False
    review_termination: Termination | None = None
    approve_termination: Termination | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.request_kind
            or self.decide
            or self.record_outcome
            or self.propose
            or self.review_termination
            or self.approve_termination
        )


def allowed_for(
    user: User,
    case: Case,
    now: datetime | None = None,
    *,
    assignments: Sequence[Assignment] | None = None,
) -> Allowed:
    """Mirrors the services' checks (role, center, state, window) so that only what would
    succeed is offered; the services check again. A handful of queries; ``assignments`` (every
    assignment of the case, as the case page has them) saves the one about the user's
    department."""
    from routing.models import Assignment, AssignmentRole

    from . import services
    from .models import ACTIVE_TERMINATION_STATES

    now = now or timezone.now()
    roles = frozenset(Role.values) if user.is_superuser else user.role_codes
    request_kind = ""
    decide = None
    decide_refusal = ""
    if case.state == "replied" and roles & {Role.RECEPTION, Role.TRIAGE}:
        window = open_window(case, now)
        if (
            window is not None
            and window.is_open
            and not Finality.objects.filter(case=case).exists()
        ):
            subject = services.review_subject(case, window.kind)
            if user.is_superuser or user.center_id in {
                case.center_id,
                subject.reviewing_center.pk,
            }:
                request_kind = window.kind
    record_outcome = None
    if case.state in {"review", "re_review"} and roles & {Role.SUPERVISOR, Role.LEADER}:
        pending = services.pending_review(case)
        if pending is not None and pending.forwarded_to:
            # decided above this deployment: the page says so (no decision form, no refusal)
            if services.may_record_forwarded_outcome(user, pending):
                record_outcome = pending
            pending = None
        if pending is not None:
            try:
                services._check_may_decide(user, pending)
            except PermissionDenied as exc:
                pending = None  # not this user's to decide: the page says why
                decide_refusal = str(exc)
        decide = pending
    propose = False
    review_termination = approve_termination = None
    if case.is_law_related:
        active = (
            Termination.objects.filter(case=case, state__in=ACTIVE_TERMINATION_STATES)
            .select_related("department", "support_unit")
            .first()
        )
        if active is None:
            propose = (
                case.state in services.TERMINABLE_STATES
                and bool(roles & {Role.OFFICER, Role.HEAD})
                and user.department_id is not None
                and (
                    any(
                        a.department_id == user.department_id and a.role == AssignmentRole.LEAD
                        for a in assignments
                    )
                    if assignments is not None
                    else Assignment.objects.filter(
                        case=case, department_id=user.department_id, role=AssignmentRole.LEAD
                    ).exists()
                )
                # Art 37 after Arts 35-36: not while a window is open or a review pending.
                and services.procedures_open(case, now) is None
            )
        elif active.state == TerminationState.PROPOSED:
            if services.may_review_termination(user, case):
                review_termination = active
        elif case.state in services.TERMINABLE_STATES and services.may_approve_termination(
            user, case
        ):
            approve_termination = active
    return Allowed(
        request_kind=request_kind,
        decide=decide,
        decide_refusal=decide_refusal,
        record_outcome=record_outcome,
        propose=propose,
        review_termination=review_termination,
        approve_termination=approve_termination,
    )


def finality_rows() -> QuerySet[Any]:
    """The Finality row of the outer case (``OuterRef("pk")``): the rows this app writes when a
    matter becomes final (re-review decided, a review window lapsed, lawful termination), the ones
    ``finality_warnings`` reads. A final-matter provider (petitions.hooks) for registration, so
    petitions and the desk know 不再受理 without importing appeals; on Finality's unique case
    index."""
    return Finality.objects.filter(case_id=OuterRef("pk")).values("pk")
