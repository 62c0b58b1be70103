"""The petitioner's evaluation (满意 / 基本满意 / 不满意): at the center or by link.

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.calendar import add_working_days
from core.errors import DomainError
from core.models import User
from petitions.models import Case
from petitions.services import (
    record_event,
)
from petitions.states import CaseState

from .. import notify
from ..models import (
    Evaluation,
    EvaluationChannel,
    EvaluationLink,
    Rating,
    Reply,
    ReplyStatus,
    ReturnVisit,
    ReturnVisitReason,
)
from ..selectors import (
    evaluation_due_at,
    first_evaluation,
)
from ..tokens import hash_token
from .common import (
    CENTER_EVALUATION_ROLES,
    RETURN_VISIT_WORKING_DAYS,
    _bump_version,
    _delivered_reply_locked,
    _lock_case,
    _require_center,
    _require_roles,
    _sync,
    _text,
)

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
