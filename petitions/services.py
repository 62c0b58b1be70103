"""The write path for petition records. Views, API, admin, tasks and commands call these; none of
them saves a Case itself (STYLE.md: one write path per business operation).

Every function: checks role, state and guards; locks the row; writes history (simple-history,
with the acting user) and a CaseEvent in the same transaction; queues side effects on commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence  # noqa: F401
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, IllegalTransition, PermissionDenied, StaleState
from core.models import Center, PiiAccessLog, User
from core.roles import PII_REVEAL_ROLES, Role

from .models import (
    Attachment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePetitioner,
    Channel,
    ContentCategory,
    FileLookup,
    IdType,
    Organ,
    Petitioner,
    PetitionerRole,
    Purpose,
    Visit,
)
from .states import TRANSITIONS, CaseState
from .validation import validate_attachment

MAX_REPRESENTATIVES = 5  # Art 20: a group visit chooses at most five representatives
GROUP_VISIT_HEADCOUNT = 5  # practice: five or more people raising one matter is a group visit
QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the desk


# --- petitioners --------------------------------------------------------------------------------


@dataclass
class PetitionerData:
    name: str
    id_type: str = IdType.RESIDENT
    id_number: str = ""
    phone: str = ""
    sex: str = "U"
    birth_date: Any = None
    address: str = ""
    household_registration: str = ""
    occupation: str = ""
    notes: str = ""


def _require_role(actor: User, roles: Iterable[str], what: str) -> None:
    if actor.is_superuser:
        return
    if not actor.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow you to %(what)s.") % {"what": what})


def find_petitioner_by_id_number(id_number: str, id_type: str | None = None) -> Petitioner | None:
    """The file with this ID number, by its blind index (core.pii): a resident ID typed in its
    old 15-digit form finds the file of its 18-character form and the reverse."""
    from core.pii import id_number_lookup_keys

    keys = id_number_lookup_keys(id_number, id_type or None)
    if not keys:
        return None
    qs = Petitioner.objects.filter(id_number_hash__in=keys)
    if id_type:
        qs = qs.filter(id_type=id_type)
    return qs.first()


def _apply_petitioner_data(petitioner: Petitioner, data: PetitionerData) -> None:
    petitioner.name = data.name.strip()
    petitioner.id_type = data.id_type
    petitioner.sex = data.sex or "U"
    petitioner.birth_date = data.birth_date
    for attr in ("address", "household_registration", "occupation", "notes"):
        setattr(petitioner, attr, getattr(data, attr) or "")
    if data.id_number:
        petitioner.set_id_number(data.id_number)
    if data.phone:
        petitioner.set_phone(data.phone)


def upsert_petitioner(*, actor: User, data: PetitionerData) -> Petitioner:
    """One file per person: a known ID number updates that file, otherwise a new one is created."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("register petitioners"))
    if not data.name.strip():
        raise ValidationError({"name": _("Enter the petitioner's name.")})
    existing = (
        find_petitioner_by_id_number(data.id_number, data.id_type) if data.id_number else None
    )
    with transaction.atomic():
        if existing is not None:
            petitioner = Petitioner.objects.select_for_update().get(pk=existing.pk)
        else:
            petitioner = Petitioner(created_by=actor)
        _apply_petitioner_data(petitioner, data)
        petitioner._history_user = actor  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                petitioner.save()
        except IntegrityError:
            # Two desks registered the same new ID number at once: the other one won; use its file.
            found = find_petitioner_by_id_number(data.id_number, data.id_type)
            if found is None:
                raise
            petitioner = found
    return petitioner


def reveal_pii(
    *,
    actor: User,
    petitioner: Petitioner,
    field_name: str,
    case: Case,
    ip: str | None = None,
) -> str:
    """Full ID or phone number, for a role that needs it, on a case of this person that the actor
    may see; every reveal is logged with that case (PIPL Art 28)."""
    from .selectors import cases_visible_to

    _require_role(actor, PII_REVEAL_ROLES, _("view full personal numbers"))
    if field_name not in {"id_number", "phone"}:
        raise ValidationError({"field": _("Unknown field.")})
    if (
        not cases_visible_to(actor)
        .filter(pk=case.pk, case_petitioners__petitioner=petitioner)
        .exists()
    ):
        raise PermissionDenied(
            _("A full number is shown only on a case of this person that you may see.")
        )
    PiiAccessLog.objects.create(
        user=actor, petitioner=petitioner, case=case, field=field_name, ip=ip
    )
    return petitioner.reveal_id_number() if field_name == "id_number" else petitioner.reveal_phone()


def record_file_lookups(*, actor: User, petitioners: Sequence[Petitioner], how: str) -> None:
    """An exact lookup at the desk found these people: each is recorded (who looked for whom),
    and opens the person's file to the actor for a while (petitions.selectors.LOOKUP_GRANT)."""
    from .selectors import may_look_up_anyone

    if not petitioners or not may_look_up_anyone(actor):
        return
    FileLookup.objects.bulk_create(
        [FileLookup(user=actor, petitioner=p, how=how) for p in petitioners]
    )


# --- numbers and codes ---------------------------------------------------------------------------


def next_case_number(center: Center, when: datetime) -> str:
    """Center region code + local date + serial, unique across the province. The counter row is
    locked (SELECT ... FOR UPDATE) so concurrent intake at one center never reuses a serial."""
    day = timezone.localdate(when)
    with transaction.atomic():
        counter, _created = CaseNumberCounter.objects.select_for_update().get_or_create(
            center=center, day=day
        )
        CaseNumberCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        counter.refresh_from_db(fields=["last"])
    return f"{center.region_code}{day:%Y%m%d}{counter.last:05d}"


def make_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))


def hash_query_code(code: str) -> str:
    key = hashlib.sha256(b"query-code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, code.strip().upper().encode(), hashlib.sha256).hexdigest()


def check_query_code(case: Case, code: str) -> bool:
    return hmac.compare_digest(case.query_code_hash, hash_query_code(code))


# --- events -------------------------------------------------------------------------------------


def require_not_archived(case: Case) -> None:
    """An archived file is read-only with its whole history; a supervisor reopens it with a
    reason (closure.services.reopen_case). Services check the case row they locked."""
    if case.state == CaseState.ARCHIVED:
        raise DomainError(
            _("The case is archived and read-only; a supervisor can reopen it with a reason."),
            code="archived",
        )


def record_event(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    message: str = "",
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    if not to_state:
        # Every write records its event here, so this is the one place that keeps an archived
        # file read-only for every app (a state change out of it, reopening, carries to_state).
        require_not_archived(case)
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        message=message,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )


def on_commit_event(event: CaseEvent) -> None:
    """Write the event's notifications as outbox rows in this transaction; e-mail goes out after
    commit through Celery (clocks.notify), so a broker outage never blocks or loses them."""
    from clocks.notify import notify_event

    notify_event(event)


# --- registering a case -------------------------------------------------------------------------


@dataclass
class CaseData:
    channel: Channel
    purpose: Purpose
    category: ContentCategory
    request: str
    organ: Organ | None = None
    facts_reasons: str = ""
    legal_case_number: str = ""
    problem_region_code: str = ""
    is_law_related: bool = True
    is_major_urgent: bool = False
    is_safety_risk: bool = False
    is_skip_level: bool = False
    headcount: int = 1


@dataclass
class Registration:
    case: Case
    query_code: str | None  # None when a double submit returned the case created the first time
    created: bool = True
    warnings: list[str] = field(default_factory=list)


def register_case(
    *,
    actor: User,
    petitioner: Petitioner,
    data: CaseData,
    representatives: Sequence[Petitioner] = (),
    members: Sequence[Petitioner] = (),
    attachments: Sequence[tuple[str, UploadedFile]] = (),
    submission_key: str | None = None,
    at: datetime | None = None,
) -> Registration:
    """Register a new case at the actor's center (intake), with its first visit.

    ``submission_key`` (a token rendered into the form, or an Idempotency-Key header) makes a
    double-clicked submit return the first case instead of creating a second one."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("register cases"))
    if actor.center_id is None:
        raise PermissionDenied(_("You are not attached to a center."))
    if submission_key:
        existing = Case.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return Registration(case=existing, query_code=None, created=False)
    errors: dict[str, list[str]] = {}
    if not data.request.strip():
        errors.setdefault("request", []).append(_("State the request (Art 19)."))
    reps = list(dict.fromkeys(representatives))
    if len(reps) > MAX_REPRESENTATIVES:
        errors.setdefault("representatives", []).append(
            _("A group visit may choose at most %(n)d representatives (Art 20).")
            % {"n": MAX_REPRESENTATIVES}
        )
    if data.headcount < 1:
        errors.setdefault("headcount", []).append(_("Headcount must be at least 1."))
    is_group = data.headcount >= GROUP_VISIT_HEADCOUNT
    if is_group and not reps:
        errors.setdefault("representatives", []).append(
            _("A group visit of %(n)d or more people must name its representatives.")
            % {"n": GROUP_VISIT_HEADCOUNT}
        )
    for _kind, upload in attachments:
        try:
            validate_attachment(upload)
        except ValidationError as exc:
            errors.setdefault("attachments", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)

    now = at or timezone.now()
    center = actor.center
    assert center is not None
    try:
        with transaction.atomic():
            code = make_query_code()
            case = Case(
                number=next_case_number(center, now),
                query_code_hash=hash_query_code(code),
                center=center,
                origin_center=center,
                state=CaseState.REGISTERED,
                state_changed_at=now,
                channel=data.channel,
                purpose=data.purpose,
                category=data.category,
                organ=data.organ,
                legal_case_number=data.legal_case_number.strip(),
                problem_region_code=data.problem_region_code.strip(),
                is_law_related=data.is_law_related,
                is_major_urgent=data.is_major_urgent,
                is_safety_risk=data.is_safety_risk,
                is_skip_level=data.is_skip_level,
                is_group=is_group,
                headcount=data.headcount,
                request=data.request,
                facts_reasons=data.facts_reasons,
                main_petitioner=petitioner,
                registered_at=now,
                registered_by=actor,
                submission_key=submission_key or None,
            )
            case._history_user = actor  # type: ignore[attr-defined]
            case.save()
            links = [CasePetitioner(case=case, petitioner=petitioner, role=PetitionerRole.MAIN)]
            links += [
                CasePetitioner(case=case, petitioner=p, role=PetitionerRole.REPRESENTATIVE)
                for p in reps
                if p.pk != petitioner.pk
            ]
            seen = {petitioner.pk, *(p.pk for p in reps)}
            links += [
                CasePetitioner(case=case, petitioner=p, role=PetitionerRole.MEMBER)
                for p in members
                if p.pk not in seen
            ]
            for link in links:
                link._history_user = actor  # type: ignore[attr-defined]
                link.save()
            visit = Visit(
                case=case,
                petitioner=petitioner,
                center=center,
                channel=data.channel,
                at=now,
                is_repeat=False,
                headcount=data.headcount,
                received_by=actor,
            )
            visit._history_user = actor  # type: ignore[attr-defined]
            visit.save()
            for kind, upload in attachments:
                _save_attachment(case=case, kind=kind, upload=upload, actor=actor)
            _open_clock(case=case, kind="screening", start=now)
            event = record_event(
                case=case,
                kind="registered",
                actor=actor,
                to_state=CaseState.REGISTERED,
                at=now,
                message=_("Registered at %(center)s") % {"center": center.name},
            )
            on_commit_event(event)
    except IntegrityError:
        if submission_key:
            # The same form was submitted twice at the same moment; the first one won.
            existing = Case.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                return Registration(case=existing, query_code=None, created=False)
        raise
    return Registration(
        case=case, query_code=code, warnings=registration_warnings(petitioner, exclude=case)
    )


def _open_clock(*, case: Case, kind: str, start: datetime) -> None:
    """Open a statutory clock (clocks.deadlines) when that app provides it."""
    try:
        from clocks.deadlines import open_deadline
    except ImportError:  # pragma: no cover - supervision not installed
        return
    open_deadline(case=case, kind=kind, start=start)


def _save_attachment(*, case: Case, kind: str, upload: UploadedFile, actor: User) -> Attachment:
    validate_attachment(upload)
    attachment = Attachment(
        case=case,
        kind=kind,
        original_name=(upload.name or "")[:200],
        size=upload.size or 0,
        content_type=getattr(upload, "content_type", "") or "application/octet-stream",
        uploaded_by=actor,
    )
    attachment.file.save(safe_storage_name(upload.name or "file"), upload, save=False)
    attachment._history_user = actor  # type: ignore[attr-defined]
    attachment.save()
    return attachment


def safe_storage_name(name: str) -> str:
    from pathlib import PurePath

    suffix = PurePath(name).suffix.lower()[:10]
    return f"{secrets.token_hex(12)}{suffix}"


def add_attachment(*, actor: User, case: Case, kind: str, upload: UploadedFile) -> Attachment:
    from .selectors import can_act_on

    _require_role(
        actor, {Role.RECEPTION, Role.TRIAGE, Role.OFFICER, Role.HEAD}, _("add attachments")
    )
    if not can_act_on(actor, case) and not actor.has_role(Role.OFFICER, Role.HEAD):
        raise PermissionDenied(_("This case is read-only for your center."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        attachment = _save_attachment(case=locked, kind=kind, upload=upload, actor=actor)
        record_event(
            case=locked,
            kind="attachment_added",
            actor=actor,
            message=_("Attachment added: %(name)s") % {"name": attachment.original_name},
        )
    return attachment


# --- repeat visits ------------------------------------------------------------------------------


def registration_warnings(petitioner: Petitioner, exclude: Case | None = None) -> list[str]:
    """What the front desk must see at once about a person (DOMAIN.md §3, §7)."""
    warnings: list[str] = []
    cases = Case.objects.filter(case_petitioners__petitioner=petitioner)
    if exclude is not None:
        cases = cases.exclude(pk=exclude.pk)
    states = list(cases.values_list("state", "next_due_at", "is_group"))
    now = timezone.now()
    if any(s == CaseState.TERMINATED for s, _d, _g in states):
        warnings.append(
            _(
                "A matter of this person was lawfully terminated: the same matter is not accepted again."
            )
        )
    if any(s in CaseState.open_states() and d is not None and d < now for s, d, _g in states):
        warnings.append(_("This person has an overdue case."))
    if any(g and s in CaseState.open_states() for s, _d, g in states):
        warnings.append(_("This person is on an open group-visit case."))
    # Apps above petitions add their own (petitions.hooks), e.g. appeals: 不再受理 (Arts 35-37).
    from . import hooks

    for provider in hooks.warning_providers():
        warnings.extend(provider(petitioner, exclude))
    return warnings


def record_repeat_visit(
    *,
    actor: User,
    case: Case,
    petitioner: Petitioner,
    channel: Channel,
    headcount: int = 1,
    notes: str = "",
    submission_key: str | None = None,
    at: datetime | None = None,
) -> Visit:
    """A returning person raising the same matter: link the visit to the existing case (重复访)."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("record visits"))
    if submission_key:
        existing = Visit.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    if headcount < 1:
        raise ValidationError({"headcount": _("Headcount must be at least 1.")})
    now = at or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not CasePetitioner.objects.filter(case=locked, petitioner=petitioner).exists():
            raise ValidationError({"case": _("This person is not a petitioner on that case.")})
        visit = Visit(
            case=locked,
            petitioner=petitioner,
            center=actor.center or locked.center,
            channel=channel,
            at=now,
            is_repeat=True,
            headcount=headcount,
            notes=notes,
            received_by=actor,
            submission_key=submission_key or None,
        )
        visit._history_user = actor  # type: ignore[attr-defined]
        visit.save()
        locked.visit_count = F("visit_count") + 1
        locked.version = F("version") + 1
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["visit_count", "version"])
        event = record_event(
            case=locked,
            kind="repeat_visit",
            actor=actor,
            at=now,
            message=_("Repeat visit (%(channel)s)") % {"channel": channel.name},
        )
        on_commit_event(event)
    return visit


# --- transitions --------------------------------------------------------------------------------


def check_transition(*, actor: User, case: Case, name: str) -> None:
    """Raise unless ``actor`` may apply transition ``name`` to ``case`` in its current state."""
    transition = TRANSITIONS[name]
    if not actor.is_superuser and not (actor.role_codes & transition.roles):
        raise PermissionDenied(
            _("Your role does not allow this action: %(action)s.") % {"action": transition.label}
        )
    if case.state not in transition.sources:
        raise IllegalTransition(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": transition.label, "state": case.get_state_display()}
        )


def transition_case(
    *,
    actor: User,
    case: Case,
    name: str,
    message: str = "",
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    guard: Callable[[Case], None] | None = None,
    at: datetime | None = None,
    event_kind: str | None = None,
) -> Case:
    """Apply a transition of petitions.states.TRANSITIONS: lock the row, check role, state,
    version and guard, save the named fields, write history and the event, in one transaction.

    ``expected_version`` is the version the user's form was rendered from: if someone changed the
    case since, the action is refused (StaleState) rather than applied to a case they did not see.
    Must be called inside the caller's transaction when the caller writes related rows too."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise StaleState(
                _("The case was changed by someone else in the meantime; reload it and try again.")
            )
        check_transition(actor=actor, case=locked, name=name)
        if guard is not None:
            guard(locked)
        transition = TRANSITIONS[name]
        from_state = locked.state
        locked.state = transition.target
        locked.state_changed_at = now
        locked.version += 1
        fields = ["state", "state_changed_at", "version"]
        for attr, value in (changes or {}).items():
            setattr(locked, attr, value)
            fields.append(attr)
        if (
            transition.target in {CaseState.CLOSED, CaseState.TERMINATED}
            and locked.closed_at is None
        ):
            locked.closed_at = now
            fields.append("closed_at")
        locked._history_user = actor  # type: ignore[attr-defined]
        locked._change_reason = name  # type: ignore[attr-defined]
        locked.save(update_fields=fields)
        event = record_event(
            case=locked,
            kind=event_kind or name,
            actor=actor,
            from_state=from_state,
            to_state=locked.state,
            message=message,
            data=data,
            at=now,
        )
        on_commit_event(event)
    case.__dict__.update(
        {f: getattr(locked, f) for f in ("state", "state_changed_at", "version", "closed_at")}
    )
    return locked


def answer_on_spot(
    *, actor: User, case: Case, answer: str, expected_version: int | None = None
) -> Case:
    """One-stop answer: a simple enquiry answered and closed at the desk the same day."""
    if not answer.strip():
        raise ValidationError({"answer": _("Write down the answer given.")})
    from .selectors import can_act_on

    if not can_act_on(actor, case):
        raise PermissionDenied(_("This case is read-only for your center."))

    def close_clocks(locked: Case) -> None:
        try:
            from clocks.deadlines import meet_deadline
        except ImportError:  # pragma: no cover
            return
        meet_deadline(case=locked, kind="screening", at=timezone.now())

    return transition_case(
        actor=actor,
        case=case,
        name="answer_on_spot",
        message=answer,
        guard=close_clocks,
        expected_version=expected_version,
        changes={"outcome": answer[:200]},
    )
