"""The written reply (信访处理意见书, Art 32): drafting, approval, sending back, delivery and the
evaluation link.

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import meet_deadline, open_deadline
from clocks.models import DeadlineKind
from core.errors import DomainError, PermissionDenied
from core.models import User
from core.roles import Role
from petitions.hooks import notify_petitioner
from petitions.models import Case
from petitions.services import (
    record_event,
    transition_case,
)
from petitions.states import CaseState

from .. import notify
from ..models import (
    DeliveryMethod,
    EvaluationLink,
    Reply,
    ReplyCounter,
    ReplyDecision,
    ReplyStatus,
)
from ..selectors import (
    evaluation_due_at,
    first_evaluation,
    lead_assignment,
    merged_contributions,
)
from ..tokens import evaluation_path, hash_token, new_salt, token_for
from .common import (
    REVIEW_WINDOW_KIND,
    _bump_version,
    _current_reply_locked,
    _delivered_reply_locked,
    _lock_case,
    _require_lead_member,
    _require_roles,
    _sync,
    _text,
)

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
