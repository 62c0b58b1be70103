"""下访 and 约访 (DOMAIN.md §8 "Going to the people"; issue 20 §2): the one write path.

- ``record_home_visit``: a visit to the petitioner (下访) that happened, recorded on the case.
- ``schedule_appointment``: the center invites the petitioner (约访) at a set time and place; the
  petitioner is told by text message (outreach.services.messages, in this transaction) and the
  lead department's officers are reminded the day before (outreach.tasks_visits).
- ``record_appointment_kept``: the petitioner came: a visit on the case (received in person by the
  appointment's leader when one was set), linked to the appointment.
- ``mark_appointment_missed`` / ``cancel_appointment``.

Who records: the staff of a department assigned to the case (active assignment), the case's
center staff (reception, triage, supervisors, leaders), and leaders of a center above it. The
``leader`` named on a visit or appointment is a leader or a department head (the head of an organ)
of the case's center or of a center above it.

Versions: creating a row checks the case's ``expected_version`` (the form was read at it) and
leaves the case's version alone (the case itself does not change); writes on an appointment check
the appointment's own ``version``. Kept records a visit, which bumps the case's visit count and
version as the desk's visit does. Lock order: the case row first, then the appointment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clocks.deadlines import CHINA_TZ
from clocks.models import NotificationKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from core.selectors import visible_center_ids
from petitions.models import Case, Channel, Visit
from petitions.services import record_event
from routing.models import ACTIVE_ASSIGNMENT_STATES, Assignment
from supervision.services.common import _handlers_audience, _notify, _to_user

from ..models import Outreach, OutreachKind, OutreachState, PlaceKind
from ..selectors_visits import state_label

__all__ = [
    "CENTER_STAFF_ROLES",
    "EVENT_LABELS",
    "LEADER_ROLES",
    "cancel_appointment",
    "check_leader_for_case",
    "may_record_outreach",
    "mark_appointment_missed",
    "record_appointment_kept",
    "record_home_visit",
    "schedule_appointment",
]

# The center's own staff who may go to the petitioner or invite them.
CENTER_STAFF_ROLES = (Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR, Role.LEADER)
DEPARTMENT_ROLES = (Role.OFFICER, Role.HEAD)
# Who counts as a leader on a visit: a leader, or the head of an organ (a department head).
LEADER_ROLES = (Role.LEADER, Role.HEAD)
# A visit "now" typed on a slow clock: a few minutes ahead is not the future.
CLOCK_SKEW = timedelta(minutes=5)
TEXT_LIMIT = 4000


# The timeline's words for this module's events (registered by outreach.apps).
EVENT_LABELS = {
    "home_visit": gettext_lazy("Visit to the petitioner (下访)"),
    "appointment_scheduled": gettext_lazy("Appointment set (约访)"),
    "appointment_kept": gettext_lazy("The petitioner came to the appointment"),
    "appointment_missed": gettext_lazy("The petitioner missed the appointment"),
    "appointment_cancelled": gettext_lazy("Appointment cancelled"),
    "appointment_reminded": gettext_lazy("Officers reminded of the appointment"),
}


# --- guards ---------------------------------------------------------------------------------------


def may_record_outreach(
    actor: User, case: Case, *, assignments: Sequence[Assignment] | None = None
) -> bool:
    """The actor may record a 下访 or a 约访 on this case (see the module's docstring).
    ``assignments``: the case's assignments when the caller has them (the case page), else one
    query."""
    if actor.is_superuser:
        return True
    if not actor.is_active or actor.center_id is None:
        return False
    if actor.center_id == case.center_id and actor.has_role(*CENTER_STAFF_ROLES):
        return True
    if actor.has_role(Role.LEADER) and case.center_id in visible_center_ids(actor):
        return True
    if actor.department_id is not None and actor.has_role(*DEPARTMENT_ROLES):
        if assignments is not None:
            return any(
                a.department_id == actor.department_id and a.state in ACTIVE_ASSIGNMENT_STATES
                for a in assignments
            )
        return Assignment.objects.filter(
            case_id=case.pk,
            department_id=actor.department_id,
            state__in=ACTIVE_ASSIGNMENT_STATES,
        ).exists()
    return False


def _require_recorder(actor: User, case: Case) -> None:
    if not may_record_outreach(actor, case):
        raise PermissionDenied(
            _(
                "Only the departments handling this case, its center's staff and leaders may "
                "record visits to the petitioner and appointments."
            )
        )


def check_leader_for_case(leader: User | None, case: Case, field: str = "leader") -> None:
    """400 unless ``leader`` is a leader or department head of the case's center or above."""
    if leader is None:
        return
    ok = (
        leader.is_active
        and leader.center_id is not None
        and leader.has_role(*LEADER_ROLES)
        and case.center_id in visible_center_ids(leader)
    )
    if not ok:
        raise ValidationError(
            {
                field: [
                    _(
                        "Choose a leader or department head of the case's center or of a "
                        "center above it."
                    )
                ]
            }
        )


def _text(value: str | None, field: str, errors: dict[str, list[str]], *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(field, []).append(_("This field is required."))
    elif len(value) > TEXT_LIMIT:
        errors.setdefault(field, []).append(
            _("Keep this under %(n)d characters.") % {"n": TEXT_LIMIT}
        )
    return value


def _check_case_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise StaleState(
            _("The case was changed by someone else in the meantime; reload it and try again.")
        )


def _check_version(row: Outreach, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise StaleState(
            _(
                "This appointment was changed by someone else in the meantime; reload it and try again."
            )
        )


def _local(at: datetime) -> str:
    return f"{at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"


def _existing(case: Case, submission_key: str) -> Outreach | None:
    if not submission_key:
        return None
    return Outreach.objects.filter(case_id=case.pk, submission_key=submission_key).first()


def _save_new(row: Outreach, actor: User) -> Outreach:
    """Insert under a savepoint: a concurrent double submit with the same key loses the race on
    the unique constraint (outreach_submission_once) and returns the first row."""
    row._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if row.submission_key:
            first = Outreach.objects.filter(
                case_id=row.case_id, submission_key=row.submission_key
            ).first()
            if first is not None:
                raise _AlreadySubmitted(first) from None
        raise
    return row


class _AlreadySubmitted(Exception):  # noqa: N818 - control flow, never leaves this module
    def __init__(self, row: Outreach) -> None:
        self.row = row


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("center").get(pk=case.pk)


def _lock_appointment(appointment: Outreach) -> tuple[Case, Outreach]:
    locked_case = _lock_case(appointment.case)
    row = (
        Outreach.objects.select_for_update(of=("self",))
        .select_related("leader")
        .get(pk=appointment.pk)
    )
    if row.kind != OutreachKind.APPOINTMENT:
        raise DomainError(_("This is not an appointment."), code="not_appointment")
    return locked_case, row


def _require_scheduled(row: Outreach) -> None:
    if row.state != OutreachState.SCHEDULED:
        raise DomainError(
            _("The appointment is “%(state)s”: it can no longer be changed.")
            % {"state": state_label(row.state)},
            code="appointment_not_scheduled",
        )


def _save(row: Outreach, actor: User, fields: list[str]) -> None:
    row.version += 1
    row._history_user = actor  # type: ignore[attr-defined]
    row.save(update_fields=[*fields, "version"])


# --- 下访 -----------------------------------------------------------------------------------------


def record_home_visit(
    *,
    actor: User,
    case: Case,
    at: datetime,
    place: str,
    place_kind: str = PlaceKind.HOME,
    leader: User | None = None,
    participants: str = "",
    notes: str,
    agreed: str = "",
    next_step: str = "",
    outcome: str = "",
    expected_version: int | None,
    submission_key: str = "",
) -> Outreach:
    """A visit to the petitioner (下访) that took place: who went (``leader``, else staff only),
    when (not in the future), where, with whom, what the petitioner said, what was agreed and the
    next step. The lead department is told (it carries the matter on)."""
    _require_recorder(actor, case)
    errors: dict[str, list[str]] = {}
    place = _text(place, "place", errors, required=True)
    if len(place) > 200:
        errors.setdefault("place", []).append(_("Keep this under %(n)d characters.") % {"n": 200})
    notes = _text(notes, "notes", errors, required=True)
    participants = _text(participants, "participants", errors, required=False)
    agreed = _text(agreed, "agreed", errors, required=False)
    next_step = _text(next_step, "next_step", errors, required=False)
    outcome = _text(outcome, "outcome", errors, required=False)
    if place_kind not in PlaceKind.values:
        errors["place_kind"] = [_("Choose a kind of place.")]
    now = timezone.now()
    if at > now + CLOCK_SKEW:
        errors["at"] = [_("A visit is recorded once it took place: the time is in the future.")]
    if errors:
        raise ValidationError(errors)
    check_leader_for_case(leader, case)
    found = _existing(case, submission_key)
    if found is not None:
        return found
    with transaction.atomic():
        locked = _lock_case(case)
        _check_case_version(locked, expected_version)
        row = Outreach(
            case=locked,
            kind=OutreachKind.HOME_VISIT,
            at=at,
            place=place,
            place_kind=place_kind,
            leader=leader,
            participants=participants,
            notes=notes,
            agreed=agreed,
            next_step=next_step,
            outcome=outcome,
            state=OutreachState.DONE,
            recorded_by=actor,
            recorded_at=now,
            submission_key=submission_key,
        )
        try:
            _save_new(row, actor)
        except _AlreadySubmitted as first:
            return first.row
        who = str(leader) if leader is not None else _("staff")
        record_event(
            case=locked,
            kind="home_visit",
            actor=actor,
            at=now,
            message=_("Visit to the petitioner (%(who)s) on %(at)s at %(place)s: %(notes)s")
            % {"who": who, "at": _local(at), "place": place, "notes": notes},
            data={"outreach": row.pk, "leader": leader.pk if leader is not None else None},
        )
        _notify(
            locked,
            NotificationKind.EVENT,
            _("%(number)s: visit to the petitioner recorded (%(at)s). Next step: %(next)s")
            % {"number": locked.number, "at": _local(at), "next": next_step or "—"},
            _handlers_audience(locked, None),
            at=now,
        )
    return row


# --- 约访 -----------------------------------------------------------------------------------------


def _queue_appointment_message(case: Case, row: Outreach) -> None:
    """The petitioner's text message (issue 20 §5), in this transaction; sent after commit.
    ``dedupe_key`` makes a retried request send once."""
    try:
        from .messages import queue_message
    except ImportError:  # pragma: no cover - the messages part not installed
        return
    queue_message(
        case=case,
        petitioner=case.main_petitioner,
        kind="appointment",
        context={
            "time": _local(row.at),
            "place": row.place,
            "leader": str(row.leader) if row.leader is not None else "",
        },
        dedupe_key=f"appointment:{row.pk}",
    )


def schedule_appointment(
    *,
    actor: User,
    case: Case,
    at: datetime,
    place: str,
    place_kind: str = PlaceKind.CENTER,
    leader: User | None = None,
    notes: str = "",
    expected_version: int | None,
    submission_key: str = "",
) -> Outreach:
    """Invite the petitioner (约访) at ``at`` (in the future) and ``place``, received by
    ``leader`` when one is named. The case must be open."""
    _require_recorder(actor, case)
    errors: dict[str, list[str]] = {}
    place = _text(place, "place", errors, required=True)
    if len(place) > 200:
        errors.setdefault("place", []).append(_("Keep this under %(n)d characters.") % {"n": 200})
    notes = _text(notes, "notes", errors, required=False)
    if place_kind not in PlaceKind.values:
        errors["place_kind"] = [_("Choose a kind of place.")]
    now = timezone.now()
    if at <= now:
        errors["at"] = [_("An appointment is set for a time to come.")]
    if errors:
        raise ValidationError(errors)
    check_leader_for_case(leader, case)
    found = _existing(case, submission_key)
    if found is not None:
        return found
    with transaction.atomic():
        locked = _lock_case(case)
        _check_case_version(locked, expected_version)
        if not locked.is_open:
            raise DomainError(
                _("The case is no longer open: no appointment can be set."), code="case_not_open"
            )
        row = Outreach(
            case=locked,
            kind=OutreachKind.APPOINTMENT,
            at=at,
            place=place,
            place_kind=place_kind,
            leader=leader,
            notes=notes,
            state=OutreachState.SCHEDULED,
            recorded_by=actor,
            recorded_at=now,
            submission_key=submission_key,
        )
        try:
            _save_new(row, actor)
        except _AlreadySubmitted as first:
            return first.row
        record_event(
            case=locked,
            kind="appointment_scheduled",
            actor=actor,
            at=now,
            message=_("Appointment with the petitioner on %(at)s at %(place)s%(leader)s")
            % {
                "at": _local(at),
                "place": place,
                "leader": _(", received by %(leader)s") % {"leader": leader}
                if leader is not None
                else "",
            },
            data={"outreach": row.pk, "leader": leader.pk if leader is not None else None},
        )
        audience = _handlers_audience(locked, None)
        if leader is not None and leader.pk != actor.pk:
            audience += _to_user(leader)
        _notify(
            locked,
            NotificationKind.EVENT,
            _("%(number)s: the petitioner is invited on %(at)s at %(place)s.")
            % {"number": locked.number, "at": _local(at), "place": place},
            audience,
            at=now,
        )
        _queue_appointment_message(locked, row)
    return row


def record_appointment_kept(
    *,
    actor: User,
    appointment: Outreach,
    notes: str,
    expected_version: int | None,
) -> Outreach:
    """The petitioner came: a visit on the case linked to the appointment, received in person by
    the appointment's leader when one was set (counted as a visit received by a leader).

    petitions.services.record_repeat_visit is the desk's write path (reception and triage of the
    case's center only); an appointment is kept by whoever handles it, so the visit is written
    here with the same steps (the visit row, the case's visit count and version, the event), in
    one transaction with the case locked first, as tours' receptions do."""
    case = appointment.case
    _require_recorder(actor, case)
    errors: dict[str, list[str]] = {}
    notes = _text(notes, "notes", errors, required=True)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    channel = Channel.objects.get(code="visit")
    with transaction.atomic():
        locked_case, row = _lock_appointment(appointment)
        _check_version(row, expected_version)
        _require_scheduled(row)
        petitioner = locked_case.main_petitioner
        visit = Visit(
            case=locked_case,
            petitioner=petitioner,
            center=locked_case.center,
            channel=channel,
            at=now,
            is_repeat=True,  # the same matter raised again on a registered case, as the desk does
            headcount=1,
            notes=notes,
            received_by=actor,
            received_by_leader=row.leader,
        )
        visit._history_user = actor  # type: ignore[attr-defined]
        visit.save()
        locked_case.visit_count = F("visit_count") + 1
        locked_case.version = F("version") + 1
        locked_case._history_user = actor  # type: ignore[attr-defined]
        locked_case.save(update_fields=["visit_count", "version"])
        row.state = OutreachState.KEPT
        row.visit = visit
        row.outcome = notes
        _save(row, actor, ["state", "visit", "outcome"])
        record_event(
            case=locked_case,
            kind="appointment_kept",
            actor=actor,
            at=now,
            message=_("The petitioner came to the appointment of %(at)s%(leader)s: %(notes)s")
            % {
                "at": _local(row.at),
                "leader": _(", received by %(leader)s") % {"leader": row.leader}
                if row.leader is not None
                else "",
                "notes": notes,
            },
            data={
                "outreach": row.pk,
                "visit": visit.pk,
                "leader": row.leader_id,
            },
        )
        _notify(
            locked_case,
            NotificationKind.EVENT,
            _("%(number)s: the petitioner came to the appointment.")
            % {"number": locked_case.number},
            _handlers_audience(locked_case, None),
            at=now,
        )
    return row


def mark_appointment_missed(
    *,
    actor: User,
    appointment: Outreach,
    reason: str,
    expected_version: int | None = None,
) -> Outreach:
    """The petitioner did not come (only once the appointment's time has passed)."""
    case = appointment.case
    _require_recorder(actor, case)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required=True)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked_case, row = _lock_appointment(appointment)
        _check_version(row, expected_version)
        _require_scheduled(row)
        if row.at > now:
            raise DomainError(
                _("The appointment's time has not come yet: it cannot be missed."),
                code="appointment_not_due",
            )
        row.state = OutreachState.MISSED
        row.outcome = reason
        _save(row, actor, ["state", "outcome"])
        record_event(
            case=locked_case,
            kind="appointment_missed",
            actor=actor,
            at=now,
            message=_("The petitioner did not come to the appointment of %(at)s: %(reason)s")
            % {"at": _local(row.at), "reason": reason},
            data={"outreach": row.pk},
        )
        _notify(
            locked_case,
            NotificationKind.EVENT,
            _("%(number)s: the petitioner did not come to the appointment of %(at)s.")
            % {"number": locked_case.number, "at": _local(row.at)},
            _handlers_audience(locked_case, None),
            at=now,
        )
    return row


def cancel_appointment(
    *,
    actor: User,
    appointment: Outreach,
    reason: str,
    expected_version: int | None = None,
) -> Outreach:
    """Call the appointment off (before or after its time, while still scheduled)."""
    case = appointment.case
    _require_recorder(actor, case)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required=True)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        locked_case, row = _lock_appointment(appointment)
        _check_version(row, expected_version)
        _require_scheduled(row)
        row.state = OutreachState.CANCELLED
        row.outcome = reason
        _save(row, actor, ["state", "outcome"])
        record_event(
            case=locked_case,
            kind="appointment_cancelled",
            actor=actor,
            at=now,
            message=_("Appointment of %(at)s cancelled: %(reason)s")
            % {"at": _local(row.at), "reason": reason},
            data={"outreach": row.pk},
        )
        audience: list[dict[str, Any]] = _handlers_audience(locked_case, None)
        if row.leader is not None and row.leader_id != actor.pk:
            audience += _to_user(row.leader)
        _notify(
            locked_case,
            NotificationKind.EVENT,
            _("%(number)s: the appointment of %(at)s is cancelled.")
            % {"number": locked_case.number, "at": _local(row.at)},
            audience,
            at=now,
        )
    return row
