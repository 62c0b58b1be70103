"""The written reply (Arts 32-33), its delivery, the petitioner's evaluation, return visits,
closure, archive and reopening (DOMAIN.md §4: 反馈, 访结).

Each function is the one write path for its action (views, API, admin and appeals call it): it
checks role, state and guards on the locked case row, writes history and a CaseEvent in the same
transaction (petitions.services.transition_case / record_event), bumps the case version so that
an ``expected_version`` from a stale form is refused, and queues notifications as outbox rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.calendar import add_working_days
from clocks.deadlines import meet_deadline, open_deadline
from clocks.models import Deadline, DeadlineKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.hooks import notify_petitioner
from petitions.models import Attachment, AttachmentKind, Case, CaseEvent
from petitions.selectors import can_act_on
from petitions.services import (
    add_attachment,
    record_event,
    require_not_archived,
    transition_case,
)
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, AssignmentState

from . import notify
from .models import (
    AgreementKind,
    ArchiveCounter,
    CaseClosure,
    Correction,
    DeliveryMethod,
    Evaluation,
    EvaluationChannel,
    EvaluationLink,
    Rating,
    ReexaminationOutcome,
    Reply,
    ReplyCounter,
    ReplyDecision,
    ReplyStatus,
    ReturnVisit,
    ReturnVisitMethod,
    ReturnVisitReason,
)
from .selectors import (
    current_reply,
    evaluation_due_at,
    evaluation_for,
    first_evaluation,
    is_satisfied,
    lead_assignment,
    merged_contributions,
    open_assisting,
)
from .tokens import evaluation_path, hash_token, new_salt, token_for

# The petitioner's 30-day window to ask for review (Art 35): a window (a right that lapses), not a
# duty; the sweep does not warn about it, and appeals closes it (review requested, or lapsed).
REVIEW_WINDOW_KIND: str = DeadlineKind.REVIEW_REQUEST_WINDOW
RETURN_VISIT_WORKING_DAYS = 5  # a dissatisfied verdict is followed up within a working week
RETURN_VISIT_HORIZON = timedelta(days=365)  # a return visit is scheduled at most a year ahead
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)  # the same visit recorded again within this is one
CENTER_EVALUATION_ROLES = (Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR)


# --- guards shared by every step --------------------------------------------------------------------


def _require_roles(actor: User, roles: Sequence[str], message: str) -> None:
    if actor.is_superuser or actor.has_role(*roles):
        return
    raise PermissionDenied(message)


def _lock_case(case: Case, expected_version: int | None) -> Case:
    """Lock the case row; refuse a stale form and an archived file."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleState(
            _("The case was changed by someone else in the meantime; reload it and try again.")
        )
    require_not_archived(locked)
    return locked


def _bump_version(case: Case) -> None:
    """A closure step that changes no case field still changes what the case page shows: the
    version moves on so a form rendered before it is refused (StaleState)."""
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    case.version += 1


def _sync(case: Case, locked: Case) -> None:
    case.__dict__.update(
        {f: getattr(locked, f) for f in ("state", "state_changed_at", "version", "closed_at")}
    )


def _require_lead_member(actor: User, case: Case) -> Assignment:
    """The actor is an officer or head of the case's lead department (superusers act for it)."""
    lead = lead_assignment(case)
    if lead is None:
        raise DomainError(_("The case has no lead department."), code="no_lead")
    if actor.is_superuser:
        return lead
    if not actor.has_role(Role.OFFICER, Role.HEAD) or actor.department_id != lead.department_id:
        raise PermissionDenied(_("Only the lead department writes and delivers the reply."))
    return lead


def _require_center(actor: User, case: Case) -> None:
    if not can_act_on(actor, case):
        raise PermissionDenied(_("This case belongs to another center; you can only read it."))


def _text(value: str) -> str:
    return (value or "").strip()


# --- the written reply (信访处理意见书, Art 32) --------------------------------------------------------


def default_review_route(case: Case) -> str:
    """The route and time limit for review (Art 35), as the reply states them."""
    parent = case.center.parent.name if case.center.parent_id and case.center.parent else ""
    to = f"{parent}或原办理机关的上一级机关" if parent else "原办理机关的上一级机关"
    return (
        f"如对本处理意见不服，可以自收到本意见书之日起三十日内，向{to}请求复查"
        "（《信访工作条例》第三十五条）。"
    )


@dataclass(frozen=True)
class ReplyText:
    decision: str
    facts_reasons: str
    legal_basis: str
    review_route: str = ""
    request_summary: str = ""


def _validate_reply(text: ReplyText) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if text.decision not in ReplyDecision.values:
        errors["decision"] = [_("Choose the decision: supported, explained or not supported.")]
    if not _text(text.facts_reasons):
        errors["facts_reasons"] = [_("State the facts and reasons (Art 32).")]
    if not _text(text.legal_basis):
        errors["legal_basis"] = [
            _("State the legal basis of the decision: laws, regulations or rules (Art 32).")
        ]
    return errors


def save_reply_draft(
    *,
    actor: User,
    case: Case,
    text: ReplyText,
    submit: bool = False,
    expected_version: int | None = None,
) -> Reply:
    """The lead department's officer writes (or rewrites) the draft; ``submit`` sends it to the
    head for approval. The assisting departments' contributions are kept beside it
    (``Reply.contributions``, internal: never printed). A draft needs the decision, the facts
    and reasons and the legal basis (Art 32)."""
    errors = _validate_reply(text)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_lead_member(actor, locked)
        if locked.state != CaseState.HANDLING:
            raise DomainError(
                _("A reply is written while the case is being handled (now: %(state)s).")
                % {"state": locked.get_state_display()},
                code="illegal_transition",
            )
        lead = lead_assignment(locked)
        assert lead is not None
        reply = (
            Reply.objects.select_for_update()
            .filter(case=locked, superseded_at__isnull=True)
            .first()
        )
        if reply is not None and reply.status == ReplyStatus.DELIVERED:
            # A reopened case gets a new reply; the delivered one stays in the file.
            reply.superseded_at = now
            reply._history_user = actor  # type: ignore[attr-defined]
            reply.save(update_fields=["superseded_at"])
            reply = None
        if reply is not None and reply.status == ReplyStatus.APPROVED:
            raise DomainError(
                _("The reply is approved; it can no longer be changed."), code="reply_approved"
            )
        created = reply is None
        if reply is None:
            reply = Reply(case=locked, department_id=lead.department_id, drafted_at=now)
        reply.decision = text.decision
        reply.request_summary = _text(text.request_summary) or locked.request
        reply.facts_reasons = _text(text.facts_reasons)
        reply.legal_basis = _text(text.legal_basis)
        reply.review_route = _text(text.review_route) or default_review_route(locked)
        reply.contributions = merged_contributions(locked)
        reply.drafted_by = actor
        reply.drafted_at = now
        reply.status = ReplyStatus.SUBMITTED if submit else ReplyStatus.DRAFT
        if submit:
            reply.submitted_at = now
        reply._history_user = actor  # type: ignore[attr-defined]
        reply.save()
        _bump_version(locked)
        record_event(
            case=locked,
            kind="reply_submitted" if submit else "reply_drafted",
            actor=actor,
            at=now,
            message=_("Written reply submitted for approval")
            if submit
            else (_("Written reply drafted") if created else _("Written reply draft saved")),
            data={"reply": reply.pk, "decision": reply.decision},
        )
        if submit:
            notify.reply_submitted(locked, reply.department_id)
    _sync(case, locked)
    return reply


def _current_reply_locked(case: Case) -> Reply:
    reply = (
        Reply.objects.select_for_update()
        .filter(case=case, superseded_at__isnull=True)
        .select_related("department")
        .first()
    )
    if reply is None:
        raise DomainError(_("No written reply has been drafted yet."), code="no_reply")
    return reply


def _next_document_number(case: Case, at: datetime) -> str:
    year = timezone.localdate(at).year
    counter, _created = ReplyCounter.objects.select_for_update().get_or_create(
        center=case.center, year=year
    )
    ReplyCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{case.center.region_code}-{year}-答复-{counter.last:05d}"


def approve_reply(*, actor: User, case: Case, expected_version: int | None = None) -> Reply:
    """The lead department's head approves (signs) the reply: it gets its document number and
    the one-time evaluation link that is printed on it. Nobody approves their own draft."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        reply = _current_reply_locked(locked)
        if reply.drafted_by_id == actor.pk:
            raise PermissionDenied(
                _("You cannot approve your own draft: the department head approves it.")
            )
        _require_lead_member(actor, locked)
        _require_roles(actor, (Role.HEAD,), _("Only the department head approves the reply."))
        if reply.status not in (ReplyStatus.DRAFT, ReplyStatus.SUBMITTED):
            raise DomainError(
                _("This reply is not awaiting approval (it is %(status)s).")
                % {"status": reply.get_status_display()},
                code="illegal_transition",
            )
        errors = _validate_reply(
            ReplyText(reply.decision, reply.facts_reasons, reply.legal_basis, reply.review_route)
        )
        if errors:
            raise ValidationError(errors)
        reply.status = ReplyStatus.APPROVED
        reply.approved_by = actor
        reply.approved_at = now
        reply.document_number = reply.document_number or _next_document_number(locked, now)
        reply._history_user = actor  # type: ignore[attr-defined]
        reply.save(update_fields=["status", "approved_by", "approved_at", "document_number"])
        salt = new_salt()
        EvaluationLink.objects.update_or_create(
            reply=reply,
            defaults={
                "case": locked,
                "salt": salt,
                "token_hash": hash_token(token_for(salt)),
                "created_at": now,
                "expires_at": None,
                "used_at": None,
            },
        )
        _bump_version(locked)
        record_event(
            case=locked,
            kind="reply_approved",
            actor=actor,
            at=now,
            message=_("Written reply %(number)s approved") % {"number": reply.document_number},
            data={"reply": reply.pk},
        )
        notify.to_user(
            case=locked,
            user=reply.drafted_by,
            body=_("Your written reply was approved: deliver it to the petitioner."),
        )
    _sync(case, locked)
    return reply


def send_back_reply(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> Reply:
    """The head sends the draft back to the officer with a reason; it is a draft again."""
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the draft is sent back.")})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_lead_member(actor, locked)
        _require_roles(actor, (Role.HEAD,), _("Only the department head sends a draft back."))
        reply = _current_reply_locked(locked)
        if reply.status not in (ReplyStatus.DRAFT, ReplyStatus.SUBMITTED):
            raise DomainError(
                _("Only a draft awaiting approval can be sent back."), code="illegal_transition"
            )
        reply.status = ReplyStatus.DRAFT
        reply.sent_back_reason = reason
        reply.sent_back_by = actor
        reply.sent_back_at = now
        reply._history_user = actor  # type: ignore[attr-defined]
        reply.save(update_fields=["status", "sent_back_reason", "sent_back_by", "sent_back_at"])
        _bump_version(locked)
        record_event(
            case=locked,
            kind="reply_sent_back",
            actor=actor,
            at=now,
            message=reason,
            data={"reply": reply.pk},
        )
        notify.to_user(
            case=locked,
            user=reply.drafted_by,
            body=_("Your draft reply was sent back: %(reason)s") % {"reason": reason},
        )
    _sync(case, locked)
    return reply


@dataclass(frozen=True)
class Delivery:
    reply: Reply
    evaluation_path: str


def _fresh_token(link: EvaluationLink) -> str:
    """Give ``link`` a new token (the previous one stops working) and return it. The token is
    shown once, in the output of the step that made it (delivery, re-issue): the print page and
    the PDF never carry it, so nobody who can read the case can evaluate in the petitioner's
    name (issue 18 #8)."""
    link.salt = new_salt()
    token = token_for(link.salt)
    link.token_hash = hash_token(token)
    return token


def deliver_reply(
    *,
    actor: User,
    case: Case,
    method: str,
    signed: bool,
    delivered_at: datetime | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Delivery:
    """Record the delivery of the approved reply (in person, by post, other; signed for or
    refused; when). The case becomes ``replied``: the handling clock stops, and the petitioner's
    30-day window to ask for review (Art 35) and the evaluation window open from the delivery."""
    errors: dict[str, list[str]] = {}
    if method not in DeliveryMethod.values:
        errors["method"] = [_("Choose how the reply was delivered.")]
    now = timezone.now()
    at = delivered_at or now
    if at > now + timedelta(minutes=5):
        errors["delivered_at"] = [_("The delivery date cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_lead_member(actor, locked)
        reply = _current_reply_locked(locked)
        if reply.status != ReplyStatus.APPROVED:
            raise DomainError(
                _("Only a reply approved by the department head can be delivered."),
                code="reply_not_approved",
            )
        if reply.approved_at and at < reply.approved_at - timedelta(days=1):
            raise ValidationError(
                {"delivered_at": [_("The reply cannot be delivered before it was approved.")]}
            )

        def stop_handling(row: Case) -> None:
            meet_deadline(case=row, kind=DeadlineKind.HANDLING, at=at)

        transition_case(
            actor=actor,
            case=locked,
            name="reply",
            message=_("Written reply %(number)s delivered (%(method)s, %(signed)s)")
            % {
                "number": reply.document_number,
                "method": DeliveryMethod(method).label,
                "signed": _("signed for") if signed else _("signature refused"),
            },
            data={"reply": reply.pk, "method": method, "signed": signed},
            guard=stop_handling,
            at=now,
            changes={"outcome": ReplyDecision(reply.decision).label[:200]},
        )
        locked.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
        reply.status = ReplyStatus.DELIVERED
        reply.delivered_at = at
        reply.delivery_method = method
        reply.signed = signed
        reply.delivered_by = actor
        reply.delivery_note = _text(note)
        reply._history_user = actor  # type: ignore[attr-defined]
        reply.save(
            update_fields=[
                "status",
                "delivered_at",
                "delivery_method",
                "signed",
                "delivered_by",
                "delivery_note",
            ]
        )
        open_deadline(case=locked, kind=REVIEW_WINDOW_KIND, start=at)
        link = EvaluationLink.objects.select_for_update().filter(reply=reply).first()
        if link is None:
            link = EvaluationLink(case=locked, reply=reply, created_at=now)
        # A new token at delivery: whatever was printed from the approved reply before is dead,
        # and the live link exists only on the copy handed to the petitioner now.
        token = _fresh_token(link)
        link.expires_at = evaluation_due_at(reply)
        link.save()
        # The reply is ready: a text message to the petitioner with the live link, which goes
        # to them only (a secret: the timeline's copy of the message has it masked).
        notify_petitioner(
            "reply_ready",
            case=locked,
            petitioner=locked.main_petitioner,
            context={},
            secrets={"evaluation_link": evaluation_path(locked.pk, token)},
            key=f"reply_ready:{reply.pk}",
        )
    _sync(case, locked)
    return Delivery(reply=reply, evaluation_path=evaluation_path(locked.pk, token))


def reissue_evaluation_link(
    *, actor: User, case: Case, expected_version: int | None = None
) -> Delivery:
    """The petitioner lost the link (or never got it, e.g. a reply sent by post): the lead
    department issues a new one on their request. The earlier link stops working; the new one is
    shown once, to the issuing user, to hand to the petitioner. Only while the reply can still be
    evaluated (delivered, not evaluated, window open) and the file is not archived."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_lead_member(actor, locked)
        reply = _delivered_reply_locked(locked)
        link = EvaluationLink.objects.select_for_update().filter(reply=reply).first()
        if reply.mediated or link is None:
            raise DomainError(_("This reply has no evaluation link."), code="no_evaluation_link")
        if link.used_at is not None or first_evaluation(reply) is not None:
            raise DomainError(_("This reply has already been evaluated."), code="already_evaluated")
        due = evaluation_due_at(reply)
        if due is not None and now > due:
            raise DomainError(
                _("The evaluation period ended on %(date)s; the case counts as not evaluated.")
                % {"date": timezone.localtime(due).strftime("%Y-%m-%d")},
                code="evaluation_closed",
            )
        token = _fresh_token(link)
        link.save(update_fields=["salt", "token_hash"])
        _bump_version(locked)
        record_event(
            case=locked,
            kind="evaluation_link_reissued",
            actor=actor,
            at=now,
            message=_(
                "Evaluation link re-issued at the petitioner's request; the earlier link no "
                "longer works"
            ),
            data={"reply": reply.pk},
        )
    _sync(case, locked)
    return Delivery(reply=reply, evaluation_path=evaluation_path(locked.pk, token))


# --- evaluation (满意 / 基本满意 / 不满意) ------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    center_rating: str
    department_rating: str
    reasons: str = ""


def _validate_verdict(verdict: Verdict) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("center_rating", "department_rating"):
        if getattr(verdict, name) not in Rating.values:
            errors[name] = [_("Choose satisfied, basically satisfied or dissatisfied.")]
    dissatisfied = Rating.DISSATISFIED in (verdict.center_rating, verdict.department_rating)
    if not errors and dissatisfied and not _text(verdict.reasons):
        errors["reasons"] = [_("Say why the petitioner is dissatisfied.")]
    if errors:
        raise ValidationError(errors)


def _schedule_dissatisfied_visit(case: Case, evaluation: Evaluation, at: datetime) -> ReturnVisit:
    """A dissatisfied verdict becomes a return-visit task of the lead department."""
    day, _provisional = add_working_days(timezone.localdate(at), RETURN_VISIT_WORKING_DAYS)
    assert evaluation.department_id is not None
    visit = ReturnVisit.objects.create(
        case=case,
        department_id=evaluation.department_id,
        reason=ReturnVisitReason.DISSATISFIED,
        evaluation=evaluation,
        scheduled_for=day,
        created_at=at,
    )
    notify.dissatisfied(case, evaluation.department_id)
    return visit


def _record_first_evaluation(
    *,
    case: Case,
    reply: Reply,
    verdict: Verdict,
    channel: str,
    actor: User | None,
    given_by: str,
    now: datetime,
) -> Evaluation:
    due = evaluation_due_at(reply)
    if due is not None and now > due:
        raise DomainError(
            _("The evaluation period ended on %(date)s; the case counts as not evaluated.")
            % {"date": timezone.localtime(due).strftime("%Y-%m-%d")},
            code="evaluation_closed",
        )
    if first_evaluation(reply) is not None:
        raise DomainError(_("This reply has already been evaluated."), code="already_evaluated")
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                case=case,
                reply=reply,
                department_id=reply.department_id,
                center_rating=verdict.center_rating,
                department_rating=verdict.department_rating,
                reasons=_text(verdict.reasons),
                channel=channel,
                given_by=_text(given_by)[:50],
                recorded_by=actor,
                evaluated_at=now,
            )
    except IntegrityError:
        # a double submit at the same moment: the unique constraint kept the first one
        raise DomainError(
            _("This reply has already been evaluated."), code="already_evaluated"
        ) from None
    EvaluationLink.objects.filter(reply=reply, used_at__isnull=True).update(used_at=now)
    _bump_version(case)
    record_event(
        case=case,
        kind="evaluated",
        actor=actor,
        at=now,
        message=_("Evaluation (%(channel)s): center %(center)s, department %(department)s")
        % {
            "channel": EvaluationChannel(channel).label,
            "center": Rating(verdict.center_rating).label,
            "department": Rating(verdict.department_rating).label,
        }
        + (f"\n{evaluation.reasons}" if evaluation.reasons else ""),
        data={
            "evaluation": evaluation.pk,
            "center": verdict.center_rating,
            "department": verdict.department_rating,
            "channel": channel,
        },
    )
    if evaluation.is_dissatisfied:
        _schedule_dissatisfied_visit(case, evaluation, now)
    return evaluation


def _delivered_reply_locked(case: Case) -> Reply:
    reply = _current_reply_locked(case)
    if reply.status != ReplyStatus.DELIVERED:
        raise DomainError(
            _("The written reply has not been delivered yet."), code="reply_not_delivered"
        )
    return reply


def record_evaluation(
    *,
    actor: User,
    case: Case,
    verdict: Verdict,
    channel: str,
    given_by: str = "",
    expected_version: int | None = None,
) -> Evaluation:
    """The petitioner's verdict given at the desk or by phone, recorded by center staff on the
    petitioner's behalf (the record says by whom, and who gave it if not the petitioner)."""
    if channel not in (EvaluationChannel.DESK, EvaluationChannel.PHONE):
        raise ValidationError({"channel": [_("Choose at the desk or by phone.")]})
    _validate_verdict(verdict)
    _require_roles(
        actor,
        CENTER_EVALUATION_ROLES,
        _("Evaluations are recorded by the center's reception, triage or supervisors."),
    )
    _require_center(actor, case)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        reply = _delivered_reply_locked(locked)
        evaluation = _record_first_evaluation(
            case=locked,
            reply=reply,
            verdict=verdict,
            channel=channel,
            actor=actor,
            given_by=given_by,
            now=now,
        )
    _sync(case, locked)
    return evaluation


class LinkError(DomainError):
    """The evaluation link cannot be used (unknown, another case's, expired, used)."""


def check_link(*, case_id: int, token: str, now: datetime | None = None) -> EvaluationLink:
    """The link for ``token`` if it belongs to ``case_id`` and can still be used."""
    link = (
        EvaluationLink.objects.select_related("reply", "case")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if link is None or link.case_id != case_id:
        # Another case's link is as unknown here as a made-up one.
        raise LinkError(_("This evaluation link is not valid."), code="link_invalid")
    if link.used_at is not None:
        raise LinkError(
            _("This reply has already been evaluated; the link can be used only once."),
            code="already_evaluated",
        )
    if link.expires_at is None or link.reply.status != ReplyStatus.DELIVERED:
        raise LinkError(
            _("The reply has not been delivered yet; the link opens on delivery."),
            code="link_not_open",
        )
    if (now or timezone.now()) > link.expires_at:
        raise LinkError(
            _("This evaluation link expired on %(date)s.")
            % {"date": timezone.localtime(link.expires_at).strftime("%Y-%m-%d")},
            code="link_expired",
        )
    if link.case.state == CaseState.ARCHIVED:
        raise LinkError(_("This case is closed."), code="archived")
    return link


def evaluate_by_link(*, case_id: int, token: str, verdict: Verdict) -> Evaluation:
    """The petitioner's own verdict through the one-time link (no login)."""
    _validate_verdict(verdict)
    now = timezone.now()
    with transaction.atomic():
        link = check_link(case_id=case_id, token=token, now=now)
        locked = _lock_case(link.case, None)
        # Locked now: a second submit waiting here finds the link used.
        link = check_link(case_id=case_id, token=token, now=now)
        reply = _delivered_reply_locked(locked)
        if reply.pk != link.reply_id:
            raise LinkError(_("This evaluation link is not valid."), code="link_invalid")
        return _record_first_evaluation(
            case=locked,
            reply=reply,
            verdict=verdict,
            channel=EvaluationChannel.LINK,
            actor=None,
            given_by="",
            now=now,
        )


# --- return visits (回访) ------------------------------------------------------------------------------


def _require_visit_actor(actor: User, case: Case) -> None:
    if actor.is_superuser or actor.has_role(*CENTER_EVALUATION_ROLES) and can_act_on(actor, case):
        return
    _require_lead_member(actor, case)


def _require_verdict_recorder(actor: User, case: Case, reply: Reply) -> None:
    """A new verdict at a return visit replaces the petitioner's earlier one for archiving, so
    the center records it (reception, triage, supervisors: those who record evaluations), never
    the department being rated: it cannot overwrite its own 不满意 (issue 18 #9)."""
    if actor.department_id is not None and actor.department_id == reply.department_id:
        raise PermissionDenied(
            _("The department being rated cannot record the petitioner's verdict on itself.")
        )
    _require_roles(
        actor,
        CENTER_EVALUATION_ROLES,
        _(
            "A new verdict at a return visit is recorded by the center's reception, triage or "
            "supervisors."
        ),
    )
    _require_center(actor, case)


def schedule_return_visit(
    *,
    actor: User,
    case: Case,
    scheduled_for: date,
    reason: str = ReturnVisitReason.ROUTINE,
    expected_version: int | None = None,
) -> ReturnVisit:
    if reason not in ReturnVisitReason.values:
        raise ValidationError({"reason": [_("Choose a reason.")]})
    today = timezone.localdate()
    if scheduled_for < today:
        raise ValidationError({"scheduled_for": [_("Choose today or a later date.")]})
    if scheduled_for > today + RETURN_VISIT_HORIZON:
        # A return visit follows up a reply; a date years ahead (9999-12-31) is a typo or a way
        # to park the task forever, and would sit at the end of every inbox.
        raise ValidationError(
            {
                "scheduled_for": [
                    _("Choose a date within one year from today (by %(last)s).")
                    % {"last": (today + RETURN_VISIT_HORIZON).isoformat()}
                ]
            }
        )
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_visit_actor(actor, locked)
        lead = lead_assignment(locked)
        if lead is None or current_reply(locked) is None:
            raise DomainError(
                _("Return visits follow a written reply."), code="reply_not_delivered"
            )
        same = ReturnVisit.objects.filter(
            case=locked, scheduled_for=scheduled_for, done_at__isnull=True
        ).first()
        if same is not None:
            return same  # a double submit (or the same date twice): one open visit that day
        visit = ReturnVisit(
            case=locked,
            department_id=lead.department_id,
            reason=reason,
            evaluation=evaluation_for(locked),
            scheduled_for=scheduled_for,
            created_by=actor,
            created_at=now,
        )
        visit._history_user = actor  # type: ignore[attr-defined]
        visit.save()
        _bump_version(locked)
        record_event(
            case=locked,
            kind="return_visit_scheduled",
            actor=actor,
            at=now,
            message=_("Return visit scheduled for %(date)s") % {"date": scheduled_for},
            data={"visit": visit.pk},
        )
    _sync(case, locked)
    return visit


@dataclass(frozen=True)
class VisitRecord:
    method: str
    outcome: str
    visitors: str = ""
    new_verdict: Verdict | None = None


def record_return_visit(
    *,
    actor: User,
    case: Case,
    record: VisitRecord,
    visit: ReturnVisit | None = None,
    expected_version: int | None = None,
) -> ReturnVisit:
    """Record a return visit (date, who, how, outcome): the one given, else the department's
    earliest open one, else a new one. The petitioner's new verdict, if they give one, is
    recorded as an evaluation at the return visit and from then on counts for the case; only
    the center records it (``_require_verdict_recorder``). A visit is dated when it is recorded:
    no client-chosen date, so a verdict cannot be back-dated before the one it replaces."""
    errors: dict[str, list[str]] = {}
    if record.method not in ReturnVisitMethod.values:
        errors["method"] = [_("Choose how the visit was made.")]
    if not _text(record.outcome):
        errors["outcome"] = [_("Write down the outcome of the visit.")]
    now = timezone.now()
    done_at = now
    if errors:
        raise ValidationError(errors)
    if record.new_verdict is not None:
        _validate_verdict(record.new_verdict)
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        _require_visit_actor(actor, locked)
        lead = lead_assignment(locked)
        reply = current_reply(locked)
        if lead is None or reply is None or reply.status != ReplyStatus.DELIVERED:
            raise DomainError(
                _("Return visits follow a delivered written reply."), code="reply_not_delivered"
            )
        if record.new_verdict is not None:
            _require_verdict_recorder(actor, locked, reply)
        earlier = evaluation_for(locked)
        if visit is not None:
            row = ReturnVisit.objects.select_for_update().filter(pk=visit.pk, case=locked).first()
            if row is None:
                raise ValidationError({"visit": [_("No such return visit on this case.")]})
        else:
            row = (
                ReturnVisit.objects.select_for_update()
                .filter(case=locked, done_at__isnull=True)
                .order_by("scheduled_for", "id")
                .first()
            )
        if visit is None:
            just_recorded = CaseEvent.objects.filter(
                case=locked, kind="return_visit", actor=actor, at__gte=now - DOUBLE_SUBMIT_WINDOW
            ).values_list("data__visit", flat=True)
            recent = ReturnVisit.objects.filter(
                pk__in=[v for v in just_recorded if v],
                method=record.method,
                outcome=_text(record.outcome),
            ).first()
            if recent is not None:
                return recent  # the same visit submitted twice
        if row is not None and row.done_at is not None:
            raise DomainError(
                _("This return visit has already been recorded."), code="visit_recorded"
            )
        if row is None:
            row = ReturnVisit(
                case=locked,
                department_id=lead.department_id,
                reason=ReturnVisitReason.ROUTINE,
                evaluation=evaluation_for(locked),
                scheduled_for=timezone.localdate(done_at),
                created_by=actor,
                created_at=now,
            )
        row.done_at = done_at
        row.done_by = actor
        row.visitors = _text(record.visitors)[:100] or str(actor)
        row.method = record.method
        row.outcome = _text(record.outcome)
        row._history_user = actor  # type: ignore[attr-defined]
        row.save()
        _bump_version(locked)
        record_event(
            case=locked,
            kind="return_visit",
            actor=actor,
            at=now,
            message=_("Return visit (%(method)s): %(outcome)s")
            % {"method": ReturnVisitMethod(record.method).label, "outcome": row.outcome},
            data={"visit": row.pk},
        )
        if record.new_verdict is not None:
            verdict = record.new_verdict
            evaluation = Evaluation.objects.create(
                case=locked,
                reply=reply,
                department_id=reply.department_id,
                center_rating=verdict.center_rating,
                department_rating=verdict.department_rating,
                reasons=_text(verdict.reasons),
                channel=EvaluationChannel.RETURN_VISIT,
                recorded_by=actor,
                evaluated_at=done_at,
            )
            record_event(
                case=locked,
                kind="evaluated",
                actor=actor,
                at=now,
                message=_("Evaluation (%(channel)s): center %(center)s, department %(department)s")
                % {
                    "channel": EvaluationChannel.RETURN_VISIT.label,
                    "center": Rating(verdict.center_rating).label,
                    "department": Rating(verdict.department_rating).label,
                }
                + (
                    "\n"
                    + _(
                        "Earlier verdict (%(channel)s): center %(center)s, department %(department)s"
                    )
                    % {
                        "channel": EvaluationChannel(earlier.channel).label,
                        "center": Rating(earlier.center_rating).label,
                        "department": Rating(earlier.department_rating).label,
                    }
                    if earlier is not None
                    else ""
                ),
                data={
                    "evaluation": evaluation.pk,
                    "visit": row.pk,
                    "earlier": earlier.pk if earlier is not None else None,
                    "center": verdict.center_rating,
                    "department": verdict.department_rating,
                    "channel": EvaluationChannel.RETURN_VISIT.value,
                },
            )
    _sync(case, locked)
    return row


# --- closure, agreement, archive, reopening --------------------------------------------------------


def _closure_row(case: Case) -> CaseClosure:
    row, _created = CaseClosure.objects.select_for_update().get_or_create(case=case)
    return row


def _finish_lead(case: Case, actor: User) -> None:
    for assignment in Assignment.objects.select_for_update().filter(
        case=case, role=AssignmentRole.LEAD, state=AssignmentState.ACCEPTED
    ):
        assignment.state = AssignmentState.DONE
        assignment._history_user = actor  # type: ignore[attr-defined]
        assignment.save(update_fields=["state"])


def _assisting_done_guard(case: Case) -> None:
    waiting = open_assisting(case)
    if waiting:
        raise DomainError(
            _("Assisting departments have not finished their part: %(names)s.")
            % {"names": "、".join(a.department.name for a in waiting)},
            code="assisting_open",
        )


def close_case(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> CaseClosure:
    """Close a replied case (supervisor or archivist). Every assisting department's part must be
    done; the lead department's assignment is finished with it."""
    _require_center(actor, case)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        transition_case(
            actor=actor,
            case=locked,
            name="close",
            message=_text(note),
            guard=_assisting_done_guard,
            at=now,
        )
        locked.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
        _finish_lead(locked, actor)
        closure = _closure_row(locked)
        closure.closed_at = now
        closure.closed_by = actor
        closure.close_note = _text(note)
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
    _sync(case, locked)
    return closure


def close_by_agreement(
    *,
    actor: User,
    case: Case,
    kind: str,
    agreement: UploadedFile,
    note: str = "",
    expected_version: int | None = None,
) -> Reply:
    """Art 33: the parties reached a mediation or settlement agreement; the signed agreement is
    attached and the case is closed (the lead department's head)."""
    if kind not in AgreementKind.values:
        raise ValidationError({"kind": [_("Choose mediation or settlement.")]})
    if agreement is None:
        raise ValidationError({"agreement": [_("Attach the signed agreement.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        lead = _require_lead_member(actor, locked)
        try:
            attachment: Attachment = add_attachment(
                actor=actor, case=locked, kind=AttachmentKind.OTHER, upload=agreement
            )
        except ValidationError as exc:
            raise ValidationError({"agreement": exc.messages}) from exc
        transition_case(
            actor=actor,
            case=locked,
            name="close_by_agreement",
            message=_("%(kind)s attached: %(name)s")
            % {"kind": AgreementKind(kind).label, "name": attachment.original_name}
            + (f"\n{_text(note)}" if _text(note) else ""),
            guard=_assisting_done_guard,
            data={"attachment": attachment.pk, "kind": kind},
            at=now,
            changes={"outcome": str(AgreementKind(kind).label)[:200]},
        )
        locked.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
        meet_deadline(case=locked, kind=DeadlineKind.HANDLING, at=now)
        Reply.objects.filter(case=locked, superseded_at__isnull=True).exclude(
            status=ReplyStatus.DELIVERED
        ).update(superseded_at=now)
        reply = Reply.objects.create(
            case=locked,
            department_id=lead.department_id,
            request_summary=locked.request,
            facts_reasons=_text(note),
            status=ReplyStatus.DELIVERED,
            drafted_by=actor,
            drafted_at=now,
            approved_by=actor,
            approved_at=now,
            delivered_at=now,
            delivered_by=actor,
            delivery_method=DeliveryMethod.IN_PERSON,
            signed=True,
            mediated=True,
            agreement_kind=kind,
            agreement=attachment,
        )
        _finish_lead(locked, actor)
        closure = _closure_row(locked)
        closure.closed_at = now
        closure.closed_by = actor
        closure.close_note = _text(note)
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
    _sync(case, locked)
    return reply


def _next_archive_number(case: Case, at: datetime) -> str:
    year = timezone.localdate(at).year
    counter, _created = ArchiveCounter.objects.select_for_update().get_or_create(
        center=case.center, year=year
    )
    ArchiveCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{case.center.region_code}-{year}-归档-{counter.last:05d}"


def archive_needs_override(case: Case) -> bool:
    """Archiving a case answered in writing needs a satisfied or basically satisfied verdict
    (the seed: archive when solved and satisfied); a mediated or terminated case, or one never
    replied to in writing (not accepted, referred), does not."""
    if case.state == CaseState.TERMINATED:
        return False
    reply = current_reply(case)
    if reply is None or reply.mediated or reply.status != ReplyStatus.DELIVERED:
        return False
    return not is_satisfied(evaluation_for(case))


def archive_case(
    *,
    actor: User,
    case: Case,
    override_reason: str = "",
    expected_version: int | None = None,
) -> CaseClosure:
    """Archive a closed (or terminated, not accepted, referred...) case with an archive number.
    From then on the file is read-only. Without a satisfied or basically satisfied evaluation
    only a supervisor archives it, with a reason."""
    _require_center(actor, case)
    override_reason = _text(override_reason)
    now = timezone.now()

    def evaluation_guard(row: Case) -> None:
        if not archive_needs_override(row):
            return
        if not override_reason:
            raise DomainError(
                _(
                    "The petitioner is not satisfied (or has not evaluated the reply): archiving "
                    "needs a satisfied or basically satisfied evaluation, or a supervisor's "
                    "override with a reason."
                ),
                code="evaluation_required",
            )
        if not (actor.is_superuser or actor.has_role(Role.SUPERVISOR)):
            raise PermissionDenied(_("Only a supervisor can override the evaluation rule."))

    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise StaleState(
                _("The case was changed by someone else in the meantime; reload it and try again.")
            )
        needs_override = archive_needs_override(locked)
        closure = _closure_row(locked)
        number = closure.archive_number or _next_archive_number(locked, now)
        transition_case(
            actor=actor,
            case=locked,
            name="archive",
            message=_("Archived as %(number)s") % {"number": number}
            + (f"\n{override_reason}" if needs_override else ""),
            guard=evaluation_guard,
            data={"archive_number": number, "override": needs_override},
            at=now,
        )
        locked.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
        # Every clock still running stops: an archived file is nobody's work (windows included).
        for deadline in Deadline.objects.filter(case=locked, met_at__isnull=True):
            meet_deadline(
                case=locked, kind=deadline.kind, at=now, assignment_id=deadline.assignment_id
            )
        closure.archive_number = number
        closure.archived_at = now
        closure.archived_by = actor
        closure.archive_override_reason = override_reason if needs_override else ""
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
    _sync(case, locked)
    return closure


def reopen_case(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> CaseClosure:
    """A supervisor reopens an archived or closed file with a reason: it is handled again by its
    lead department (a new handling clock, a new reply), and writable again."""
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": [_("Say why the case is reopened.")]})
    _require_center(actor, case)
    now = timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise StaleState(
                _("The case was changed by someone else in the meantime; reload it and try again.")
            )

        def has_lead(row: Case) -> None:
            if lead_assignment(row) is None:
                raise DomainError(
                    _("The case has no lead department to handle it again."), code="no_lead"
                )

        transition_case(
            actor=actor,
            case=locked,
            name="reopen",
            message=reason,
            guard=has_lead,
            at=now,
            changes={"closed_at": None},
        )
        locked.refresh_from_db(fields=["state", "state_changed_at", "version", "closed_at"])
        for assignment in Assignment.objects.select_for_update().filter(
            case=locked, role=AssignmentRole.LEAD, state=AssignmentState.DONE
        ):
            assignment.state = AssignmentState.ACCEPTED
            assignment._history_user = actor  # type: ignore[attr-defined]
            assignment.save(update_fields=["state"])
        open_deadline(case=locked, kind=DeadlineKind.HANDLING, start=now)
        closure = _closure_row(locked)
        closure.archived_at = None
        closure.archived_by = None
        closure.reopened_at = now
        closure.reopened_by = actor
        closure.reopen_reason = reason
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
    _sync(case, locked)
    return closure


# --- re-examined old cases ----------------------------------------------------------------------------


def record_reexamination(
    *,
    actor: User,
    case: Case,
    outcome: str,
    corrections: Sequence[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> CaseClosure:
    """The outcome of re-examining an old case (wholly wrong and corrected, partly wrong and
    partly corrected, right and upheld) and the corrections made."""
    errors: dict[str, list[str]] = {}
    if outcome not in ReexaminationOutcome.values:
        errors["outcome"] = [_("Choose the outcome of the re-examination.")]
    wanted = list(dict.fromkeys(corrections))
    if any(c not in Correction.values for c in wanted):
        errors["corrections"] = [_("Unknown correction.")]
    if outcome == ReexaminationOutcome.RIGHT_UPHELD and wanted:
        errors["corrections"] = [_("A decision upheld as right needs no correction.")]
    if (
        outcome
        in (
            ReexaminationOutcome.WHOLLY_WRONG_CORRECTED,
            ReexaminationOutcome.PARTLY_WRONG_PARTLY_CORRECTED,
        )
        and not wanted
    ):
        errors["corrections"] = [_("Say which correction was made.")]
    if errors:
        raise ValidationError(errors)
    _require_roles(
        actor,
        (Role.SUPERVISOR, Role.HEAD),
        _("The re-examination outcome is recorded by a supervisor or the department head."),
    )
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        if actor.has_role(Role.HEAD) and not actor.has_role(Role.SUPERVISOR):
            _require_lead_member(actor, locked)
        else:
            _require_center(actor, locked)
        closure = _closure_row(locked)
        closure.reexamination_outcome = outcome
        closure.corrections = wanted
        closure.correction_note = _text(note)
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
        _bump_version(locked)
        labels = "、".join(str(Correction(c).label) for c in wanted)
        record_event(
            case=locked,
            kind="reexamination",
            actor=actor,
            at=now,
            message=str(ReexaminationOutcome(outcome).label)
            + (f"：{labels}" if labels else "")
            + (f"\n{closure.correction_note}" if closure.correction_note else ""),
            data={"outcome": outcome, "corrections": wanted},
        )
    _sync(case, locked)
    return closure


# Re-exported for callers that only need the open-assisting check (appeals).
__all__ = [
    "REVIEW_WINDOW_KIND",
    "Delivery",
    "LinkError",
    "ReplyText",
    "Verdict",
    "VisitRecord",
    "approve_reply",
    "archive_case",
    "close_by_agreement",
    "close_case",
    "deliver_reply",
    "evaluate_by_link",
    "record_evaluation",
    "record_reexamination",
    "record_return_visit",
    "reissue_evaluation_link",
    "reopen_case",
    "require_not_archived",
    "save_reply_draft",
    "schedule_return_visit",
    "send_back_reply",
]
