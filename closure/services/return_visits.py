"""Return visits (回访): scheduled after a dissatisfied verdict, recorded.

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDenied
from core.models import User
from petitions.models import Case, CaseEvent
from petitions.selectors import can_act_on
from petitions.services import (
    record_event,
)

from ..models import (
    Evaluation,
    EvaluationChannel,
    Rating,
    Reply,
    ReplyStatus,
    ReturnVisit,
    ReturnVisitMethod,
    ReturnVisitReason,
)
from ..selectors import (
    current_reply,
    evaluation_for,
    lead_assignment,
)
from .common import (
    CENTER_EVALUATION_ROLES,
    DOUBLE_SUBMIT_WINDOW,
    RETURN_VISIT_HORIZON,
    _bump_version,
    _lock_case,
    _require_center,
    _require_lead_member,
    _require_roles,
    _sync,
    _text,
)
from .evaluations import Verdict, _validate_verdict

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
