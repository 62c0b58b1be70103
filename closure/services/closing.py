"""Closure, closure by agreement, archive and reopening (访结, 归档).

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import meet_deadline, open_deadline
from clocks.models import Deadline, DeadlineKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.models import Attachment, AttachmentKind, Case
from petitions.services import (
    add_attachment,
    transition_case,
)
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, AssignmentState

from ..models import (
    AgreementKind,
    ArchiveCounter,
    CaseClosure,
    DeliveryMethod,
    Reply,
    ReplyStatus,
)
from ..selectors import (
    current_reply,
    evaluation_for,
    is_satisfied,
    lead_assignment,
    open_assisting,
)
from .common import _lock_case, _require_center, _require_lead_member, _sync, _text

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
