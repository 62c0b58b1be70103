"""Screening (受理), assignment (交办), transfer (转办) and the receiving side (DOMAIN.md §4).

Each function is the one write path for its action: role, state and guards are checked on the
locked case row (petitions.services.transition_case), history and a CaseEvent are written in the
same transaction, and notices are frozen as WrittenNotice rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import CHINA_TZ, compute_due, meet_deadline, open_deadline, rule_for
from clocks.models import Deadline, DeadlineKind
from core.errors import DomainError, PermissionDenied
from core.models import Center, Department, User
from core.roles import Role
from petitions.hooks import notify_petitioner
from petitions.models import Case
from petitions.selectors import can_act_on
from petitions.services import record_event, transition_case
from petitions.states import CaseState

from .models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRole,
    AssignmentState,
    NoticeKind,
    ProgressNote,
    RoutingRule,
    Transfer,
    WrittenNotice,
)
from .notices import render_notice


@dataclass(frozen=True)
class DepartmentDue:
    department: Department
    due_at: datetime


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({field: _("A reason is required.")})
    return reason


def _require_own_center(actor: User, case: Case) -> None:
    if not can_act_on(actor, case):
        raise PermissionDenied(_("This case belongs to another center; you can only read it."))


def _issue_notice(
    *, case: Case, kind: str, actor: User, context: dict[str, str], at: datetime
) -> WrittenNotice:
    title, body, issuer = render_notice(case=case, kind=kind, context=context, at=at)
    serial = WrittenNotice.objects.filter(case=case).count() + 1
    return WrittenNotice.objects.create(
        case=case,
        kind=kind,
        number=f"{case.number}-{serial:02d}",
        title=title,
        body=body,
        issuer=issuer,
        issued_at=at,
        issued_by=actor,
    )


def _meet_screening(case: Case, at: datetime) -> None:
    meet_deadline(case=case, kind=DeadlineKind.SCREENING, at=at)


# --- screening decisions (Art 22, within 15 days) ----------------------------------------------


def screening_flags(case: Case) -> list[str]:
    """What triage must see before deciding (Art 19; Art 35-37 不再受理)."""
    flags: list[str] = []
    petitioner_ids = list(case.case_petitioners.values_list("petitioner_id", flat=True))
    others = (
        Case.objects.filter(case_petitioners__petitioner_id__in=petitioner_ids)
        .exclude(pk=case.pk)
        .distinct()
    )
    same_matter = others.filter(category_id=case.category_id)
    if case.legal_case_number:
        same_matter = others.filter(
            Q(category_id=case.category_id) | Q(legal_case_number=case.legal_case_number)
        )
    states = set(same_matter.values_list("state", flat=True))
    if states & {
        CaseState.HANDLING,
        CaseState.SIGNED,
        CaseState.ASSIGNED,
        CaseState.REPLIED,
        CaseState.REVIEW,
        CaseState.RE_REVIEW,
    }:
        flags.append(_("The same matter is already being handled in another case (Art 19)."))
    if states & {CaseState.TERMINATED}:
        flags.append(
            _("The same matter was lawfully terminated: not to be accepted again (Art 37).")
        )
    if same_matter.filter(state=CaseState.CLOSED, events__kind="decide_re_review").exists():
        flags.append(
            _("The same matter was already re-reviewed: not to be accepted again (Art 36).")
        )
    return flags


def _decide_screening(
    *,
    actor: User,
    case: Case,
    transition: str,
    notice_kind: str,
    message: str,
    context: dict[str, str],
    changes: dict[str, str],
    expected_version: int | None,
) -> WrittenNotice:
    """A screening decision that ends the center's handling (not accepted, referred out, routed
    into legal procedure): the transition, the screening clock met, and the written notice, in
    one transaction."""
    _require_own_center(actor, case)
    now = timezone.now()
    with transaction.atomic():
        locked = transition_case(
            actor=actor,
            case=case,
            name=transition,
            message=message,
            expected_version=expected_version,
            data=context,
            changes=changes,
            at=now,
        )
        _meet_screening(locked, now)
        return _issue_notice(case=locked, kind=notice_kind, actor=actor, context=context, at=now)


def not_accept(
    *, actor: User, case: Case, reason: str, expected_version: int | None = None
) -> WrittenNotice:
    reason = _require_reason(reason)
    return _decide_screening(
        actor=actor,
        case=case,
        transition="not_accept",
        notice_kind=NoticeKind.NOT_ACCEPTED,
        message=reason,
        context={"reason": reason},
        changes={"outcome": reason[:200]},
        expected_version=expected_version,
    )


def refer_out(
    *,
    actor: User,
    case: Case,
    competent_organ: str,
    reason: str,
    expected_version: int | None = None,
) -> WrittenNotice:
    competent_organ = competent_organ.strip()
    if not competent_organ:
        raise ValidationError({"competent_organ": _("Name the competent organ.")})
    reason = _require_reason(reason)
    return _decide_screening(
        actor=actor,
        case=case,
        transition="refer_out",
        notice_kind=NoticeKind.REFERRAL,
        message=f"{competent_organ}: {reason}",
        context={"organ": competent_organ, "reason": reason},
        changes={"outcome": competent_organ[:200]},
        expected_version=expected_version,
    )


def route_to_legal_procedure(
    *,
    actor: User,
    case: Case,
    organ: str,
    procedure: str,
    legal_case_number: str,
    expected_version: int | None = None,
) -> WrittenNotice:
    """诉访分离: a litigation matter goes into the organ's legal procedure and its clocks."""
    errors = {}
    for name, value in (
        ("organ", organ),
        ("procedure", procedure),
        ("legal_case_number", legal_case_number),
    ):
        if not value.strip():
            errors[name] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return _decide_screening(
        actor=actor,
        case=case,
        transition="route_legal",
        notice_kind=NoticeKind.LEGAL_PROCEDURE,
        message=f"{organ} · {procedure} · {legal_case_number}",
        context={"organ": organ, "procedure": procedure, "legal_case_number": legal_case_number},
        changes={
            "legal_case_number": legal_case_number.strip(),
            "outcome": f"{organ} {procedure}"[:200],
        },
        expected_version=expected_version,
    )


# --- assignment (交办) ---------------------------------------------------------------------------


def suggest_lead_department(case: Case) -> Department | None:
    """Routing suggestion: the most specific active rule for (category or its parent, organ)."""
    categories = [c for c in (case.category_id, case.category.parent_id) if c]
    rules = (
        RoutingRule.objects.filter(is_active=True)
        .filter(Q(category_id__in=categories) | Q(category__isnull=True))
        .filter(Q(organ_id=case.organ_id) | Q(organ__isnull=True))
    )
    best: RoutingRule | None = None
    best_score = -1
    for rule in rules:  # a handful of rules at most for one case
        score = (
            2 if rule.category_id == case.category_id else 1 if rule.category_id else 0
        ) * 2 + (1 if rule.organ_id else 0)
        if score > best_score:
            best, best_score = rule, score
    kind = (
        best.department_kind
        if best
        else (case.organ.department_kind if case.organ_id and case.organ else "")
    )
    if not kind:
        return None
    return (
        Department.objects.filter(center_id=case.center_id, kind=kind, is_active=True)
        .order_by("id")
        .first()
    )


# How deep a level sits (a transfer never goes to a shallower one).
_LEVEL_DEPTH: dict[str, int] = {"province": 0, "city": 1, "county": 2}


def latest_assignment_due(case: Case, now: datetime) -> datetime:
    """The latest due date an assignment made ``now`` may carry (issue 13 #6): the statutory
    time to accept (Art 23) plus the handling period and its one extension (Art 34), by the
    rules in force at the case's center (provinces may shorten or lengthen them)."""
    accept_by, _provisional, _rule = compute_due(
        kind=DeadlineKind.ACCEPTANCE_NOTICE, start=now, center=case.center
    )
    handling = rule_for(DeadlineKind.HANDLING, case.center)
    latest, _provisional, _rule = compute_due(
        kind=DeadlineKind.HANDLING,
        start=accept_by,
        center=case.center,
        length_override=handling.length + handling.max_extension_days,
    )
    return latest


def _validate_targets(
    case: Case, lead: DepartmentDue, assisting: Sequence[DepartmentDue], now: datetime
) -> None:
    errors: dict[str, list[str]] = {}
    latest = latest_assignment_due(case, now)
    for label, item in [("lead", lead), *(("assisting", a) for a in assisting)]:
        if item.department.center_id != case.center_id:
            errors.setdefault(label, []).append(
                _("%(dept)s belongs to another center; assign only to departments of %(center)s.")
                % {"dept": item.department.name, "center": case.center.name}
            )
        if not item.department.is_active:
            errors.setdefault(label, []).append(
                _("%(dept)s is not active.") % {"dept": item.department.name}
            )
        if item.due_at <= now:
            errors.setdefault(f"{label}_due", []).append(_("The due date must be in the future."))
        elif item.due_at > latest:
            errors.setdefault(f"{label}_due", []).append(
                _(
                    "The due date is beyond what the rules allow: at most %(date)s (acceptance, "
                    "the handling period and its one extension)."
                )
                % {"date": f"{latest.astimezone(CHINA_TZ):%Y-%m-%d}"}
            )
    ids = [a.department.pk for a in assisting]
    if lead.department.pk in ids:
        errors.setdefault("assisting", []).append(_("The lead department cannot also assist."))
    if len(set(ids)) != len(ids):
        errors.setdefault("assisting", []).append(_("A department is listed twice."))
    if errors:
        raise ValidationError(errors)


def _create_assignments(
    *,
    case: Case,
    lead: DepartmentDue,
    assisting: Sequence[DepartmentDue],
    actor: User,
    instructions: str,
    now: datetime,
) -> list[Assignment]:
    made = []
    for role, item in [
        (AssignmentRole.LEAD, lead),
        *((AssignmentRole.ASSIST, a) for a in assisting),
    ]:
        assignment = Assignment(
            case=case,
            department=item.department,
            role=role,
            due_at=item.due_at,
            instructions=instructions,
            assigned_by=actor,
            assigned_at=now,
        )
        assignment._history_user = actor  # type: ignore[attr-defined]
        assignment.save()
        # Art 23: the receiver may object within 5 working days, and must notify acceptance within 15 days.
        open_deadline(
            case=case, kind=DeadlineKind.OBJECTION, start=now, assignment_id=assignment.pk
        )
        if role == AssignmentRole.LEAD:
            open_deadline(
                case=case,
                kind=DeadlineKind.ACCEPTANCE_NOTICE,
                start=now,
                assignment_id=assignment.pk,
            )
        made.append(assignment)
    return made


def assign_case(
    *,
    actor: User,
    case: Case,
    lead: DepartmentDue,
    assisting: Sequence[DepartmentDue] = (),
    instructions: str = "",
    expected_version: int | None = None,
) -> list[Assignment]:
    """交办 to one lead department and optional assisting departments, each with its own due date."""
    _require_own_center(actor, case)
    now = timezone.now()
    _validate_targets(case, lead, assisting, now)
    with transaction.atomic():
        names = ", ".join([lead.department.name, *(a.department.name for a in assisting)])
        locked = transition_case(
            actor=actor,
            case=case,
            name="assign",
            expected_version=expected_version,
            at=now,
            message=_("Assigned to %(names)s") % {"names": names},
            data={"lead": lead.department.pk, "assisting": [a.department.pk for a in assisting]},
        )
        _meet_screening(locked, now)
        made = _create_assignments(
            case=locked,
            lead=lead,
            assisting=assisting,
            actor=actor,
            instructions=instructions,
            now=now,
        )
        # The petitioner hears which organ handles the case and by when (a text message, queued
        # in this transaction by outreach; once per lead assignment).
        notify_petitioner(
            "assignment",
            case=locked,
            petitioner=locked.main_petitioner,
            context={
                "department": lead.department.name,
                "due_date": timezone.localdate(lead.due_at),
            },
            key=f"assignment:{made[0].pk}",
        )
        return made


def _cancel_active_assignments(case: Case, actor: User, now: datetime) -> int:
    active = list(
        Assignment.objects.select_for_update().filter(case=case, state__in=ACTIVE_ASSIGNMENT_STATES)
    )
    for assignment in active:
        assignment.state = AssignmentState.CANCELLED
        assignment._history_user = actor  # type: ignore[attr-defined]
        assignment.save(update_fields=["state"])
        # One by one (a case has a handful): meet_deadline saves each row so its history is kept.
        for kind in (DeadlineKind.OBJECTION, DeadlineKind.ACCEPTANCE_NOTICE):
            meet_deadline(case=case, kind=kind, at=now, assignment_id=assignment.pk)
    return len(active)


def reassign_case(
    *,
    actor: User,
    case: Case,
    lead: DepartmentDue,
    assisting: Sequence[DepartmentDue] = (),
    reason: str,
    expected_version: int | None = None,
) -> list[Assignment]:
    """Reassignment by triage or a supervisor, with a reason visible in the timeline."""
    reason = _require_reason(reason)
    _require_own_center(actor, case)
    now = timezone.now()
    _validate_targets(case, lead, assisting, now)
    with transaction.atomic():
        locked = transition_case(
            actor=actor,
            case=case,
            name="reassign",
            expected_version=expected_version,
            at=now,
            message=reason,
            data={"lead": lead.department.pk},
        )
        _cancel_active_assignments(locked, actor, now)
        meet_deadline(case=locked, kind=DeadlineKind.HANDLING, at=now)
        return _create_assignments(
            case=locked, lead=lead, assisting=assisting, actor=actor, instructions=reason, now=now
        )


# --- transfer (转办) -----------------------------------------------------------------------------


def transfer_case(
    *, actor: User, case: Case, to_center: Center, reason: str, expected_version: int | None = None
) -> Transfer:
    """Send the case with its whole file to another center of the province (typically down to the
    county with jurisdiction for a skip-level visit). The receiving center screens it from now on;
    the sending center keeps read access through the Transfer row (petitions.selectors)."""
    reason = _require_reason(reason)
    _require_own_center(actor, case)
    if to_center.pk == case.center_id:
        raise ValidationError({"to_center": _("The case is already at that center.")})
    root = case.center.path.split("/")[1]
    if not to_center.is_active or to_center.path.split("/")[1] != root:
        raise ValidationError({"to_center": _("Choose an active center of this province.")})
    if _LEVEL_DEPTH[to_center.level] < _LEVEL_DEPTH[case.center.level]:
        # Upwards only through review (复查/复核, Arts 35-36), which has its own route.
        raise ValidationError(
            {
                "to_center": _(
                    "A case is transferred to a center at the same level or below. It goes up "
                    "to a higher center only when the petitioner asks for review."
                )
            }
        )
    now = timezone.now()
    from_center = case.center
    with transaction.atomic():
        locked = transition_case(
            actor=actor,
            case=case,
            name="transfer",
            expected_version=expected_version,
            at=now,
            message=_("Transferred from %(from)s to %(to)s: %(reason)s")
            % {"from": from_center.name, "to": to_center.name, "reason": reason},
            data={"from_center": from_center.pk, "to_center": to_center.pk},
            changes={"center": to_center},
        )
        transfer = Transfer.objects.create(
            case=locked,
            from_center=from_center,
            to_center=to_center,
            reason=reason,
            transferred_by=actor,
            transferred_at=now,
        )
        # The receiving center has its own 15 days to screen (Art 22 applies to the receiver).
        _meet_screening(locked, now)
        open_deadline(case=locked, kind=DeadlineKind.SCREENING, start=now)
        _issue_notice(
            case=locked,
            kind=NoticeKind.TRANSFER,
            actor=actor,
            context={"from": from_center.name, "to": to_center.name, "reason": reason},
            at=now,
        )
    return transfer


# --- receiving side (Art 23) ---------------------------------------------------------------------


def _require_department_member(actor: User, assignment: Assignment) -> None:
    if actor.is_superuser:
        return
    if (
        not actor.has_role(Role.OFFICER, Role.HEAD)
        or actor.department_id != assignment.department_id
    ):
        raise PermissionDenied(_("This assignment is for another department."))


def _lock_assignment(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update()
        .select_related("case", "department")
        .get(pk=assignment.pk)
    )


def sign_for_assignment(*, actor: User, assignment: Assignment) -> Assignment:
    """签收: timestamped receipt by the department."""
    _require_department_member(actor, assignment)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_assignment(assignment)
        if locked.state != AssignmentState.PENDING:
            raise DomainError(
                _("This assignment is not waiting to be signed for."), code="illegal_transition"
            )
        if locked.role == AssignmentRole.LEAD:
            transition_case(
                actor=actor,
                case=locked.case,
                name="sign_for",
                at=now,
                message=_("Signed for by %(dept)s") % {"dept": locked.department.name},
            )
        else:
            record_event(
                case=locked.case,
                kind="assist_signed",
                actor=actor,
                at=now,
                message=_("Signed for by assisting department %(dept)s")
                % {"dept": locked.department.name},
            )
        locked.state = AssignmentState.SIGNED
        locked.signed_at = now
        locked.signed_by = actor
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state", "signed_at", "signed_by"])
    return locked


def return_assignment(*, actor: User, assignment: Assignment, reason: str) -> Assignment:
    """Object to a wrong assignment and return it within 5 working days of receipt (Art 23)."""
    reason = _require_reason(reason)
    _require_department_member(actor, assignment)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_assignment(assignment)
        if locked.state not in (AssignmentState.PENDING, AssignmentState.SIGNED):
            raise DomainError(
                _("Only an assignment not yet accepted can be returned."), code="illegal_transition"
            )
        objection = (
            Deadline.objects.filter(
                case=locked.case, kind=DeadlineKind.OBJECTION, assignment_id=locked.pk
            )
            .order_by("-id")
            .first()
        )
        if objection is not None and now > objection.due_at:
            raise DomainError(
                _(
                    "The 5 working days to object ended on %(due)s; the assignment can no longer be returned."
                )
                % {"due": timezone.localtime(objection.due_at).strftime("%Y-%m-%d")},
                code="deadline_passed",
            )
        if locked.role == AssignmentRole.LEAD:
            transition_case(
                actor=actor,
                case=locked.case,
                name="return_assignment",
                at=now,
                message=reason,
                data={"department": locked.department_id},
            )
        else:
            record_event(
                case=locked.case,
                kind="assist_returned",
                actor=actor,
                at=now,
                message=reason,
                data={"department": locked.department_id},
            )
        locked.state = AssignmentState.RETURNED
        locked.returned_at = now
        locked.return_reason = reason
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state", "returned_at", "return_reason"])
        meet_deadline(
            case=locked.case, kind=DeadlineKind.OBJECTION, at=now, assignment_id=locked.pk
        )
        meet_deadline(
            case=locked.case, kind=DeadlineKind.ACCEPTANCE_NOTICE, at=now, assignment_id=locked.pk
        )
    return locked


def confirm_return(
    *, actor: User, case: Case, note: str = "", expected_version: int | None = None
) -> Case:
    """Triage confirms a returned case: remaining assignments are cancelled and it is screened again."""
    _require_own_center(actor, case)
    now = timezone.now()
    with transaction.atomic():
        locked = transition_case(
            actor=actor,
            case=case,
            name="confirm_return",
            message=note,
            at=now,
            expected_version=expected_version,
        )
        _cancel_active_assignments(locked, actor, now)
        open_deadline(case=locked, kind=DeadlineKind.SCREENING, start=now)
    return locked


def accept_assignment(*, actor: User, assignment: Assignment) -> WrittenNotice:
    """The lead department accepts: the 60-day handling clock starts and the written acceptance
    notice is issued (Art 23: within 15 days of receipt; Art 34: 60 days to finish)."""
    _require_department_member(actor, assignment)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_assignment(assignment)
        if locked.role != AssignmentRole.LEAD:
            raise DomainError(_("Only the lead department accepts the case."), code="not_lead")
        if locked.state != AssignmentState.SIGNED:
            raise DomainError(
                _("Sign for the assignment before accepting it."), code="illegal_transition"
            )
        case = transition_case(
            actor=actor,
            case=locked.case,
            name="accept",
            at=now,
            message=_("Accepted by %(dept)s") % {"dept": locked.department.name},
        )
        locked.state = AssignmentState.ACCEPTED
        locked.accepted_at = now
        locked.handler = actor
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state", "accepted_at", "handler"])
        meet_deadline(
            case=case, kind=DeadlineKind.ACCEPTANCE_NOTICE, at=now, assignment_id=locked.pk
        )
        meet_deadline(case=case, kind=DeadlineKind.OBJECTION, at=now, assignment_id=locked.pk)
        open_deadline(case=case, kind=DeadlineKind.HANDLING, start=now)
        return _issue_notice(
            case=case,
            kind=NoticeKind.ACCEPTANCE,
            actor=actor,
            context={"department": locked.department.name},
            at=now,
        )


def add_progress_note(
    *, actor: User, case: Case, text: str, shared_with_center: bool = False
) -> ProgressNote:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    if actor.has_role(Role.OFFICER, Role.HEAD) and actor.department_id:
        if (
            not Assignment.objects.filter(case=case, department_id=actor.department_id)
            .exclude(state=AssignmentState.CANCELLED)
            .exists()
        ):
            raise PermissionDenied(_("This case is not assigned to your department."))
    elif not can_act_on(actor, case):
        raise PermissionDenied(_("This case belongs to another center; you can only read it."))
    now = timezone.now()
    with transaction.atomic():
        note = ProgressNote.objects.create(
            case=case,
            department_id=actor.department_id,
            author=actor,
            text=text,
            shared_with_center=shared_with_center,
            created_at=now,
        )
        record_event(
            case=case,
            kind="note",
            actor=actor,
            at=now,
            message=text
            if shared_with_center
            else _("Internal note by %(dept)s")
            % {"dept": actor.department.name if actor.department else ""},
            data={"note": note.pk, "shared": shared_with_center},
        )
    return note


def submit_contribution(*, actor: User, assignment: Assignment, text: str) -> Assignment:
    """An assisting department's contribution, which the lead sees when composing the reply."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the contribution.")})
    _require_department_member(actor, assignment)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_assignment(assignment)
        if locked.role != AssignmentRole.ASSIST:
            raise DomainError(
                _("Only an assisting department submits a contribution."), code="not_assist"
            )
        if locked.state not in (AssignmentState.SIGNED, AssignmentState.ACCEPTED):
            raise DomainError(_("Sign for the assignment first."), code="illegal_transition")
        locked.contribution = text
        locked.state = AssignmentState.DONE
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["contribution", "state"])
        meet_deadline(
            case=locked.case, kind=DeadlineKind.OBJECTION, at=now, assignment_id=locked.pk
        )
        record_event(
            case=locked.case,
            kind="contribution",
            actor=actor,
            at=now,
            message=_("Contribution from %(dept)s") % {"dept": locked.department.name},
            data={"assignment": locked.pk},
        )
    return locked
