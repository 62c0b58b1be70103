"""Leaders' reception days (领导接访日; issue 20 §3): the schedule of a center, kept by its office.

The schedule is intake.LeaderDuty (the desk reads it: today's leaders, and the visit received in
person by one of them). The center's office (its supervisors and administrators) schedules,
changes and cancels; the leader is a leader or a department head (the head of an organ) of that
center. A leader is scheduled once per center and day (leaderduty_once_per_day): a second row is
refused (409). Each change keeps history (simple-history, attributed to the actor) and tells the
leader through the notification outbox.

LeaderDuty carries no version: a change locks the row and applies the named fields.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import CHINA_TZ
from clocks.models import NotificationKind
from core.errors import DomainError, PermissionDenied
from core.models import Center, User
from core.roles import Role
from intake.models import LeaderDuty
from supervision.services.common import _notify, _to_user

__all__ = [
    "OFFICE_ROLES",
    "cancel_reception_day",
    "may_keep_schedule",
    "schedule_reception_day",
    "update_reception_day",
]

# The center's office keeps the schedule.
OFFICE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
RECEIVING_ROLES = (Role.LEADER, Role.HEAD)


def may_keep_schedule(actor: User, center: Center) -> bool:
    if actor.is_superuser:
        return True
    return actor.center_id == center.pk and actor.has_role(*OFFICE_ROLES)


def _require_office(actor: User, center: Center) -> None:
    if not may_keep_schedule(actor, center):
        raise PermissionDenied(
            _("Only the office of this center (its supervisors) keeps its reception days.")
        )


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def _clean(
    *,
    center: Center,
    leader: User | None,
    day: date | None,
    starts_at: time | None,
    ends_at: time | None,
    place: str,
    subject: str,
    past_ok: bool = False,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if leader is None:
        errors["leader"] = [_("This field is required.")]
    elif not (
        leader.is_active and leader.center_id == center.pk and leader.has_role(*RECEIVING_ROLES)
    ):
        errors["leader"] = [_("Choose a leader or department head of this center.")]
    if day is None:
        errors["date"] = [_("This field is required.")]
    elif day < _today() and not past_ok:
        errors["date"] = [_("A reception day is scheduled for today or a day to come.")]
    if starts_at is None:
        errors["starts_at"] = [_("This field is required.")]
    if ends_at is None:
        errors["ends_at"] = [_("This field is required.")]
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_("The reception ends after it starts.")]
    place = (place or "").strip()
    subject = (subject or "").strip()
    if not place:
        errors["place"] = [_("This field is required.")]
    if len(place) > 200:
        errors["place"] = [_("Keep this under %(n)d characters.") % {"n": 200}]
    if len(subject) > 200:
        errors["subject"] = [_("Keep this under %(n)d characters.") % {"n": 200}]
    if errors:
        raise ValidationError(errors)
    return {"place": place, "subject": subject}


def _duplicate() -> DomainError:
    return DomainError(
        _("This leader is already scheduled to receive at this center on that day."),
        code="duplicate",
    )


def _describe(duty: LeaderDuty) -> dict[str, str]:
    return {
        "date": f"{duty.date:%Y-%m-%d}",
        "from": f"{duty.starts_at:%H:%M}" if duty.starts_at else "",
        "until": f"{duty.ends_at:%H:%M}" if duty.ends_at else "",
        "place": duty.place,
    }


def _tell_leader(duty: LeaderDuty, body: str, actor: User) -> None:
    if duty.leader_id == actor.pk:
        return
    _notify(
        None,
        NotificationKind.EVENT,
        body,
        _to_user(duty.leader),
        at=timezone.now(),
        title=_("Reception day"),
    )


def schedule_reception_day(
    *,
    actor: User,
    center: Center,
    leader: User | None,
    date: date | None,
    starts_at: time | None,
    ends_at: time | None,
    place: str,
    subject: str = "",
    note: str = "",
) -> LeaderDuty:
    _require_office(actor, center)
    cleaned = _clean(
        center=center,
        leader=leader,
        day=date,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        subject=subject,
    )
    assert leader is not None and date is not None  # checked by _clean
    with transaction.atomic():
        if LeaderDuty.objects.filter(center=center, date=date, leader=leader).exists():
            raise _duplicate()
        duty = LeaderDuty(
            center=center,
            leader=leader,
            date=date,
            starts_at=starts_at,
            ends_at=ends_at,
            note=(note or "").strip()[:200],
            **cleaned,
        )
        duty._history_user = actor  # type: ignore[attr-defined]
        try:
            # A concurrent double submit loses the race on leaderduty_once_per_day.
            with transaction.atomic():
                duty.save()
        except IntegrityError:
            raise _duplicate() from None
        _tell_leader(
            duty,
            _("You receive visitors on %(date)s, %(from)s–%(until)s, at %(place)s.")
            % _describe(duty),
            actor,
        )
    return duty


def update_reception_day(
    *,
    actor: User,
    duty: LeaderDuty,
    leader: User | None,
    date: date | None,
    starts_at: time | None,
    ends_at: time | None,
    place: str,
    subject: str = "",
    note: str | None = None,
) -> LeaderDuty:
    with transaction.atomic():
        locked = LeaderDuty.objects.select_for_update().select_related("center").get(pk=duty.pk)
        _require_office(actor, locked.center)
        if locked.date < _today():
            raise DomainError(_("A past reception day cannot be changed."), code="past")
        cleaned = _clean(
            center=locked.center,
            leader=leader,
            day=date,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            subject=subject,
        )
        assert leader is not None and date is not None
        if (
            LeaderDuty.objects.filter(center_id=locked.center_id, date=date, leader=leader)
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise _duplicate()
        old_leader = locked.leader
        locked.leader = leader
        locked.date = date
        locked.starts_at = starts_at
        locked.ends_at = ends_at
        locked.place = cleaned["place"]
        locked.subject = cleaned["subject"]
        fields = ["leader", "date", "starts_at", "ends_at", "place", "subject"]
        if note is not None:
            locked.note = note.strip()[:200]
            fields.append("note")
        locked._history_user = actor  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                locked.save(update_fields=fields)
        except IntegrityError:
            raise _duplicate() from None
        _tell_leader(
            locked,
            _("Your reception day is now %(date)s, %(from)s–%(until)s, at %(place)s.")
            % _describe(locked),
            actor,
        )
        if old_leader.pk != leader.pk and old_leader.pk != actor.pk:
            _notify(
                None,
                NotificationKind.EVENT,
                _("You no longer receive visitors on %(date)s.") % {"date": f"{date:%Y-%m-%d}"},
                _to_user(old_leader),
                at=timezone.now(),
                title=_("Reception day"),
            )
    return locked


def cancel_reception_day(*, actor: User, duty: LeaderDuty) -> None:
    """Take the day off the schedule (the history keeps the deleted row, with the actor)."""
    with transaction.atomic():
        locked = LeaderDuty.objects.select_for_update().select_related("center").get(pk=duty.pk)
        _require_office(actor, locked.center)
        if locked.date < _today():
            raise DomainError(_("A past reception day cannot be cancelled."), code="past")
        body = _("Your reception day of %(date)s is cancelled.") % {
            "date": f"{locked.date:%Y-%m-%d}"
        }
        _tell_leader(locked, body, actor)
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.delete()
