"""The write path for petition records. Views, API, admin, tasks and commands call these; none of
them saves a Case itself (STYLE.md: one write path per business operation).

Every function: checks role, state and guards; locks the row; writes history (simple-history,
with the acting user) and a CaseEvent in the same transaction; queues side effects on commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from collections.abc import Callable, Iterable, Sequence  # noqa: F401
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, IllegalTransition, PermissionDenied, StaleState
from core.models import Center, PiiAccessLog, User
from core.roles import PII_REVEAL_ROLES, Role
from core.text import name_key

from . import hooks
from .fastwrite import insert_with_history, sequence_sql
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
    Sex,
    Visit,
)
from .states import TRANSITIONS, CaseState
from .validation import validate_attachment

MAX_REPRESENTATIVES = 5  # Art 20: a group visit chooses at most five representatives
GROUP_VISIT_HEADCOUNT = 5  # practice: five or more people raising one matter is a group visit
MAX_HEADCOUNT = 10_000  # a sane upper bound for one visit (the column would take 2**31 - 1)
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
    # Asked at the desk: no text messages to this person. True is recorded on a known file too
    # (the person's own wish); a known person's opt-out is withdrawn by a correction.
    sms_opt_out: bool = False


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


# Identity fields: who the person is. Never changed at intake; changed only by a correction.
IDENTITY_FIELDS = ("name", "sex", "birth_date")
# Contact and background fields: a desk of the holding center (or a center above it) may update
# them at intake; other desks see a difference.
CONTACT_FIELDS = ("phone", "address", "household_registration", "occupation", "notes")
# What a correction may change (the ID number too: typed wrongly when the file was opened).
CORRECTABLE_FIELDS = (*IDENTITY_FIELDS, "id_type", "id_number", *CONTACT_FIELDS, "sms_opt_out")
MAX_REASON_LENGTH = 100  # simple-history's change reason column
PHONE_COLUMNS = ["phone_enc", "phone_hash", "phone_masked"]
ID_COLUMNS = ["id_type", "id_number_enc", "id_number_hash", "id_number_masked"]


@dataclass(frozen=True)
class FieldDifference:
    """A value typed at the desk that differs from the person's file and was not applied."""

    petitioner_id: int
    name: str  # the person's name on file
    field: str
    label: str
    on_file: str
    typed: str

    def message(self) -> str:
        return _(
            "%(name)s: the file says %(field)s “%(on_file)s” but “%(typed)s” was typed. The file "
            "was not changed; if it is wrong, correct it from the person's file."
        ) % {
            "name": self.name,
            "field": self.label,
            "on_file": self.on_file or "—",
            "typed": self.typed or "—",
        }


@dataclass
class PetitionerIntake:
    petitioner: Petitioner
    created: bool
    updated_fields: list[str] = field(default_factory=list)
    differences: list[FieldDifference] = field(default_factory=list)


def field_label(name: str) -> str:
    """The field's name as the desk form labels it (姓名, not the model's 名称)."""
    labels = {
        "name": _("Name"),
        "sex": _("Sex"),
        "birth_date": _("Birth date"),
        "phone": _("Phone"),
        "address": _("Address"),
        "household_registration": _("Household registration"),
        "occupation": _("Occupation"),
        "notes": _("Notes on the person"),
        "id_type": _("ID type"),
        "id_number_masked": _("ID number"),
        "phone_masked": _("Phone"),
    }
    if name in labels:
        return str(labels[name])
    return str(getattr(Petitioner._meta.get_field(name), "verbose_name", name))


def _display(name: str, value: Any) -> str:
    if name == "sex":
        return str(dict(Sex.choices).get(value, value))
    if name == "birth_date":
        return value.isoformat() if value else ""
    if name == "phone":
        from core.pii import mask_phone

        return mask_phone(value) if value else ""
    return str(value or "")


def holds_file(actor: User, petitioner: Petitioner) -> bool:
    """The actor works at the center that holds the file, or at a center above it. A file with no
    holding center (made before centers were recorded and never on a case) is anyone's to update."""
    if actor.is_superuser:
        return True
    if actor.center_id is None:
        return False
    if petitioner.center_id is None or petitioner.center_id == actor.center_id:
        return True
    from core.orgcache import user_center

    holder = petitioner.center
    center = user_center(actor)
    return holder is not None and center is not None and holder.path.startswith(center.path)


def _new_file(petitioner: Petitioner, data: PetitionerData) -> None:
    petitioner.name = data.name.strip()
    petitioner.id_type = data.id_type
    petitioner.sex = data.sex or Sex.UNKNOWN
    petitioner.birth_date = data.birth_date
    for attr in ("address", "household_registration", "occupation", "notes"):
        setattr(petitioner, attr, (getattr(data, attr) or "").strip())
    if data.id_number:
        petitioner.set_id_number(data.id_number)
    if data.phone:
        petitioner.set_phone(data.phone)
    petitioner.sms_opt_out = bool(data.sms_opt_out)


def _apply_petitioner_data(
    petitioner: Petitioner, data: PetitionerData, *, may_update: bool
) -> tuple[list[str], list[FieldDifference]]:
    """Merge what was typed at the desk into a known person's file. A blank, or a default (sex
    unknown, no birth date), never replaces a value on file. A value the file lacks is filled in.
    A known identity value (name, sex, birth date) that differs is only reported; a differing
    contact value is updated when ``may_update`` (the actor's center holds the file), otherwise
    reported. Returns the changed columns and the differences."""
    from core.pii import blind_index, normalize

    changed: list[str] = []
    differences: list[FieldDifference] = []

    def differ(name: str, on_file: Any, typed: Any) -> None:
        differences.append(
            FieldDifference(
                petitioner_id=petitioner.pk,
                name=petitioner.name,
                field=name,
                label=field_label(name),
                on_file=_display(name, on_file),
                typed=_display(name, typed),
            )
        )

    typed_values: dict[str, Any] = {
        "name": data.name.strip(),
        "sex": data.sex if data.sex in {Sex.MALE, Sex.FEMALE} else "",
        "birth_date": data.birth_date,
        "address": (data.address or "").strip(),
        "household_registration": (data.household_registration or "").strip(),
        "occupation": (data.occupation or "").strip(),
        "notes": (data.notes or "").strip(),
    }
    for name, typed in typed_values.items():
        if not typed:
            continue
        on_file = getattr(petitioner, name)
        if on_file in (None, "", Sex.UNKNOWN):
            setattr(petitioner, name, typed)
            changed.append(name)
        elif on_file != typed:
            if name in CONTACT_FIELDS and may_update:
                setattr(petitioner, name, typed)
                changed.append(name)
            else:
                differ(name, on_file, typed)
    if data.sms_opt_out and not petitioner.sms_opt_out:
        petitioner.sms_opt_out = True
        changed.append("sms_opt_out")
    phone = normalize(data.phone or "")
    if phone and blind_index(phone) != petitioner.phone_hash:
        if not petitioner.phone_hash or may_update:
            petitioner.set_phone(phone)
            changed += PHONE_COLUMNS
        else:
            differ("phone", petitioner.reveal_phone(), phone)
    return changed, differences


def intake_petitioner(
    *, actor: User, data: PetitionerData, known_absent: bool = False
) -> PetitionerIntake:
    """One file per person: a known ID number finds the file, otherwise a new one is opened, held
    by the actor's center. What was typed about a known person is merged by
    _apply_petitioner_data (never blanking a value, never changing identity silently); what was
    not applied comes back as differences for the desk to show. The file's row is locked while it
    is merged, so concurrent intakes of one person apply one after the other, and of two desks
    opening a file for the same new ID number at once, the first one's file stands.
    ``known_absent``: the caller looked the ID number up a moment ago and found no file (kept for
    the callers; the look under the lock is in the lock's round trip, so it is always made, and a
    file opened in between is merged, as in a race)."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("register petitioners"))
    if not data.name.strip():
        raise ValidationError({"name": _("Enter the petitioner's name.")})
    # No savepoint of its own: a failure here aborts the caller's transaction (the desk's and
    # the API's registration are all or nothing). Two desks opening a file for one new ID number
    # at once run one after the other under a transaction-level advisory lock on the number's
    # blind index (issue 21: instead of a savepoint and a recovered IntegrityError): the second
    # finds the first one's file and merges into it like any known person's.
    with transaction.atomic(savepoint=False):
        # Locked and found in one round trip: concurrent intakes of one person merge one at a time.
        petitioner = _locked_file(data) if data.id_number else None
        if petitioner is None:
            petitioner = Petitioner(created_by=actor, center_id=actor.center_id)
            _new_file(petitioner, data)
            petitioner.name_key = name_key(petitioner.name)[:50]  # what Petitioner.save() sets
            # The file and its history row in one statement (petitions.fastwrite).
            insert_with_history([[petitioner]], user_id=actor.pk)
            return PetitionerIntake(petitioner=petitioner, created=True)
        changed, differences = _apply_petitioner_data(
            petitioner, data, may_update=holds_file(actor, petitioner)
        )
        if changed:
            petitioner._history_user = actor  # type: ignore[attr-defined]
            petitioner._change_reason = "intake"  # type: ignore[attr-defined]
            petitioner.save(update_fields=changed)
    return PetitionerIntake(
        petitioner=petitioner, created=False, updated_fields=changed, differences=differences
    )


def _locked_file(data: PetitionerData) -> Petitioner | None:
    """The file with the typed ID number (find_petitioner_by_id_number), row-locked, with its
    holding center; in the caller's transaction. First the transaction-level advisory lock on
    the number's blind index is taken (held to commit), in the same round trip: a file another
    desk opened for this number while we waited is then found (the lookup is a statement of its
    own after the lock, with a snapshot of its own, READ COMMITTED)."""
    from core.orgcache import center_by_pk
    from core.pii import id_number_index, id_number_lookup_keys, normalize

    keys = id_number_lookup_keys(data.id_number, data.id_type or None)
    if not keys:
        return None
    qs = Petitioner.objects.filter(id_number_hash__in=keys)
    if data.id_type:
        qs = qs.filter(id_type=data.id_type)
    qs = qs.select_for_update(of=("self",))[:1]
    # What a new file would store (Petitioner.set_id_number): both desks lock the same key.
    key = "petitioner:" + id_number_index(normalize(data.id_number), data.id_type)
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        # Two statements, one round trip (psycopg2 sends them as one simple query); the result
        # is the second one's.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)); " + sql, [key, *params]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    names = [f.attname for f in Petitioner._meta.concrete_fields]
    found = Petitioner.from_db(connection.alias, names, row)
    if found.center_id is not None:
        # The holding center from the organisation cache, as select_related would load it.
        Petitioner.center.field.set_cached_value(found, center_by_pk(found.center_id))
    return found


def upsert_petitioner(*, actor: User, data: PetitionerData) -> Petitioner:
    """intake_petitioner, for callers that only need the file."""
    return intake_petitioner(actor=actor, data=data).petitioner


def _correct_text(
    locked: Petitioner, values: dict[str, Any], errors: dict[str, list[str]]
) -> list[str]:
    changed: list[str] = []
    for name in ("name", "address", "household_registration", "occupation", "notes"):
        if name not in values:
            continue
        value = (values[name] or "").strip()
        max_length = getattr(Petitioner._meta.get_field(name), "max_length", None)
        if name == "name" and not value:
            errors.setdefault(name, []).append(_("Enter the petitioner's name."))
        elif max_length and len(value) > max_length:
            errors.setdefault(name, []).append(
                _("Use at most %(n)d characters.") % {"n": max_length}
            )
        elif value != getattr(locked, name):
            setattr(locked, name, value)
            changed.append(name)
    if "sex" in values:
        sex = values["sex"] or Sex.UNKNOWN
        if sex not in Sex.values:
            errors.setdefault("sex", []).append(_("Choose a valid sex."))
        elif sex != locked.sex:
            locked.sex = sex
            changed.append("sex")
    if "birth_date" in values and values["birth_date"] != locked.birth_date:
        locked.birth_date = values["birth_date"]
        changed.append("birth_date")
    if "sms_opt_out" in values and bool(values["sms_opt_out"]) != locked.sms_opt_out:
        locked.sms_opt_out = bool(values["sms_opt_out"])
        changed.append("sms_opt_out")
    return changed


def _correct_numbers(
    locked: Petitioner, values: dict[str, Any], errors: dict[str, list[str]]
) -> list[str]:
    from core.pii import normalize

    from .validation import validate_id_number, validate_phone

    changed: list[str] = []
    if "phone" in values:
        try:
            phone = validate_phone(values["phone"] or "")
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
        else:
            if normalize(phone) != normalize(locked.reveal_phone()):
                if phone:
                    locked.set_phone(phone)
                else:
                    locked.phone_enc = locked.phone_hash = locked.phone_masked = ""
                changed += PHONE_COLUMNS
    if "id_type" in values or "id_number" in values:
        id_type = values.get("id_type") or locked.id_type
        number = values.get("id_number")
        if number is None:
            number = locked.reveal_id_number()
        if id_type not in IdType.values:
            errors.setdefault("id_type", []).append(_("Choose a valid ID type."))
            return changed
        try:
            number = validate_id_number(id_type, number or "")
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
            return changed
        if id_type == locked.id_type and normalize(number) == normalize(locked.reveal_id_number()):
            return changed
        other = find_petitioner_by_id_number(number, id_type) if number else None
        if other is not None and other.pk != locked.pk:
            errors.setdefault("id_number", []).append(
                _(
                    "Another file has this ID number. Check the number: two files of one "
                    "person are merged by an administrator."
                )
            )
            return changed
        locked.id_type = id_type
        if number:
            locked.set_id_number(number)
        else:
            locked.id_number_enc = locked.id_number_hash = locked.id_number_masked = ""
        changed += ID_COLUMNS
    return changed


def correct_petitioner(
    *, actor: User, petitioner: Petitioner, changes: dict[str, Any], reason: str
) -> Petitioner:
    """Correct a person's file (a name, sex, birth date, ID or phone number, address typed
    wrongly): by a desk user of the center that holds the file or of a center above it, with a
    reason that goes into the file's history with the user. ``changes`` maps CORRECTABLE_FIELDS
    to new values; a name cannot be blank, other fields may be cleared. Raises ValidationError
    (field errors) or PermissionDenied."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("correct petitioner files"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Give the reason for the correction.")]
    elif len(reason) > MAX_REASON_LENGTH:
        errors["reason"] = [_("Use at most %(n)d characters.") % {"n": MAX_REASON_LENGTH}]
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        errors["__all__"] = [
            _("These fields cannot be corrected: %(fields)s.") % {"fields": ", ".join(unknown)}
        ]
    with transaction.atomic():
        locked = (
            Petitioner.objects.select_for_update(of=("self",))
            .select_related("center")
            .get(pk=petitioner.pk)
        )
        if not holds_file(actor, locked):
            raise PermissionDenied(
                _(
                    "This file is held by %(center)s: only its staff, or staff of a center above "
                    "it, may correct it."
                )
                % {"center": locked.center.name if locked.center else "—"}
            )
        values = {k: v for k, v in changes.items() if k in CORRECTABLE_FIELDS}
        changed = _correct_text(locked, values, errors) + _correct_numbers(locked, values, errors)
        if errors:
            raise ValidationError(errors)
        if not changed:
            raise ValidationError(_("Nothing differs from the file: nothing was changed."))
        if locked.center_id is None:
            locked.center_id = actor.center_id
            changed.append("center")
        locked._history_user = actor  # type: ignore[attr-defined]
        locked._change_reason = reason  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                locked.save(update_fields=changed)
        except IntegrityError:
            raise ValidationError({"id_number": [_("Another file has this ID number.")]}) from None
    return locked


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
    """Center region code + local date + serial, unique across the province. One statement
    (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) creates or increments the counter row and
    holds its row lock until the caller's transaction ends, so concurrent intake at one center
    never reuses a serial (issue 10: one query instead of a savepoint, a read, an update and a
    re-read)."""
    day = timezone.localdate(when)
    table = CaseNumberCounter._meta.db_table
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (center_id, day, last) VALUES (%s, %s, 1) '  # noqa: S608
            f'ON CONFLICT (center_id, day) DO UPDATE SET last = "{table}".last + 1 '
            "RETURNING last",
            [center.pk, day],
        )
        (last,) = cursor.fetchone()
    return f"{center.region_code}{day:%Y%m%d}{last:05d}"


def _case_number_and_keys(
    center: Center, when: datetime, reserve: Sequence[tuple[type[Any], int]]
) -> tuple[str, list[list[int]]]:
    """next_case_number, and in the same statement the next primary keys of the rows the
    registration will insert (``reserve``: model, how many), so the case, its links, its visit and
    its clock go in with their history rows in one more statement (petitions.fastwrite). A key
    taken by a transaction that rolls back is a gap, as any sequence's."""
    day = timezone.localdate(when)
    table = CaseNumberCounter._meta.db_table
    keys = ", ".join(
        f"ARRAY(SELECT {sequence_sql(model)} FROM generate_series(1, {int(n)}))"  # noqa: S608
        for model, n in reserve
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (center_id, day, last) VALUES (%s, %s, 1) '  # noqa: S608
            f'ON CONFLICT (center_id, day) DO UPDATE SET last = "{table}".last + 1 '
            f"RETURNING last, {keys}",
            [center.pk, day],
        )
        last, *reserved = cursor.fetchone()
    return f"{center.region_code}{day:%Y%m%d}{last:05d}", [list(ids) for ids in reserved]


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
    commit through Celery (clocks.notify, the registered clock engine), so a broker outage never
    blocks or loses them."""
    engine = hooks.clock_engine()
    if engine is not None:
        engine.notify_event(event)


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


class OpenCaseExists(DomainError):
    """The person has an open case on the same matter: record a repeat visit on it, or register a
    new case with a reason (API: 409 with the open case's id)."""

    code = "open_case_exists"

    def __init__(self, case: Case) -> None:
        super().__init__(
            _(
                "This person already has an open case on the same matter: %(number)s (%(category)s,"
                " %(state)s). Record this visit as a repeat visit of that case, or give the reason"
                " why this is a new case."
            )
            % {
                "number": case.number,
                "category": case.category.name,
                "state": case.get_state_display(),
            }
        )
        self.case = case


class FinalMatterUnconfirmed(ValidationError):
    """The person's matter is final (不再受理: re-review decided or a review window lapsed, Arts
    35-36; lawfully terminated, Art 37): the same matter on the same facts and reasons is not
    accepted again. A new case is registered only on an explicit confirmation with a reason (new
    facts or reasons); without them, field errors (desk: the form again; API: 400)."""

    def __init__(self, case: Case, *, confirmed: bool, reason: str) -> None:
        errors: dict[str, list[str]] = {}
        if not confirmed:
            errors["final_matter_confirmed"] = [
                _(
                    "The matter of case %(number)s (%(category)s) is final and not to be accepted "
                    "again (Arts 35-37). Register a new case only if the person brings new facts "
                    "or reasons, and confirm it explicitly."
                )
                % {"number": case.number, "category": case.category.name}
            ]
        if not reason:
            errors["final_matter_reason"] = [
                _(
                    "Give the reason for registering a final matter again (for example new "
                    "facts or evidence)."
                )
            ]
        super().__init__(errors)
        self.case = case


def headcount_errors(headcount: int, *, representatives: int = 0) -> dict[str, list[str]]:
    """The bounds of a visit's headcount (1 to MAX_HEADCOUNT) and of its representatives, who are
    among the people who came and so cannot outnumber them."""
    errors: dict[str, list[str]] = {}
    if headcount < 1:
        errors["headcount"] = [_("Headcount must be at least 1.")]
    elif headcount > MAX_HEADCOUNT:
        errors["headcount"] = [
            _("Headcount cannot exceed %(n)s; check the number.") % {"n": f"{MAX_HEADCOUNT:,}"}
        ]
    elif representatives > headcount:
        errors["representatives"] = [
            _("%(reps)d representatives cannot come from %(n)d people: check the headcount.")
            % {"reps": representatives, "n": headcount}
        ]
    return errors


def normalize_legal_case_number(value: str) -> str:
    """A related legal case number (案号) for comparison: no spaces, full-width brackets as ASCII,
    upper case, so “（2024）冀0102执123号” and “(2024)冀0102执123号” are one number."""
    table = str.maketrans({"（": "(", "）": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"})
    return "".join(value.split()).translate(table).upper()


def is_same_matter(case: Case, data: CaseData) -> bool:
    """The rule for “the same matter” (DOMAIN.md §3, repeat visits):

    - when both the open case and the new registration name a related legal case number (案号),
      the matter is the same exactly when the numbers are the same (whatever the category);
    - otherwise it is the same when the content category is the same and so is the organ
      concerned (an organ left empty on either side matches any organ)."""
    on_case = normalize_legal_case_number(case.legal_case_number)
    typed = normalize_legal_case_number(data.legal_case_number)
    if on_case and typed:
        return on_case == typed
    if case.category_id != data.category.pk:
        return False
    return case.organ_id is None or data.organ is None or case.organ_id == data.organ.pk


def open_case_on_same_matter(*, actor: User, petitioner: Petitioner, data: CaseData) -> Case | None:
    """The newest open case of this person (in any role) on the same matter (is_same_matter) that
    the actor can see: their own center's or one below it. One query."""
    if petitioner.pk is None:
        return None
    return _open_case_among(actor, _cases_of(petitioner, open_only=True), data)


def _with_finality(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``matter_is_final`` on each case: lawfully terminated, or final by a row of an app above
    (petitions.hooks final-matter providers, e.g. appeals' Finality), each an EXISTS on its
    unique case index: no query of its own."""
    final = Q(state=CaseState.TERMINATED)
    for provider in hooks.final_matter_providers():
        final |= Q(Exists(provider()))
    return cases.annotate(matter_is_final=ExpressionWrapper(final, output_field=BooleanField()))


def _cases_of(petitioner: Petitioner, *, open_only: bool = False) -> list[Case]:
    """The person's cases (in any role, at any center), newest first, with center and category
    and ``matter_is_final``: what the same-matter checks and the desk's warnings read
    (registration reads them once for all)."""
    cases = Case.objects.filter(case_petitioners__petitioner=petitioner)
    if open_only:
        cases = cases.filter(state__in=CaseState.open_states())
    return list(
        _with_finality(cases.select_related("center", "category")).order_by("-registered_at", "-pk")
    )


def _cases_on_matter(petitioner: Petitioner, data: CaseData) -> list[Case]:
    """The person's cases (in any role, state and center) on the matter of ``data``
    (is_same_matter), newest first, with ``matter_is_final``. One query, narrowed in SQL to the
    cases that can be the same matter (the same category, or any related legal case number when
    one is typed: numbers are compared normalised, in Python)."""
    candidates = Q(category_id=data.category.pk)
    if normalize_legal_case_number(data.legal_case_number):
        candidates |= ~Q(legal_case_number="")
    cases = Case.objects.filter(candidates, case_petitioners__petitioner=petitioner)
    rows = _with_finality(cases.select_related("center", "category")).order_by(
        "-registered_at", "-pk"
    )
    return [c for c in rows if is_same_matter(c, data)]


def _open_case_among(actor: User, cases: Iterable[Case], data: CaseData) -> Case | None:
    from core.orgcache import user_center

    center = user_center(actor)
    for case in cases:
        if not case.is_open:
            continue
        visible = actor.is_superuser or (
            center is not None and case.center.path.startswith(center.path)
        )
        if visible and is_same_matter(case, data):
            return case
    return None


@dataclass
class Registration:
    case: Case
    query_code: str | None  # None when a double submit returned the case created the first time
    created: bool = True
    warnings: list[str] = field(default_factory=list)
    # The person's earlier case on the same matter, when this registration is a repeat (重复访)
    repeat_of: Case | None = None


def _evaluated(qs: QuerySet[Any], rows: list[Any]) -> QuerySet[Any]:
    """``qs`` as if it had been evaluated to ``rows`` (a prefetch cache must be a queryset:
    ``case.attachments.get()`` or ``.filter()`` on it then query as usual)."""
    qs._result_cache = list(rows)  # type: ignore[attr-defined]
    qs._prefetch_done = True  # type: ignore[attr-defined]
    return qs


def register_case(
    *,
    actor: User,
    petitioner: Petitioner,
    data: CaseData,
    representatives: Sequence[Petitioner] = (),
    members: Sequence[Petitioner] = (),
    attachments: Sequence[tuple[str, UploadedFile]] = (),
    submission_key: str | None = None,
    new_case_reason: str = "",
    final_matter_confirmed: bool = False,
    final_matter_reason: str = "",
    open_cases: Sequence[Case] | None = None,
    petitioner_is_new: bool = False,
    with_warnings: bool = True,
    at: datetime | None = None,
    received_by_leader: User | None = None,
) -> Registration:
    """Register a new case at the actor's center (intake), with its first visit.

    ``submission_key`` (a token rendered into the form, or an Idempotency-Key header) makes a
    double-clicked submit return the first case instead of creating a second one.

    A person who already has an open case on the same matter (open_case_on_same_matter) is
    refused with OpenCaseExists unless ``new_case_reason`` says why this is a new case anyway;
    the reason is recorded on the new case's registration event.

    The same person on the same matter again (DOMAIN.md §3: the same related legal case number,
    or the same category and organ) is a repeat visit (重复访) whatever the earlier case's state
    or center: the new case's first visit is stored with ``is_repeat`` (what 重复信访率 counts,
    reports.indicators) and the event names the earlier case. When that matter is final (不再受理,
    Arts 35-37) nothing is registered without ``final_matter_confirmed`` and a
    ``final_matter_reason`` (FinalMatterUnconfirmed); the reason goes on the event and the visit.

    ``open_cases``: the person's
    open cases that the actor can see, when the caller has just read them (the desk's file; an
    empty list for a file opened in this transaction), to save the query.
    ``petitioner_is_new``: the person's file was opened in the caller's transaction, so they have
    no other case (no same-matter check, no warnings to read). ``with_warnings=False``: the
    caller does not show the person's warnings (the desk shows them on the file), none are read.

    Queries (issue 10): no savepoint (a failure aborts the caller's transaction, which is all or
    nothing); the code tables and the deadline rule come from the in-process caches; the case is
    inserted with its ``next_due_at`` and its screening clock opened without a re-check."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("register cases"))
    if actor.center_id is None:
        raise PermissionDenied(_("You are not attached to a center."))
    # The caller's transaction (the desk's, the API's) holds the key's lock from here to commit.
    key_locked = bool(submission_key) and connection.in_atomic_block
    if submission_key:
        existing = submitted_case(submission_key)
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
    errors.update(headcount_errors(data.headcount, representatives=len(reps)))
    new_case_reason = (new_case_reason or "").strip()
    final_matter_reason = (final_matter_reason or "").strip()
    for name, value in (
        ("new_case_reason", new_case_reason),
        ("final_matter_reason", final_matter_reason),
    ):
        if len(value) > MAX_REASON_LENGTH:
            errors.setdefault(name, []).append(
                _("Use at most %(n)d characters.") % {"n": MAX_REASON_LENGTH}
            )
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
    person_cases: list[Case] | None = None  # read once for the checks and the warnings
    same_matter: list[Case] = []  # the person's cases on this matter, any state and center
    if petitioner_is_new:
        open_case = None
    elif open_cases is None:
        person_cases = _cases_of(petitioner) if petitioner.pk is not None else []
        open_case = _open_case_among(actor, person_cases, data)
        same_matter = [c for c in person_cases if is_same_matter(c, data)]
    else:
        open_case = next((c for c in open_cases if c.is_open and is_same_matter(c, data)), None)
        # The caller read only the open cases it offers: the closed and final ones (and any at
        # centers the actor cannot see) in one narrow query.
        same_matter = _cases_on_matter(petitioner, data) if petitioner.pk is not None else []
    if open_case is not None and not new_case_reason:
        raise OpenCaseExists(open_case)
    final_case = next((c for c in same_matter if getattr(c, "matter_is_final", False)), None)
    if final_case is not None and not (final_matter_confirmed and final_matter_reason):
        raise FinalMatterUnconfirmed(
            final_case, confirmed=final_matter_confirmed, reason=final_matter_reason
        )
    repeat_of = open_case or final_case or next(iter(same_matter), None)

    now = at or timezone.now()
    from core.orgcache import user_center

    center = user_center(actor)  # from the organisation cache, no query
    assert center is not None
    clock = _plan_clock(kind="screening", start=now, center=center)
    # No savepoint: the submission key was claimed under a lock (submitted_case), so no
    # IntegrityError on it is left to recover from; any other failure aborts the transaction.
    with transaction.atomic(savepoint=False):
        if submission_key and not key_locked:
            existing = submitted_case(submission_key)  # now under the lock
            if existing is not None:
                return Registration(case=existing, query_code=None, created=False)
        code = make_query_code()
        seen = {petitioner.pk, *(p.pk for p in reps)}
        link_people = [(petitioner, PetitionerRole.MAIN)]
        link_people += [(p, PetitionerRole.REPRESENTATIVE) for p in reps if p.pk != petitioner.pk]
        link_people += [(p, PetitionerRole.MEMBER) for p in members if p.pk not in seen]
        clock_model = _clock_model() if clock is not None else None
        # The case number and the keys of the rows below in one statement.
        number, (case_ids, link_ids, visit_ids, event_ids, *clock_ids) = _case_number_and_keys(
            center,
            now,
            [(Case, 1), (CasePetitioner, len(link_people)), (Visit, 1), (CaseEvent, 1)]
            + ([(clock_model, 1)] if clock_model is not None else []),
        )
        case = Case(
            pk=case_ids[0],
            number=number,
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
            next_due_at=clock.due_at if clock is not None and clock.is_duty else None,
        )
        links = [
            CasePetitioner(pk=pk, case=case, petitioner=p, role=role)
            for pk, (p, role) in zip(link_ids, link_people, strict=True)
        ]
        visit = Visit(
            pk=visit_ids[0],
            case=case,
            petitioner=petitioner,
            center=center,
            channel=data.channel,
            at=now,
            is_repeat=repeat_of is not None,
            headcount=data.headcount,
            notes=(
                _("Registered again although the matter is final. Reason: %(reason)s")
                % {"reason": final_matter_reason}
                if final_case is not None
                else ""
            ),
            received_by=actor,
            received_by_leader=_receiving_leader(received_by_leader),
        )
        message = _("Registered at %(center)s") % {"center": center.name}
        event_data: dict[str, Any] = {}
        if new_case_reason:
            event_data["new_case_reason"] = new_case_reason
        if repeat_of is not None:
            event_data["repeat_of"] = repeat_of.number
            message = _(
                "Registered at %(center)s. Repeat visit: the same matter as case %(number)s "
                "(%(state)s)."
            ) % {
                "center": center.name,
                "number": repeat_of.number,
                "state": repeat_of.get_state_display(),
            }
        if new_case_reason and open_case is not None:
            event_data["open_case"] = open_case.number
            message = _(
                "Registered at %(center)s as a new case while case %(number)s is open on the "
                "same matter. Reason: %(reason)s"
            ) % {"center": center.name, "number": open_case.number, "reason": new_case_reason}
        if final_case is not None:
            event_data["final_case"] = final_case.number
            event_data["final_matter_reason"] = final_matter_reason
            message = _(
                "Registered at %(center)s as a new case although the matter of case "
                "%(number)s is final and not to be accepted again (Arts 35-37). Reason: "
                "%(reason)s"
            ) % {
                "center": center.name,
                "number": final_case.number,
                "reason": final_matter_reason,
            }
        clocks = [_planned_clock_row(case=case, plan=clock, pk=clock_ids[0][0])] if clock else []
        # The timeline event, as record_event writes it (a new case: nothing archived to check).
        event = CaseEvent(
            pk=event_ids[0],
            case=case,
            kind="registered",
            actor=actor,
            at=now,
            message=message,
            from_state="",
            to_state=CaseState.REGISTERED,
            data=event_data,
        )
        # The case, its links, its visit and its screening clock, with a history row each
        # (actor, "+", no change reason, as save() writes them), and the event (no history), in
        # one statement (issue 21).
        insert_with_history([[case], links, [visit], clocks, [event]], user_id=actor.pk)
        if submission_key:
            # Used now: a later check in this transaction must find this case.
            _claimed_keys.get(connection.atomic_blocks[0], set()).discard(submission_key)
        saved = [
            _save_attachment(case=case, kind=kind, upload=upload, actor=actor)
            for kind, upload in attachments
        ]
        on_commit_event(event)
        # The receipt by text message: the case number and the query code (a secret, only in
        # the message the person receives; outreach queues it, once per case).
        hooks.notify_petitioner(
            "receipt",
            case=case,
            petitioner=petitioner,
            context={"center": center.name},
            secrets={"query_code": code},
            key=f"receipt:{case.pk}",
        )
    # What the response shows, from memory (no re-read): the links with their people, the
    # attachments, the center.
    case._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "case_petitioners": _evaluated(case.case_petitioners.all(), links),
        "attachments": _evaluated(case.attachments.all(), saved),
    }
    warnings = (
        []
        if petitioner_is_new or not with_warnings
        else registration_warnings(petitioner, exclude=case, cases=person_cases)
    )
    return Registration(case=case, query_code=code, warnings=warnings, repeat_of=repeat_of)


def submitted_case(submission_key: str) -> Case | None:
    """The case registered with this submission key, if any, read under a transaction-level
    advisory lock on the key: two submissions of one form at the same moment run one after the
    other, and the second finds the first one's case (READ COMMITTED reads what committed while
    it waited). In the caller's transaction (taken again by the same transaction is a no-op)."""
    if not connection.in_atomic_block:
        return Case.objects.filter(submission_key=submission_key).first()
    transaction_ = connection.atomic_blocks[0]
    claimed = _claimed_keys.setdefault(transaction_, set())
    if submission_key in claimed:
        # Locked and found free earlier in this transaction: nobody else can have used it since,
        # and this transaction registers it only once (the view checks, then the service).
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["case:" + submission_key]
        )
    found = Case.objects.filter(submission_key=submission_key).first()
    if found is None:
        claimed.add(submission_key)
    return found


# The submission keys each open transaction (its outermost atomic block) has locked and found free.
_claimed_keys: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _plan_clock(*, kind: str, start: datetime, center: Center) -> Any:
    """The statutory clock a new case will run, planned by the clock engine (clocks, registered
    through petitions.hooks), or None without one."""
    engine = hooks.clock_engine()
    return engine.plan(kind=kind, start=start, center=center) if engine is not None else None


def _clock_model() -> Any:
    engine = hooks.clock_engine()
    assert engine is not None  # a planned clock came from it
    return engine.model


def _planned_clock_row(*, case: Case, plan: Any, pk: int) -> Any:
    """The planned clock's row, unsaved, as clocks.deadlines.open_planned_deadline creates it:
    inserted with the case (register_case), so no clock can be running on it yet; one that did
    would fail the partial unique constraint and roll the whole registration back."""
    rule = plan.rule
    return _clock_model()(
        pk=pk,
        case=case,
        kind=plan.kind,
        rule=rule,
        basis=rule.basis,
        day_type=rule.day_type,
        starts_at=plan.start,
        due_at=plan.due_at,
        is_provisional=plan.is_provisional,
    )


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


def registration_warnings(
    petitioner: Petitioner, exclude: Case | None = None, *, cases: Sequence[Case] | None = None
) -> list[str]:
    """What the front desk must see at once about a person (DOMAIN.md §3, §7). ``cases``: the
    person's cases when the caller has just read them (without ``exclude``), to save the query."""
    warnings: list[str] = []
    states: list[tuple[str, Any, bool]]
    if cases is not None:
        states = [
            (c.state, c.next_due_at, c.is_group)
            for c in cases
            if exclude is None or c.pk != exclude.pk
        ]
    else:
        qs = Case.objects.filter(case_petitioners__petitioner=petitioner)
        if exclude is not None:
            qs = qs.exclude(pk=exclude.pk)
        states = list(qs.values_list("state", "next_due_at", "is_group"))
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


def _receiving_leader(leader: User | None) -> User | None:
    """A visit received in person by a leader (领导接访日) names a leader or a department head
    (the head of an organ). Which leaders receive today is the desk's schedule (intake), which
    offers only those."""
    if leader is not None and not leader.has_role(Role.LEADER, Role.HEAD):
        raise ValidationError({"received_by_leader": [_("Choose a leader or department head.")]})
    return leader


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
    received_by_leader: User | None = None,
) -> Visit:
    """A returning person raising the same matter: link the visit to the existing case (重复访).
    ``received_by_leader``: the leader who received the person in person (领导接访日)."""
    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("record visits"))
    if submission_key:
        existing = Visit.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    errors = headcount_errors(headcount)
    if errors:
        raise ValidationError(errors)
    now = at or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not actor.is_superuser and locked.center_id != actor.center_id:
            # Another center's case (one below: read-only here). The desk reports the visit to
            # that center instead (report_visit_to_case_center) or registers a case of its own.
            raise PermissionDenied(
                _(
                    "Case %(number)s is held by %(center)s: your center cannot record visits on "
                    "it. Report the visit to %(center)s, or register a case of your own."
                )
                % {"number": locked.number, "center": locked.center.name}
            )
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
            received_by_leader=_receiving_leader(received_by_leader),
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


def report_visit_to_case_center(
    *,
    actor: User,
    case: Case,
    petitioner: Petitioner,
    channel: Channel,
    headcount: int = 1,
    notes: str = "",
    submission_key: str | None = None,
    at: datetime | None = None,
) -> int:
    """A person comes to this desk about an open case another center holds (a center below: its
    cases are read-only here). Nothing is written to that case; the reception and triage staff of
    the center that holds it are notified (the notification outbox, e-mailed after commit), so
    that they record the visit or contact the person. Returns the number of notifications
    written (0 for a repeated submission of the same form)."""
    from importlib import import_module

    _require_role(actor, {Role.RECEPTION, Role.TRIAGE}, _("record visits"))
    errors = headcount_errors(headcount)
    if errors:
        raise ValidationError(errors)
    if case.center_id == actor.center_id:
        raise DomainError(
            _("This case is your center's: record the visit on it as a repeat visit."),
            code="own_case",
        )
    if not case.is_open:
        raise DomainError(_("This case is no longer open."), code="case_closed")
    if not CasePetitioner.objects.filter(case=case, petitioner=petitioner).exists():
        raise ValidationError({"case": _("This person is not a petitioner on that case.")})
    now = at or timezone.now()
    center = actor.center
    body = _(
        "%(center)s received %(name)s on %(date)s about this case (%(channel)s, %(n)d "
        "people); the visit was not recorded on the case.%(notes)s"
    ) % {
        "center": center.name if center else "—",
        "name": petitioner.name,
        "date": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "channel": channel.name,
        "n": headcount,
        "notes": (" " + _("Notes: %(notes)s") % {"notes": notes.strip()}) if notes.strip() else "",
    }
    models = import_module("clocks.models")
    notify = import_module("clocks.notify")
    rows = [
        models.Notification(
            audience_center_id=case.center_id,
            audience_role=role,
            case=case,
            kind=models.NotificationKind.EVENT,
            title=case.number,
            body=body,
            created_at=now,
            dedupe_key=f"visit-report:{submission_key}:{role}" if submission_key else None,
        )
        for role in (Role.RECEPTION, Role.TRIAGE)
    ]
    if (
        submission_key
        and models.Notification.objects.filter(dedupe_key=rows[0].dedupe_key).exists()
    ):
        return 0  # the same form again: reported already
    with transaction.atomic():
        models.Notification.objects.bulk_create(rows, ignore_conflicts=True)
        notify.kick_delivery()
    return len(rows)


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
        engine = hooks.clock_engine()
        if engine is not None:
            engine.meet(case=locked, kind="screening", at=timezone.now())

    return transition_case(
        actor=actor,
        case=case,
        name="answer_on_spot",
        message=answer,
        guard=close_clocks,
        expected_version=expected_version,
        changes={"outcome": answer[:200]},
    )
