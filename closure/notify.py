"""Who hears of a closure step: notification outbox rows (clocks.models.Notification) written in
the business transaction; e-mail goes out after commit (clocks.notify.kick_delivery)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from clocks.models import Notification, NotificationKind
from core.models import User
from petitions.models import Case


def _write(rows: list[Notification]) -> None:
    from clocks.notify import kick_delivery

    if rows:
        Notification.objects.bulk_create(rows)
        kick_delivery()


def to_department(*, case: Case, department_id: int, roles: tuple[str, ...], body: str) -> None:
    _write(
        [
            Notification(
                case=case,
                kind=NotificationKind.EVENT,
                title=case.number,
                body=body,
                audience_center_id=case.center_id,
                audience_department_id=department_id,
                audience_role=role,
            )
            for role in roles
        ]
    )


def to_user(*, case: Case, user: User | None, body: str) -> None:
    if user is None:
        return
    _write(
        [
            Notification(
                case=case,
                kind=NotificationKind.EVENT,
                title=case.number,
                body=body,
                recipient=user,
            )
        ]
    )


def reply_submitted(case: Case, department_id: int) -> None:
    to_department(
        case=case,
        department_id=department_id,
        roles=("head",),
        body=_("A written reply awaits your approval."),
    )


def dissatisfied(case: Case, department_id: int) -> None:
    to_department(
        case=case,
        department_id=department_id,
        roles=("officer", "head"),
        body=_("The petitioner is dissatisfied: a return visit is due."),
    )
