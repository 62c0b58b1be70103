"""The write path of review (复查), re-review (复核), lawful termination (依法终结) and finality.

Each function checks role, state and guards on the locked case row (through
petitions.services.transition_case), writes history and a CaseEvent in the same transaction, and
queues notifications as outbox rows delivered after commit. Views, API, admin and tasks call these.

Who does what (《信访工作条例》 Arts 35-37 and the 涉法涉诉 termination rules):
- A review is asked of the next level up from the body that answered: a county center's reply is
  reviewed by its city center, a city's by the province. A re-review goes one level above the
  reviewing body (Art 36), never back to it: a county case reviewed at the city is re-reviewed at
  the province. Above the province center there is no center in this deployment (one deployment
  serves a province): a re-review of a review the province decided is forwarded upward to the
  organ above (``ORGAN_ABOVE``), and the province center records its outcome when it comes back
  (``record_forwarded_outcome``). The province's own replies are still reviewed at the province,
  by a supervisor or leader who took no part in the answer challenged (documented in the README).
- The request is recorded by desk staff (reception, triage) of the case's center or of the
  reviewing center (the petitioner may go to either); the decision is taken by a supervisor or
  leader of the reviewing center.
- Termination: proposed by the lead department (officer or head), reviewed by the case's center
  (supervisor or leader), approved by a supervisor or leader of the province center.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import meet_deadline, open_deadline
from clocks.models import Notification, NotificationKind
from clocks.notify import kick_delivery
from closure.models import Reply, ReplyStatus
from core.errors import DomainError, PermissionDenied
from core.models import Center, CenterLevel, Department, User
from core.roles import Role
from petitions.models import Case
from petitions.services import record_event, transition_case
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole

from .models import (
    ACTIVE_TERMINATION_STATES,
    Finality,
    FinalityReason,
    RequestChannel,
    ReviewDecision,
    ReviewKind,
    ReviewRequest,
    Termination,
    TerminationState,
)
from .windows import (
    RE_REVIEW_DECISION_KIND,
    REVIEW_DECISION_KIND,
    WINDOW_KIND,
    decision_due,
    window_due,
)

DESK_ROLES = (Role.RECEPTION, Role.TRIAGE)
DECIDING_ROLES = (Role.SUPERVISOR, Role.LEADER)
PROPOSING_ROLES = (Role.OFFICER, Role.HEAD)
MAX_TEXT = 20_000


# --- helpers ------------------------------------------------------------------------------------


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: _("Keep it under %(n)d characters.") % {"n": MAX_TEXT}})
    return value


def _has_role(actor: User, roles: tuple[str, ...]) -> bool:
    return actor.is_superuser or actor.has_role(*roles)


def _is_above_or_same(upper: Center, lower: Center) -> bool:
    return bool(lower.path) and lower.path.startswith(upper.path)


def _province_of(center: Center) -> Center:
    node = center
    while node.parent_id is not None and node.level != CenterLevel.PROVINCE:
        assert node.parent is not None
        node = node.parent
    return node


def reviewing_center_above(center: Center) -> Center:
    """The next level up; a province center (nobody above it here) reviews its own answers."""
    if center.parent_id is None:
        return center
    assert center.parent is not None
    return center.parent


def organ_above(center: Center | None = None) -> str:
    """The organ one level above a center at the top of this deployment, which decides the
    re-review of that center's reviews (Art 36). Named by ``settings.APPEALS_ORGAN_ABOVE``
    (default: the central political-legal committee, which coordinates the provincial joint
    centers)."""
    return str(getattr(settings, "APPEALS_ORGAN_ABOVE", "") or "中央政法委")


def _outbox(*, case: Case, center: Center, role: str, body: str, at: datetime) -> None:
    """An in-app message and e-mail to ``role`` at ``center``, as an outbox row in this transaction;
    e-mail goes out after commit (clocks.notify)."""
    Notification.objects.create(
        case=case,
        kind=NotificationKind.EVENT,
        title=case.number,
        body=body,
        created_at=at,
        audience_center=center,
        audience_role=role,
    )
    kick_delivery()


def _refuse_if_final(case: Case) -> None:
    finality = Finality.objects.filter(case=case).first()
    if finality is not None:
        raise DomainError(
            _("The matter is already final (%(reason)s); it cannot be reviewed again.")
            % {"reason": finality.get_reason_display()},
            code="final",
        )


# --- review and re-review: the request ------------------------------------------------------------


def current_delivered_reply(case: Case) -> Reply | None:
    return (
        Reply.objects.filter(case=case, superseded_at__isnull=True, status=ReplyStatus.DELIVERED)
        .select_related("department__center")
        .first()
    )


def last_decided_review(case: Case) -> ReviewRequest | None:
    return (
        ReviewRequest.objects.filter(case=case, kind=ReviewKind.REVIEW)
        .exclude(decision="")
        .select_related("reviewing_center")
        .order_by("-decided_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ReviewSubject:
    """What a review or re-review request would challenge, and its window."""

    kind: str
    answered_at: datetime
    window_due_at: datetime
    answering_center: Center
    reviewing_center: Center
    reply: Reply | None = None
    previous: ReviewRequest | None = None
    # The organ above the deployment a re-review is forwarded to ("" when a center decides it).
    forwarded_to: str = ""

    @property
    def deciding_body(self) -> str:
        return self.forwarded_to or self.reviewing_center.name


def review_subject(case: Case, kind: str) -> ReviewSubject:
    """The answer a ``kind`` request would challenge, or a DomainError saying why there is none."""
    if kind == ReviewKind.REVIEW:
        reply = current_delivered_reply(case)
        if reply is None or reply.delivered_at is None:
            raise DomainError(
                _("A review can only be asked after the written reply has been delivered."),
                code="no_delivered_reply",
            )
        if ReviewRequest.objects.filter(reply=reply, kind=ReviewKind.REVIEW).exists():
            raise DomainError(
                _(
                    "This written reply has already been reviewed or is under review; "
                    "it cannot be reviewed twice (Art 35)."
                ),
                code="already_reviewed",
            )
        answering = reply.department.center
        return ReviewSubject(
            kind=kind,
            answered_at=reply.delivered_at,
            window_due_at=window_due(answered_at=reply.delivered_at, center=case.center),
            answering_center=answering,
            reviewing_center=reviewing_center_above(answering),
            reply=reply,
        )
    if kind == ReviewKind.RE_REVIEW:
        previous = last_decided_review(case)
        if previous is None or previous.delivered_at is None:
            if ReviewRequest.objects.filter(case=case, kind=ReviewKind.REVIEW).exists():
                raise DomainError(
                    _(
                        "The review has not been decided yet; a re-review can be asked only "
                        "after the review's written answer (Art 36)."
                    ),
                    code="review_pending",
                )
            raise DomainError(
                _("A re-review can only be asked after a review (Art 36)."),
                code="no_review",
            )
        if ReviewRequest.objects.filter(previous=previous, kind=ReviewKind.RE_REVIEW).exists():
            raise DomainError(
                _(
                    "This review has already been re-reviewed or is under re-review; "
                    "it cannot be re-reviewed twice (Art 36)."
                ),
                code="already_re_reviewed",
            )
        answering = previous.reviewing_center
        # Art 36: one level above the reviewing body, never the same one. Above the top of
        # this deployment the request is forwarded; the top center follows it up.
        top = answering.parent_id is None
        return ReviewSubject(
            kind=kind,
            answered_at=previous.delivered_at,
            window_due_at=window_due(answered_at=previous.delivered_at, center=case.center),
            answering_center=answering,
            reviewing_center=answering if top else reviewing_center_above(answering),
            previous=previous,
            forwarded_to=organ_above(answering) if top else "",
        )
    raise ValidationError({"kind": _("Choose review or re-review.")})


def _check_may_record_request(actor: User, case: Case, reviewing_center: Center) -> None:
    if not _has_role(actor, DESK_ROLES):
        raise PermissionDenied(_("Only desk staff record a request for review."))
    if actor.is_superuser:
        return
    if actor.center_id not in {case.center_id, reviewing_center.pk}:
        raise PermissionDenied(
            _("Record the request at the case's center or at the reviewing center.")
        )


def request_review(
    *,
    actor: User,
    case: Case,
    kind: str,
    reason: str,
    channel: str = RequestChannel.IN_PERSON,
    expected_version: int | None = None,
    submission_key: str | None = None,
    at: datetime | None = None,
) -> ReviewRequest:
    """Record the petitioner's request for review (Art 35) or re-review (Art 36).

    Refused, with nothing written: outside the 30-day window counted from the delivery of the
    answer challenged; a re-review before a review was decided; a second request against the same
    answer; a case without a delivered reply; a final matter; any state other than "replied"
    (e.g. archived). A double submit (same ``submission_key``) returns the first request."""
    if submission_key:
        existing = ReviewRequest.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    if kind not in ReviewKind.values:
        raise ValidationError({"kind": _("Choose review or re-review.")})
    if channel not in RequestChannel.values:
        raise ValidationError({"channel": _("Choose how the request was received.")})
    reason = _require_text(
        reason, "reason", _("Write down why the petitioner is dissatisfied with the answer.")
    )
    now = at or timezone.now()
    transition = "request_review" if kind == ReviewKind.REVIEW else "request_re_review"
    decision_kind = REVIEW_DECISION_KIND if kind == ReviewKind.REVIEW else RE_REVIEW_DECISION_KIND
    created: list[ReviewRequest] = []

    def guard(locked: Case) -> None:
        # Runs on the locked row after the state check: every read below sees a settled case.
        _refuse_if_final(locked)
        subject = review_subject(locked, kind)
        _check_may_record_request(actor, locked, subject.reviewing_center)
        if now > subject.window_due_at:
            raise DomainError(
                _(
                    "The time limit has passed: a %(kind)s must be asked within 30 days of "
                    "receiving the written answer (delivered %(delivered)s, last day %(last)s)."
                )
                % {
                    "kind": ReviewKind(kind).label,
                    "delivered": timezone.localdate(subject.answered_at).isoformat(),
                    "last": timezone.localdate(subject.window_due_at).isoformat(),
                },
                code="window_closed",
            )
        due = decision_due(kind=decision_kind, requested_at=now, center=locked.center)
        request = ReviewRequest(
            case=locked,
            kind=kind,
            reply=subject.reply,
            previous=subject.previous,
            reason=reason,
            channel=channel,
            requested_at=now,
            recorded_by=actor,
            reviewing_center=subject.reviewing_center,
            forwarded_to=subject.forwarded_to,
            window_due_at=subject.window_due_at,
            decision_due_at=due,
            submission_key=submission_key or None,
        )
        request._history_user = actor  # type: ignore[attr-defined]
        request.save()
        created.append(request)
        # The window is used: it closes; the deciding body's 30-day clock starts. For a request
        # forwarded upward the top center keeps that clock: it follows the request up and is
        # told when the answer is late (appeals.tasks.tell_reviewing_centers).
        meet_deadline(case=locked, kind=WINDOW_KIND, at=now)
        open_deadline(case=locked, kind=decision_kind, start=now)
        if subject.forwarded_to:
            record_event(
                case=locked,
                kind="re_review_forwarded",
                actor=actor,
                at=now,
                message=_(
                    "Forwarded upward to %(organ)s: the review was decided by %(center)s, the "
                    "top of this system; the re-review is decided one level above (Art 36)."
                )
                % {"organ": subject.forwarded_to, "center": subject.reviewing_center.name},
                data={"review": request.pk, "forwarded_to": subject.forwarded_to},
            )
            body = _(
                "Re-review forwarded upward to %(organ)s: follow it up and record its outcome "
                "(answer due by %(due)s)"
            ) % {"organ": subject.forwarded_to, "due": timezone.localdate(due).isoformat()}
        else:
            body = _("%(kind)s requested; decide by %(due)s") % {
                "kind": ReviewKind(kind).label,
                "due": timezone.localdate(due).isoformat(),
            }
        _outbox(
            case=locked,
            center=subject.reviewing_center,
            role=Role.SUPERVISOR,
            body=body,
            at=now,
        )

    if kind == ReviewKind.REVIEW and current_delivered_reply(case) is None:
        # Said before the state check, which would only name the state.
        raise DomainError(
            _("A review can only be asked after the written reply has been delivered."),
            code="no_delivered_reply",
        )
    # The timeline names the reviewing body; the guard re-derives it on the locked case.
    try:
        to_center = review_subject(case, kind).deciding_body
    except (DomainError, ValidationError):
        to_center = ""
    message = (
        _("%(kind)s requested of %(center)s: %(reason)s")
        % {"kind": ReviewKind(kind).label, "center": to_center, "reason": reason}
        if to_center
        else reason
    )
    try:
        with transaction.atomic():
            transition_case(
                actor=actor,
                case=case,
                name=transition,
                expected_version=expected_version,
                guard=guard,
                at=now,
                message=message,
                data={"kind": kind},
            )
    except IntegrityError:
        # Two desks submitted at the same moment: the unique constraints let one through.
        if submission_key:
            existing = ReviewRequest.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                return existing
        raise DomainError(
            _("A request against this answer was recorded at the same moment; reload the case."),
            code="already_requested",
        ) from None
    return created[0]


# --- review and re-review: the decision -----------------------------------------------------------


def pending_review(case: Case) -> ReviewRequest | None:
    return (
        ReviewRequest.objects.filter(case=case, decision="")
        .select_related("reviewing_center", "reply", "previous")
        .order_by("-requested_at")
        .first()
    )


def _check_may_decide(actor: User, request: ReviewRequest) -> None:
    if request.forwarded_to:
        raise DomainError(
            _(
                "This re-review was forwarded upward to %(organ)s, which decides it (Art 36): "
                "record the outcome received from it instead."
            )
            % {"organ": request.forwarded_to},
            code="forwarded",
        )
    if not _has_role(actor, DECIDING_ROLES):
        raise PermissionDenied(
            _("Only a supervisor or leader of the reviewing center decides a review.")
        )
    if actor.is_superuser:
        return
    if actor.center_id != request.reviewing_center_id:
        raise PermissionDenied(
            _("Only a supervisor or leader of the reviewing center decides a review.")
        )
    # At the top of the hierarchy the reviewing center may be the one that answered: whoever took
    # part in the answer challenged does not decide on it.
    involved = set()
    if request.reply is not None:
        involved |= {request.reply.approved_by_id, request.reply.drafted_by_id}
    if request.previous is not None:
        involved.add(request.previous.decided_by_id)
    if actor.pk in involved:
        raise PermissionDenied(
            _("You took part in the answer under review; another colleague must decide.")
        )


def _next_document_number(request: ReviewRequest, at: datetime) -> str:
    prefix = "复查" if request.kind == ReviewKind.REVIEW else "复核"
    return f"{request.reviewing_center.region_code}{prefix}{at:%Y}-{request.pk:06d}"


def decide_review(
    *,
    actor: User,
    case: Case,
    decision: str,
    answer: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> ReviewRequest:
    """The reviewing body's decision with its written answer (Arts 35-36).

    After a review the case is "replied" again and the petitioner's re-review window opens (30 days
    from the answer, issued with the decision). After a re-review the matter is final (Art 36 para
    3): the case closes and the desk will not accept the same matter again."""
    if decision not in ReviewDecision.values:
        raise ValidationError({"decision": _("Choose uphold, revoke, change or redo.")})
    answer = _require_text(answer, "answer", _("Write the written answer to the petitioner."))
    now = at or timezone.now()
    decided: list[ReviewRequest] = []
    cases: list[Case] = []

    def guard(locked: Case) -> None:
        cases.append(locked)
        request = (
            ReviewRequest.objects.select_for_update()
            .filter(case=locked, decision="")
            .order_by("-requested_at")
            .first()
        )
        if request is None:
            raise DomainError(_("There is no review waiting for a decision."), code="no_review")
        request = ReviewRequest.objects.select_related("reviewing_center", "reply", "previous").get(
            pk=request.pk
        )
        _check_may_decide(actor, request)
        request.decision = decision
        request.answer = answer
        request.decided_by = actor
        request.decided_at = now
        request.delivered_at = now
        request.document_number = _next_document_number(request, now)
        request._history_user = actor  # type: ignore[attr-defined]
        request.save(
            update_fields=[
                "decision",
                "answer",
                "decided_by",
                "decided_at",
                "delivered_at",
                "document_number",
            ]
        )
        decided.append(request)
        kind = (
            REVIEW_DECISION_KIND if request.kind == ReviewKind.REVIEW else RE_REVIEW_DECISION_KIND
        )
        meet_deadline(case=locked, kind=kind, at=now)
        if request.kind == ReviewKind.REVIEW:
            # The petitioner's window to ask for re-review (Art 36).
            open_deadline(case=locked, kind=WINDOW_KIND, start=now)
        else:
            _make_final(
                case=locked, reason=FinalityReason.RE_REVIEW_DECIDED, at=now, review=request
            )

    state = case.state
    if state == CaseState.REVIEW:
        name = "decide_review"
    elif state == CaseState.RE_REVIEW:
        name = "decide_re_review"
    else:
        raise DomainError(
            _("There is no review waiting for a decision on this case (it is “%(state)s”).")
            % {"state": case.get_state_display()},
            code="no_review",
        )
    with transaction.atomic():
        transition_case(
            actor=actor,
            case=case,
            name=name,
            expected_version=expected_version,
            guard=guard,
            at=now,
            message=_("%(decision)s: %(answer)s")
            % {"decision": ReviewDecision(decision).label, "answer": answer},
            data={"decision": decision},
        )
        request, locked = decided[0], cases[0]
        _notify_decided(case=locked, request=request, decision=decision, at=now)
    return request


def _notify_decided(*, case: Case, request: ReviewRequest, decision: str, at: datetime) -> None:
    """The case's triage hears of a review or re-review decision, decided here or recorded as
    it came back from above (one outbox row, sent after commit)."""
    _outbox(
        case=case,
        center=case.center,
        role=Role.TRIAGE,
        body=_("%(kind)s decided: %(decision)s")
        % {
            "kind": ReviewKind(request.kind).label,
            "decision": ReviewDecision(decision).label,
        },
        at=at,
    )


def may_record_forwarded_outcome(actor: User, request: ReviewRequest) -> bool:
    """A supervisor or leader of the center that forwarded the re-review upward. Recording what
    the organ above decided is not judging the answer: whoever decided the review may do it."""
    return (
        bool(request.forwarded_to)
        and _has_role(actor, DECIDING_ROLES)
        and (actor.is_superuser or actor.center_id == request.reviewing_center_id)
    )


def record_forwarded_outcome(
    *,
    actor: User,
    case: Case,
    decision: str,
    answer: str,
    outcome_date: date | None,
    document_number: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> ReviewRequest:
    """The outcome of a re-review forwarded upward (Art 36), as received from the organ above:
    its decision, its text (or a summary), the date it was decided and its document number,
    recorded by a supervisor or leader of the center that forwarded it. As a re-review decided
    here, the matter is then final (Art 36 para 3) and the case closes."""
    if decision not in ReviewDecision.values:
        raise ValidationError({"decision": _("Choose uphold, revoke, change or redo.")})
    answer = _require_text(answer, "answer", _("Write down the re-review opinion received."))
    number = (document_number or "").strip()
    now = at or timezone.now()
    errors: dict[str, str] = {}
    if not number:
        errors["document_number"] = _("Give the document number of the decision received.")
    elif len(number) > 40:
        errors["document_number"] = _("Keep it under %(n)d characters.") % {"n": 40}
    elif ReviewRequest.objects.filter(document_number=number).exists():
        errors["document_number"] = _("This document number is already recorded.")
    if outcome_date is None:
        errors["outcome_date"] = _("Give the date of the decision received.")
    elif outcome_date > timezone.localdate(now):
        errors["outcome_date"] = _("The date of the decision cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    assert outcome_date is not None
    decided: list[ReviewRequest] = []

    def guard(locked: Case) -> None:
        request = (
            ReviewRequest.objects.select_for_update()
            .filter(case=locked, decision="")
            .order_by("-requested_at")
            .first()
        )
        if request is None or not request.forwarded_to:
            raise DomainError(
                _("There is no re-review forwarded upward waiting for its outcome."),
                code="not_forwarded",
            )
        if not may_record_forwarded_outcome(actor, request):
            raise PermissionDenied(
                _(
                    "The outcome is recorded by a supervisor or leader of the center that "
                    "forwarded the re-review."
                )
            )
        if outcome_date < timezone.localdate(request.requested_at):
            raise ValidationError(
                {"outcome_date": _("The decision cannot predate the request for re-review.")}
            )
        request.decision = decision
        request.answer = answer
        request.decided_by = actor
        request.decided_at = now
        request.delivered_at = now
        request.outcome_date = outcome_date
        request.document_number = number
        request._history_user = actor  # type: ignore[attr-defined]
        request.save(
            update_fields=[
                "decision",
                "answer",
                "decided_by",
                "decided_at",
                "delivered_at",
                "outcome_date",
                "document_number",
            ]
        )
        decided.append(request)
        meet_deadline(case=locked, kind=RE_REVIEW_DECISION_KIND, at=now)
        _make_final(case=locked, reason=FinalityReason.RE_REVIEW_DECIDED, at=now, review=request)

    if case.state != CaseState.RE_REVIEW:
        raise DomainError(
            _("There is no re-review forwarded upward waiting for its outcome."),
            code="not_forwarded",
        )
    try:
        with transaction.atomic():
            transition_case(
                actor=actor,
                case=case,
                name="decide_re_review",
                expected_version=expected_version,
                guard=guard,
                at=now,
                message=_(
                    "Outcome of the re-review received: %(decision)s (decided %(date)s, "
                    "document %(number)s): %(answer)s"
                )
                % {
                    "decision": ReviewDecision(decision).label,
                    "date": outcome_date.isoformat(),
                    "number": number,
                    "answer": answer,
                },
                data={"decision": decision, "forwarded": True},
            )
            request = decided[0]
            _notify_decided(case=case, request=request, decision=decision, at=now)
    except IntegrityError:
        # the same document number recorded at the same moment on another case
        raise ValidationError(
            {"document_number": _("This document number is already recorded.")}
        ) from None
    return request


# --- finality ---------------------------------------------------------------------------------------


def _make_final(
    *,
    case: Case,
    reason: str,
    at: datetime,
    review: ReviewRequest | None = None,
    termination: Termination | None = None,
) -> Finality:
    finality, created = Finality.objects.get_or_create(
        case=case,
        defaults={"reason": reason, "final_at": at, "review": review, "termination": termination},
    )
    if not created and reason == FinalityReason.TERMINATED and finality.termination_id is None:
        # A final matter later lawfully terminated: termination is the stronger record.
        finality.reason = reason
        finality.termination = termination
        finality.save(update_fields=["reason", "termination"])
    return finality


# --- lawful termination ---------------------------------------------------------------------------


def _lead_department(actor: User, case: Case) -> Department:
    if not _has_role(actor, PROPOSING_ROLES) or actor.department_id is None:
        raise PermissionDenied(_("Only the department handling the case proposes termination."))
    if not Assignment.objects.filter(
        case=case, department_id=actor.department_id, role=AssignmentRole.LEAD
    ).exists():
        raise PermissionDenied(_("Only the department handling the case proposes termination."))
    assert actor.department is not None
    return actor.department


TERMINABLE_STATES = frozenset({CaseState.REPLIED, CaseState.CLOSED})


def procedures_open(case: Case, now: datetime) -> DomainError | None:
    """Why the petitioner's procedures are not exhausted yet, naming until when, or None.

    Lawful termination (Art 37) comes only after the legal procedures are exhausted (DOMAIN.md
    §8): never while a review or re-review is pending, nor while the petitioner's window to ask
    for one is open (Arts 35-36). Proposing it the day a reply is delivered would take away the
    petitioner's 30 days. A matter already final (re-review decided, window lapsed) is exhausted.
    Shared by the service guard (proposal, center review, approval) and the appeals page, so the
    page offers the form only when the service would accept it."""
    pending = pending_review(case)
    if pending is not None:
        label = ReviewKind(pending.kind).label
        if pending.forwarded_to:
            return DomainError(
                _(
                    "Lawful termination is not possible while the %(kind)s forwarded to "
                    "%(organ)s awaits its outcome (answer due %(due)s): the legal procedures are "
                    "not exhausted (Art 37)."
                )
                % {
                    "kind": label,
                    "organ": pending.forwarded_to,
                    "due": timezone.localdate(pending.decision_due_at).isoformat(),
                },
                code="procedures_open",
            )
        return DomainError(
            _(
                "Lawful termination is not possible while the %(kind)s is pending (decision due "
                "%(due)s): the legal procedures are not exhausted (Art 37)."
            )
            % {"kind": label, "due": timezone.localdate(pending.decision_due_at).isoformat()},
            code="procedures_open",
        )
    if Finality.objects.filter(case=case).exists():
        return None
    for kind in (ReviewKind.REVIEW, ReviewKind.RE_REVIEW):
        try:
            subject = review_subject(case, kind)
        except (DomainError, ValidationError):
            continue  # no answer of this kind left to challenge
        if now <= subject.window_due_at:
            last = timezone.localdate(subject.window_due_at)
            return DomainError(
                _(
                    "Lawful termination is not possible yet: until %(last)s the petitioner "
                    "may ask for %(kind)s (written answer delivered %(delivered)s, Arts 35-37). "
                    "It can be proposed from %(next)s, once that time limit has passed."
                )
                % {
                    "kind": ReviewKind(kind).label,
                    "last": last.isoformat(),
                    "delivered": timezone.localdate(subject.answered_at).isoformat(),
                    "next": (last + timedelta(days=1)).isoformat(),
                },
                code="procedures_open",
            )
    return None


def _check_terminable(case: Case, now: datetime) -> None:
    if not case.is_law_related:
        raise DomainError(
            _(
                "Only law-related matters can be lawfully terminated (Art 37); this case is not "
                "law-related."
            ),
            code="not_law_related",
        )
    refusal = procedures_open(case, now)
    if refusal is not None:
        raise refusal
    if case.state not in TERMINABLE_STATES:
        raise DomainError(
            _(
                "Lawful termination is proposed once the matter has been answered; the case is "
                "“%(state)s”."
            )
            % {"state": case.get_state_display()},
            code="illegal_transition",
        )


def _lock_case(case: Case, expected_version: int | None) -> Case:
    from core.errors import StaleState

    locked = Case.objects.select_for_update().select_related("center").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleState(
            _("The case was changed by someone else in the meantime; reload it and try again.")
        )
    return locked


def _touch_case(locked: Case, actor: User) -> None:
    """A write that does not change the state still moves the version (optimistic checks)."""
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]
    locked.save(update_fields=["version"])


def propose_termination(
    *,
    actor: User,
    case: Case,
    grounds: str,
    support_unit: Department | None = None,
    expected_version: int | None = None,
    submission_key: str | None = None,
    at: datetime | None = None,
) -> Termination:
    """The lead department proposes to lawfully terminate a law-related matter whose procedures
    are exhausted. ``support_unit`` (default: the proposing department) stays responsible for
    support and persuasion afterwards (Art 37 para 3)."""
    if submission_key:
        existing = Termination.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    grounds = _require_text(grounds, "grounds", _("State why the legal procedures are exhausted."))
    now = at or timezone.now()
    try:
        with transaction.atomic():
            locked = _lock_case(case, expected_version)
            department = _lead_department(actor, locked)
            _check_terminable(locked, now)
            if Termination.objects.filter(
                case=locked, state__in=ACTIVE_TERMINATION_STATES
            ).exists():
                raise DomainError(
                    _("A termination proposal for this case is already under way."),
                    code="already_proposed",
                )
            unit = support_unit or department
            if unit.center_id not in {locked.center_id, department.center_id}:
                raise ValidationError(
                    {"support_unit": _("Choose a department of the case's center.")}
                )
            termination = Termination(
                case=locked,
                department=department,
                grounds=grounds,
                proposed_by=actor,
                proposed_at=now,
                support_unit=unit,
                submission_key=submission_key or None,
            )
            termination._history_user = actor  # type: ignore[attr-defined]
            termination.save()
            _touch_case(locked, actor)
            record_event(
                case=locked,
                kind="termination_proposed",
                actor=actor,
                at=now,
                message=grounds,
                data={"termination": termination.pk},
            )
            _outbox(
                case=locked,
                center=locked.center,
                role=Role.SUPERVISOR,
                body=_("Lawful termination proposed by %(department)s")
                % {"department": department.name},
                at=now,
            )
    except IntegrityError:
        if submission_key:
            existing = Termination.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                return existing
        raise DomainError(
            _("A termination proposal for this case is already under way."),
            code="already_proposed",
        ) from None
    case.version = locked.version
    return termination


def active_termination(case: Case) -> Termination | None:
    return (
        Termination.objects.filter(case=case, state__in=ACTIVE_TERMINATION_STATES)
        .select_related("department", "support_unit")
        .first()
    )


def may_review_termination(actor: User, case: Case) -> bool:
    """Center review: a supervisor or leader of the case's own center."""
    return _has_role(actor, DECIDING_ROLES) and (
        actor.is_superuser or actor.center_id == case.center_id
    )


def may_approve_termination(actor: User, case: Case) -> bool:
    """Provincial approval: a supervisor or leader of the province center above the case."""
    if not _has_role(actor, DECIDING_ROLES):
        return False
    if actor.is_superuser:
        return True
    center = actor.center
    return (
        center is not None
        and center.level == CenterLevel.PROVINCE
        and _is_above_or_same(center, case.center)
    )


def decide_termination(
    *,
    actor: User,
    case: Case,
    approve: bool,
    opinion: str = "",
    approving_body: str = "",
    approval_date: date | None = None,
    support_unit: Department | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Termination:
    """The next step of the proposal under way, decided by its state (one endpoint, two steps):

    - "proposed": the case's center reviews it (supervisor or leader of that center). Approving
      sends it on to the province; refusing ends it.
    - "center reviewed": the province approves it (supervisor or leader of the province center,
      with the approving body and the date of approval). Approving terminates the case (Art 37):
      it is counted apart from then on, the support unit stays responsible, and the desk flags the
      person's return. Refusing ends the proposal; the case is unchanged.

    A province center's own case goes through both steps at the province center."""
    now = at or timezone.now()
    opinion = (opinion or "").strip()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        termination = (
            Termination.objects.select_for_update()
            .filter(case=locked, state__in=ACTIVE_TERMINATION_STATES)
            .first()
        )
        if termination is None:
            raise DomainError(
                _("There is no termination proposal waiting for a decision."), code="no_proposal"
            )
        if termination.state == TerminationState.PROPOSED:
            if not may_review_termination(actor, locked):
                raise PermissionDenied(
                    _("The center's review is done by a supervisor or leader of the case's center.")
                )
            if not approve:
                _reject(termination, actor, now, opinion)
            else:
                _check_terminable(locked, now)
                termination.state = TerminationState.CENTER_REVIEWED
                termination.center_reviewed_by = actor
                termination.center_reviewed_at = now
                termination.center_opinion = opinion
                termination._history_user = actor  # type: ignore[attr-defined]
                termination.save(
                    update_fields=[
                        "state",
                        "center_reviewed_by",
                        "center_reviewed_at",
                        "center_opinion",
                    ]
                )
                _outbox(
                    case=locked,
                    center=_province_of(locked.center),
                    role=Role.SUPERVISOR,
                    body=_("Lawful termination awaiting provincial approval"),
                    at=now,
                )
            _touch_case(locked, actor)
            record_event(
                case=locked,
                kind="termination_reviewed" if approve else "termination_rejected",
                actor=actor,
                at=now,
                message=opinion,
                data={"termination": termination.pk},
            )
        else:
            if not may_approve_termination(actor, locked):
                raise PermissionDenied(
                    _(
                        "Lawful termination is approved at provincial level: only a supervisor or "
                        "leader of the province center approves it."
                    )
                )
            if not approve:
                _reject(termination, actor, now, opinion)
                _touch_case(locked, actor)
                record_event(
                    case=locked,
                    kind="termination_rejected",
                    actor=actor,
                    at=now,
                    message=opinion,
                    data={"termination": termination.pk},
                )
            else:
                _check_terminable(locked, now)
                errors: dict[str, str] = {}
                body = (approving_body or "").strip()
                if not body:
                    errors["approving_body"] = _("Name the approving body.")
                if approval_date is None:
                    errors["approval_date"] = _("Give the date of approval.")
                elif approval_date > timezone.localdate(now):
                    errors["approval_date"] = _("The date of approval cannot be in the future.")
                if errors:
                    raise ValidationError(errors)
                termination.state = TerminationState.APPROVED
                termination.approved_by = actor
                termination.approved_at = now
                termination.approving_body = body[:100]
                termination.approval_date = approval_date
                termination.approval_opinion = opinion
                fields = [
                    "state",
                    "approved_by",
                    "approved_at",
                    "approving_body",
                    "approval_date",
                    "approval_opinion",
                ]
                if support_unit is not None:
                    termination.support_unit = support_unit
                    fields.append("support_unit")
                termination._history_user = actor  # type: ignore[attr-defined]
                termination.save(update_fields=fields)
                transition_case(
                    actor=actor,
                    case=locked,
                    name="terminate",
                    at=now,
                    message=_("Approved by %(body)s on %(date)s; support: %(unit)s")
                    % {
                        "body": termination.approving_body,
                        "date": approval_date.isoformat() if approval_date else "",
                        "unit": termination.support_unit.name,
                    },
                    data={"termination": termination.pk},
                )
                # No clock runs on a terminated matter; any open window ends with it.
                meet_deadline(case=locked, kind=WINDOW_KIND, at=now)
                _make_final(
                    case=locked,
                    reason=FinalityReason.TERMINATED,
                    at=now,
                    termination=termination,
                )
                _outbox(
                    case=locked,
                    center=locked.center,
                    role=Role.SUPERVISOR,
                    body=_("Lawfully terminated; support: %(unit)s")
                    % {"unit": termination.support_unit.name},
                    at=now,
                )
    case.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
    return termination


def _reject(termination: Termination, actor: User, now: datetime, reason: str) -> None:
    if not reason:
        raise ValidationError({"opinion": _("Give the reason for not approving.")})
    termination.state = TerminationState.REJECTED
    termination.rejected_by = actor
    termination.rejected_at = now
    termination.rejection_reason = reason
    termination._history_user = actor  # type: ignore[attr-defined]
    termination.save(update_fields=["state", "rejected_by", "rejected_at", "rejection_reason"])
