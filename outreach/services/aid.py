"""Judicial aid (司法救助, issue 20 §4; DOMAIN.md §8): apply, complete, check eligibility, decide,
approve, pay.

The life of an application::

    applied ──mark_complete──▶ complete ──decide_aid(grant ≤ threshold)──▶ granted ──pay_aid──▶ paid
                                  │      ──decide_aid(grant > threshold)──▶ awaiting_leader
                                  │                                          │ approve_aid(yes) ▶ granted
                                  │                                          │ approve_aid(no)  ▶ refused
                                  └──────decide_aid(refuse)──────────────▶ refused

Who does what:
- applies, completes the materials: the case's center staff (reception, triage) or the officers
  and head of a department that handled the case: the roles ``petitions.services.add_attachment``
  accepts, since the evidence files are the case's attachments (supervisors may complete and
  answer the checklist too, without files);
- answers the eligibility checklist (data: EligibilityQuestion; a reason for every answer): the
  same, and the deciding organ's staff;
- decides: the head (Role.HEAD) of the deciding organ, which is a department that handled the
  case (an assignment on it), by default the lead department;
- approves a grant above the year's ``leader_threshold``: a leader of the organ's center or of
  a center above it;
- pays: the deciding organ's officers or head, with the voucher as an attachment.

Amounts. A grant is more than 0, at most the cap of the case's province for the year of the
decision (AidCapRule: ``months`` × the average monthly wage; the 2014 opinions' default is 36
months), and at most the amount requested: the application is the applicant's claim, and an
organ that finds a greater need says so and the applicant asks again (a new application), so
that what was granted never exceeds what the applicant signed for. No rule for the province and
year: 409, and the message asks the administrator to enter the wage figure. The cap applied is
kept on the application (``cap_amount``). A payment is at most the amount granted.

Clocks (clocks.deadlines, rules as data): AID_DECISION opens when the materials are complete
and is met when the decision is final (the head's refusal or grant within the threshold, or the
leader's approval or refusal); AID_PAYMENT opens at that final grant and is met at payment. Both
are duties, so the clocks sweep warns and escalates them like any other. A clock is per case
(one running clock per case and kind): with two applications on one case, it runs until the
last of them is decided (paid), and its due date is the earlier one's.

Aid is support: nothing here, no field and no condition, ties it to giving up a petition or a
review (tests assert it).

Locks: the case row first, then the application. Every write bumps the application's
``version`` (``expected_version`` is that version; the application form carries the case's
version), writes history with the actor, a case event, outbox notifications for whoever acts
next and, for the results, a text message to the applicant (outreach.services.messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clocks.deadlines import CHINA_TZ, meet_deadline, open_deadline
from clocks.models import DeadlineKind, NotificationKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import Department, User
from core.orgcache import center_by_pk
from core.roles import Role
from petitions.models import AttachmentKind, Case, CasePetitioner, Petitioner
from petitions.selectors import can_act_on, cases_visible_to
from petitions.services import add_attachment, record_event
from routing.models import Assignment, AssignmentRole
from supervision.services.common import _notify

from ..models import (
    AidApplication,
    AidCapRule,
    AidCircumstance,
    AidState,
    EligibilityAnswer,
    EligibilityCheck,
    EligibilityQuestion,
    MessageKind,
)

__all__ = [
    "APPLYING_ROLES",
    "EVENT_LABELS",
    "answer_eligibility",
    "applicant_choices",
    "apply_for_aid",
    "approve_aid",
    "cap_rule_for",
    "decide_aid",
    "default_department",
    "deciding_departments",
    "may_approve",
    "may_decide",
    "may_pay",
    "may_prepare",
    "mark_complete",
    "pay_aid",
    "province_code",
]

# The roles that may apply: petitions.services.add_attachment's (the evidence goes on the case).
APPLYING_ROLES = frozenset({Role.RECEPTION, Role.TRIAGE, Role.OFFICER, Role.HEAD})
# Center staff who prepare an application (complete it, answer the checklist).
PREPARING_CENTER_ROLES = frozenset({Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR})
MAX_AMOUNT = Decimal("9999999999.99")
# The states before a final decision (the decision clock runs while one of them is complete).
UNDECIDED = (AidState.COMPLETE, AidState.AWAITING_LEADER)

# The text messages' result words: the message is the center's text to the petitioner, in
# Chinese whatever the staff member's language (as routing.notices' written forms).
RESULT_TEXT = {
    AidState.GRANTED: "经审查决定给予司法救助金{amount}元，将依规发放",
    AidState.REFUSED: "经审查决定不予救助，书面告知书将送达您，如有疑问可向决定机关咨询",
    AidState.PAID: "司法救助金{amount}元已于{day}发放",
}


# --- reads the services and pages share -----------------------------------------------------------


def province_code(case: Case) -> str:
    """The case's province: the first two digits of its center's region code + "0000"."""
    center = center_by_pk(case.center_id) or case.center
    return f"{center.region_code[:2]}0000"


def cap_rule_for(case: Case, year: int) -> AidCapRule | None:
    return AidCapRule.objects.filter(province_region_code=province_code(case), year=year).first()


def deciding_departments(case: Case) -> list[Department]:
    """The departments that handled the case (an assignment on it, in any state), lead first."""
    rows = (
        Assignment.objects.filter(case_id=case.pk)
        .select_related("department__center")
        .order_by("-assigned_at", "-pk")
    )
    seen: dict[int, Department] = {}
    for row in sorted(rows, key=lambda a: a.role != AssignmentRole.LEAD):
        seen.setdefault(row.department_id, row.department)
    return list(seen.values())


def default_department(case: Case) -> Department | None:
    """The lead department (the latest lead assignment, whatever its state: an old case's too)."""
    lead = (
        Assignment.objects.filter(case_id=case.pk, role=AssignmentRole.LEAD)
        .select_related("department__center")
        .order_by("-assigned_at", "-pk")
        .first()
    )
    return lead.department if lead is not None else None


def applicant_choices(case: Case) -> list[Petitioner]:
    """The petitioners of the case (main petitioner first)."""
    links = CasePetitioner.objects.filter(case_id=case.pk).select_related("petitioner")
    people = [link.petitioner for link in sorted(links, key=lambda link: link.role != "main")]
    if not any(p.pk == case.main_petitioner_id for p in people):
        people.insert(0, case.main_petitioner)
    return people


def _handled_by(case: Case, department_id: int | None) -> bool:
    return department_id is not None and (
        Assignment.objects.filter(case_id=case.pk, department_id=department_id).exists()
    )


def _is_center_staff(user: User, case: Case, roles: Iterable[str]) -> bool:
    return bool(user.role_codes & frozenset(roles)) and can_act_on(user, case)


def may_apply(user: User, case: Case) -> bool:
    if user.is_superuser:
        return True
    if _is_center_staff(user, case, APPLYING_ROLES & {Role.RECEPTION, Role.TRIAGE}):
        return True
    return user.has_role(Role.OFFICER, Role.HEAD) and _handled_by(case, user.department_id)


def may_prepare(user: User, application: AidApplication) -> bool:
    """Completes the materials and answers the checklist."""
    case = application.case
    if user.is_superuser or _is_center_staff(user, case, PREPARING_CENTER_ROLES):
        return True
    return user.has_role(Role.OFFICER, Role.HEAD) and (
        user.department_id == application.department_id or _handled_by(case, user.department_id)
    )


def may_decide(user: User, application: AidApplication) -> bool:
    return user.is_superuser or (
        user.has_role(Role.HEAD) and user.department_id == application.department_id
    )


def may_approve(user: User, application: AidApplication) -> bool:
    """A leader of the deciding organ's center or of a center above it."""
    if user.is_superuser:
        return True
    if not user.has_role(Role.LEADER) or user.center_id is None:
        return False
    mine = center_by_pk(user.center_id)
    theirs = center_by_pk(application.department.center_id)
    return mine is not None and theirs is not None and theirs.path.startswith(mine.path)


def may_pay(user: User, application: AidApplication) -> bool:
    return user.is_superuser or (
        user.has_role(Role.OFFICER, Role.HEAD) and user.department_id == application.department_id
    )


# --- helpers ----------------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _amount(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    """A positive amount in yuan with at most two decimals, or a field error."""
    if value in (None, ""):
        errors[field] = [_("Enter an amount in yuan.")]
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        errors[field] = [_("Enter an amount in yuan.")]
        return None
    if not amount.is_finite() or amount <= 0:
        errors[field] = [_("The amount must be more than 0.")]
        return None
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        errors[field] = [_("Enter an amount in yuan with at most two decimals.")]
        return None
    return amount.quantize(Decimal("0.01"))


def _lock(application: AidApplication, expected_version: int | None) -> tuple[Case, AidApplication]:
    """The case row, then the application, locked (the lock order of every write here)."""
    case = Case.objects.select_for_update().get(pk=application.case_id)
    locked = (
        AidApplication.objects.select_for_update(of=("self",))
        .select_related("department__center", "applicant")
        .get(pk=application.pk)
    )
    locked.case = case
    if expected_version is not None and locked.version != expected_version:
        raise StaleState(
            _("This record was changed by someone else in the meantime; reload it and try again.")
        )
    return case, locked


def _require_state(application: AidApplication, *states: str) -> None:
    if application.state not in states:
        raise DomainError(
            _("This is not possible while the application is “%(state)s”.")
            % {"state": application.get_state_display()},
            code="aid_state",
        )


def _save(application: AidApplication, actor: User, fields: Sequence[str]) -> None:
    application.version += 1
    application._history_user = actor  # type: ignore[attr-defined]
    application.save(update_fields=[*fields, "version"])


def _event(case: Case, kind: str, actor: User, application: AidApplication, **data: Any) -> None:
    record_event(
        case=case,
        kind=kind,
        actor=actor,
        message=_("Judicial aid application no. %(id)s") % {"id": application.pk},
        data={"aid": application.pk, "state": application.state, **data},
    )


def _department_head_audience(department: Department) -> list[dict[str, Any]]:
    return [
        {
            "audience_center_id": department.center_id,
            "audience_department_id": department.pk,
            "audience_role": Role.HEAD,
        }
    ]


def _department_audience(department: Department) -> list[dict[str, Any]]:
    return [
        {
            "audience_center_id": department.center_id,
            "audience_department_id": department.pk,
            "audience_role": role,
        }
        for role in (Role.OFFICER, Role.HEAD)
    ]


def _leader_audience(department: Department) -> list[dict[str, Any]]:
    return [{"audience_center_id": department.center_id, "audience_role": Role.LEADER}]


def _notify_event(case: Case, kind: str, audience: list[dict[str, Any]], at: datetime) -> None:
    # The body is the event kind: the inbox and the e-mail show its label in the reader's language.
    _notify(case, NotificationKind.EVENT, kind, audience, at=at)


def _message_applicant(application: AidApplication, state: str) -> None:
    """The result to the applicant by text message, in this transaction (sent after commit).
    Once per application and state (dedupe key)."""
    try:
        from outreach.services.messages import queue_message
    except ImportError:  # pragma: no cover - the messages part not installed
        return
    money = application.paid_amount if state == AidState.PAID else application.amount
    result = RESULT_TEXT[AidState(state)].format(
        amount=_yuan(money) if money is not None else "",
        day=f"{application.paid_on:%Y年%m月%d日}" if application.paid_on else "",
    )
    queue_message(
        case=application.case,
        petitioner=application.applicant,
        kind=MessageKind.AID_RESULT,
        context={"result": result},
        dedupe_key=f"aid:{application.pk}:{state}",
    )


def _meet_clock_unless_others(
    case: Case, application: AidApplication, kind: str, waiting: Sequence[str], at: datetime
) -> None:
    """Meet the case's ``kind`` clock, unless another application on the case still waits."""
    others = (
        AidApplication.objects.filter(case_id=case.pk, state__in=waiting)
        .exclude(pk=application.pk)
        .exists()
    )
    if not others:
        meet_deadline(case=case, kind=kind, at=at)


def _attach(actor: User, case: Case, files: Sequence[UploadedFile], kind: str) -> list[int]:
    return [add_attachment(actor=actor, case=case, kind=kind, upload=f).pk for f in files]


# --- apply ------------------------------------------------------------------------------------------


def apply_for_aid(
    *,
    actor: User,
    case: Case,
    applicant: Petitioner | int | None,
    circumstance: str,
    circumstances: str,
    requested_amount: Any,
    department: Department | int | None = None,
    expected_version: int | None = None,
    submission_key: str = "",
    files: Sequence[UploadedFile] = (),
) -> AidApplication:
    """Record an application on ``case`` (``expected_version``: the case's). The deciding organ
    defaults to the lead department; it must be a department that handled the case. Evidence
    files become the case's attachments (kind evidence); the event lists them. A resubmitted
    form (same ``submission_key``) returns the application recorded the first time."""
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise PermissionDenied(_("You may not apply for judicial aid on this case."))
    if not actor.has_role(*APPLYING_ROLES) and not actor.is_superuser:
        raise PermissionDenied(
            _("Center reception and triage staff or the handling department apply for aid.")
        )
    if not may_apply(actor, case):
        raise PermissionDenied(_("You may not apply for judicial aid on this case."))
    errors: dict[str, list[str]] = {}
    applicant_id = applicant.pk if isinstance(applicant, Petitioner) else applicant
    people = {p.pk: p for p in applicant_choices(case)}
    person = people.get(applicant_id) if applicant_id is not None else None
    if person is None:
        errors["applicant"] = [_("Choose a petitioner of this case.")]
    if circumstance not in AidCircumstance.values:
        errors["circumstance"] = [_("Choose the circumstances.")]
    circumstances = (circumstances or "").strip()
    if not circumstances:
        errors["circumstances"] = [_("Describe the circumstances and the hardship.")]
    amount = _amount(requested_amount, "requested_amount", errors)
    department_id = department.pk if isinstance(department, Department) else department
    organs = {d.pk: d for d in deciding_departments(case)}
    if department_id is None:
        lead = default_department(case)
        department_id = lead.pk if lead is not None else None
    organ = organs.get(department_id) if department_id is not None else None
    if organ is None:
        errors["department"] = [
            _("The deciding organ is a department that handled the case (an assignment on it).")
        ]
    if len(submission_key) > 64:
        errors["submission_key"] = [_("The submission key is too long.")]
    if errors:
        raise ValidationError(errors)
    assert person is not None and organ is not None and amount is not None
    now = _now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if submission_key:
            done = AidApplication.objects.filter(case=locked, submission_key=submission_key).first()
            if done is not None:
                return done
        if expected_version is not None and locked.version != expected_version:
            raise StaleState(
                _("The case was changed by someone else in the meantime; reload it and try again.")
            )
        application = AidApplication(
            case=locked,
            applicant=person,
            circumstance=circumstance,
            circumstances=circumstances,
            department=organ,
            requested_amount=amount,
            applied_at=now,
            created_by=actor,
            submission_key=submission_key,
        )
        application._history_user = actor  # type: ignore[attr-defined]
        application.save()
        attachments = _attach(actor, locked, files, AttachmentKind.EVIDENCE)
        _event(locked, "aid_applied", actor, application, attachments=attachments)
        _notify_event(locked, "aid_applied", _department_audience(organ), now)
    return application


# --- the materials complete: the decision clock starts ---------------------------------------------


def mark_complete(
    *,
    actor: User,
    application: AidApplication,
    expected_version: int | None = None,
    files: Sequence[UploadedFile] = (),
) -> AidApplication:
    """The materials are complete: state complete, and the AID_DECISION clock starts (10 working
    days by default). Files added here join the application's evidence. The deciding organ's
    head is told."""
    if not may_prepare(actor, application):
        raise PermissionDenied(_("You may not complete this application."))
    now = _now()
    with transaction.atomic():
        case, locked = _lock(application, expected_version)
        _require_state(locked, AidState.APPLIED)
        attachments = _attach(actor, case, files, AttachmentKind.EVIDENCE)
        locked.state = AidState.COMPLETE
        locked.completed_at = now
        _save(locked, actor, ["state", "completed_at"])
        deadline = open_deadline(case=case, kind=DeadlineKind.AID_DECISION, start=now)
        _event(
            case,
            "aid_complete",
            actor,
            locked,
            attachments=attachments,
            due_at=deadline.due_at.isoformat(),
        )
        _notify_event(case, "aid_complete", _department_head_audience(locked.department), now)
    return locked


# --- eligibility ------------------------------------------------------------------------------------


def answer_eligibility(
    *,
    actor: User,
    application: AidApplication,
    answers: Sequence[Mapping[str, Any]],
    expected_version: int | None = None,
) -> list[EligibilityCheck]:
    """Answer checklist items: ``[{"question": id, "answer": yes/no/unknown, "reason": text}]``,
    a reason for each answer. An item answered again is replaced (history keeps the first)."""
    if not may_prepare(actor, application) and not may_decide(actor, application):
        raise PermissionDenied(_("You may not answer this application's checklist."))
    questions = {q.pk: q for q in EligibilityQuestion.objects.filter(is_active=True)}
    problems: list[str] = []
    clean: list[tuple[EligibilityQuestion, str, str]] = []
    if not answers:
        problems.append(_("Answer at least one question."))
    seen: set[int] = set()
    for n, row in enumerate(answers, start=1):
        raw = row.get("question")
        qid = raw.pk if isinstance(raw, EligibilityQuestion) else raw
        try:
            question = questions.get(int(qid)) if qid not in (None, "") else None
        except (TypeError, ValueError):
            question = None
        answer = row.get("answer")
        reason = str(row.get("reason") or "").strip()
        if question is None:
            problems.append(_("Item %(n)d: no such question on the checklist.") % {"n": n})
            continue
        if question.pk in seen:
            problems.append(_("Item %(n)d: the question is answered twice.") % {"n": n})
            continue
        seen.add(question.pk)
        if answer not in EligibilityAnswer.values:
            problems.append(_("Item %(n)d: answer yes, no or not established.") % {"n": n})
        if not reason:
            problems.append(_("Item %(n)d: give the reason for the answer.") % {"n": n})
        clean.append((question, str(answer), reason))
    if problems:
        raise ValidationError({"answers": problems})
    now = _now()
    with transaction.atomic():
        case, locked = _lock(application, expected_version)
        _require_state(locked, AidState.APPLIED, AidState.COMPLETE)
        existing = {c.question_id: c for c in EligibilityCheck.objects.filter(application=locked)}
        saved: list[EligibilityCheck] = []
        for question, answer, reason in clean:
            check = existing.get(question.pk) or EligibilityCheck(
                application=locked, question=question
            )
            check.answer, check.reason = answer, reason
            check.answered_by, check.answered_at = actor, now
            check._history_user = actor  # type: ignore[attr-defined]
            check.save()
            saved.append(check)
        _save(locked, actor, [])
        _event(case, "aid_eligibility", actor, locked, questions=[q.pk for q, _a, _r in clean])
    return saved


def unanswered_questions(application: AidApplication) -> list[EligibilityQuestion]:
    answered = EligibilityCheck.objects.filter(application=application).values("question_id")
    return list(EligibilityQuestion.objects.filter(is_active=True).exclude(pk__in=answered))


# --- decide -----------------------------------------------------------------------------------------


def _final_grant(case: Case, application: AidApplication, now: datetime) -> None:
    """The grant is final: the decision clock met, the payment clock started, the applicant told."""
    _meet_clock_unless_others(case, application, DeadlineKind.AID_DECISION, UNDECIDED, now)
    open_deadline(case=case, kind=DeadlineKind.AID_PAYMENT, start=now)
    _message_applicant(application, AidState.GRANTED)
    _notify_event(case, "aid_granted", _department_audience(application.department), now)


def _final_refusal(case: Case, application: AidApplication, now: datetime) -> None:
    _meet_clock_unless_others(case, application, DeadlineKind.AID_DECISION, UNDECIDED, now)
    _message_applicant(application, AidState.REFUSED)


def decide_aid(
    *,
    actor: User,
    application: AidApplication,
    decision: str,
    amount: Any = None,
    reasons: str = "",
    expected_version: int | None = None,
) -> AidApplication:
    """The deciding organ's head decides a complete application: ``grant`` an amount (more than
    0, at most the amount requested and the cap of the year's rule; above the rule's threshold a
    leader approves it) or ``refuse`` it with reasons (a written notice to the applicant)."""
    if not may_decide(actor, application):
        raise PermissionDenied(_("Only the head of the deciding organ decides on judicial aid."))
    errors: dict[str, list[str]] = {}
    reasons = (reasons or "").strip()
    value: Decimal | None = None
    if decision == "grant":
        value = _amount(amount, "amount", errors)
    elif decision == "refuse":
        if not reasons:
            errors["reasons"] = [_("A refusal gives its reasons.")]
    else:
        errors["decision"] = [_("Grant or refuse.")]
    if errors:
        raise ValidationError(errors)
    now = _now()
    with transaction.atomic():
        case, locked = _lock(application, expected_version)
        if locked.state == AidState.APPLIED:
            raise DomainError(
                _("The materials are not complete yet: mark them complete first."),
                code="aid_incomplete",
            )
        _require_state(locked, AidState.COMPLETE)
        locked.decided_by, locked.decided_at, locked.reasons = actor, now, reasons
        fields = ["state", "decided_by", "decided_at", "reasons", "amount", "cap_amount"]
        if decision == "refuse":
            locked.state = AidState.REFUSED
            locked.amount = None
            _save(locked, actor, fields)
            _event(case, "aid_refused", actor, locked)
            _final_refusal(case, locked, now)
            return locked
        assert value is not None
        if unanswered_questions(locked):
            raise DomainError(
                _("Answer every question of the eligibility checklist before granting aid."),
                code="aid_checklist",
            )
        year = now.astimezone(CHINA_TZ).year
        rule = cap_rule_for(case, year)
        if rule is None:
            raise DomainError(
                _(
                    "No judicial aid cap is set for province %(province)s in %(year)d: an "
                    "administrator must enter the average monthly wage figure first."
                )
                % {"province": province_code(case), "year": year},
                code="aid_cap_missing",
            )
        if value > locked.requested_amount:
            raise ValidationError(
                {
                    "amount": [
                        _("At most the amount requested (%(requested)s yuan).")
                        % {"requested": _yuan(locked.requested_amount)}
                    ]
                }
            )
        if value > rule.cap:
            raise ValidationError(
                {
                    "amount": [
                        _(
                            "At most the cap of %(cap)s yuan (%(months)d months × %(wage)s "
                            "yuan, the year's rule)."
                        )
                        % {
                            "cap": _yuan(rule.cap),
                            "months": rule.months,
                            "wage": _yuan(rule.average_monthly_wage),
                        }
                    ]
                }
            )
        locked.amount, locked.cap_amount = value, rule.cap
        if value > rule.leader_threshold:
            locked.state = AidState.AWAITING_LEADER
            _save(locked, actor, fields)
            _event(case, "aid_awaiting_leader", actor, locked, amount=str(value))
            _notify_event(case, "aid_awaiting_leader", _leader_audience(locked.department), now)
            return locked
        locked.state = AidState.GRANTED
        _save(locked, actor, fields)
        _event(case, "aid_granted", actor, locked, amount=str(value))
        _final_grant(case, locked, now)
    return locked


def approve_aid(
    *,
    actor: User,
    application: AidApplication,
    approve: bool,
    reasons: str = "",
    expected_version: int | None = None,
) -> AidApplication:
    """A leader approves a grant above the threshold (granted: the payment clock starts) or
    refuses it with reasons (refused: the written notice gives the leader's reasons)."""
    if not may_approve(actor, application):
        raise PermissionDenied(
            _("Only a leader of the deciding organ's center or above approves this grant.")
        )
    reasons = (reasons or "").strip()
    if not approve and not reasons:
        raise ValidationError({"reasons": [_("A refusal gives its reasons.")]})
    now = _now()
    with transaction.atomic():
        case, locked = _lock(application, expected_version)
        _require_state(locked, AidState.AWAITING_LEADER)
        locked.approved_by, locked.approved_at = actor, now
        fields = ["state", "approved_by", "approved_at"]
        if approve:
            locked.state = AidState.GRANTED
            _save(locked, actor, fields)
            _event(case, "aid_approved", actor, locked, amount=str(locked.amount))
            _final_grant(case, locked, now)
            return locked
        locked.state = AidState.REFUSED
        locked.reasons = reasons
        _save(locked, actor, [*fields, "reasons"])
        _event(case, "aid_refused", actor, locked, by_leader=True)
        _final_refusal(case, locked, now)
    return locked


# --- pay --------------------------------------------------------------------------------------------


def pay_aid(
    *,
    actor: User,
    application: AidApplication,
    paid_on: date | None,
    method: str,
    amount: Any,
    voucher: UploadedFile | None,
    expected_version: int | None = None,
) -> AidApplication:
    """Record the payment (date, method, amount at most the grant, the voucher as an attachment):
    paid, and the payment clock met."""
    if not may_pay(actor, application):
        raise PermissionDenied(_("The deciding organ's staff record the payment."))
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "amount", errors)
    method = (method or "").strip()
    if not method:
        errors["method"] = [_("Say how it was paid (bank transfer, cash...).")]
    elif len(method) > 40:
        errors["method"] = [_("At most 40 characters.")]
    if paid_on is None:
        errors["paid_on"] = [_("Enter the date of payment.")]
    elif paid_on > _today():
        errors["paid_on"] = [_("The date of payment cannot be in the future.")]
    if voucher is None:
        errors["voucher"] = [_("Attach the payment voucher.")]
    if errors:
        raise ValidationError(errors)
    assert value is not None and paid_on is not None and voucher is not None
    now = _now()
    with transaction.atomic():
        case, locked = _lock(application, expected_version)
        _require_state(locked, AidState.GRANTED)
        assert locked.amount is not None
        if value > locked.amount:
            raise ValidationError(
                {
                    "amount": [
                        _("At most the amount granted (%(amount)s yuan).")
                        % {"amount": _yuan(locked.amount)}
                    ]
                }
            )
        decided = (locked.approved_at or locked.decided_at or now).astimezone(CHINA_TZ).date()
        if paid_on < decided:
            raise ValidationError(
                {"paid_on": [_("The date of payment cannot be before the decision.")]}
            )
        attachment = add_attachment(
            actor=actor, case=case, kind=AttachmentKind.OTHER, upload=voucher
        )
        locked.state = AidState.PAID
        locked.paid_on, locked.payment_method, locked.paid_amount = paid_on, method, value
        locked.voucher = attachment
        _save(locked, actor, ["state", "paid_on", "payment_method", "paid_amount", "voucher"])
        _event(case, "aid_paid", actor, locked, amount=str(value), voucher=attachment.pk)
        _meet_clock_unless_others(case, locked, DeadlineKind.AID_PAYMENT, [AidState.GRANTED], now)
        _message_applicant(locked, AidState.PAID)
    return locked


# The event kinds this module writes, with their labels (registered by outreach.apps).
EVENT_LABELS = {
    "aid_applied": gettext_lazy("Judicial aid applied for"),
    "aid_complete": gettext_lazy("Judicial aid materials complete"),
    "aid_eligibility": gettext_lazy("Judicial aid eligibility checked"),
    "aid_awaiting_leader": gettext_lazy("Judicial aid granted, awaiting the leader"),
    "aid_granted": gettext_lazy("Judicial aid granted"),
    "aid_approved": gettext_lazy("Judicial aid approved by the leader"),
    "aid_refused": gettext_lazy("Judicial aid refused"),
    "aid_paid": gettext_lazy("Judicial aid paid"),
}
