"""Notifications: written as rows inside the business transaction, e-mailed after commit by Celery.

A broker outage at commit time is logged and ignored: the rows stay ``pending`` and the periodic
``deliver_pending_notifications`` (Celery beat) sends them once the broker is back. Intake never
waits for, or fails because of, the broker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from petitions.models import CaseEvent

from .models import (
    DeadlineKind,
    DeliveryState,
    Notification,
    NotificationKind,
    NotificationRead,
    WarningLevel,
)

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


# Apps above clocks say who hears of their own event kinds (routing: the departments an assignment
# goes to), registered from their AppConfig.ready(); clocks never imports them.
AudienceProvider = Callable[[CaseEvent], list[dict[str, object]]]
_audience_providers: dict[str, AudienceProvider] = {}


def register_audience(kinds: Iterable[str], provider: AudienceProvider) -> None:
    for kind in kinds:
        _audience_providers[kind] = provider


def _audience_rows(event: CaseEvent) -> list[dict[str, object]]:
    """Who hears of a case event (besides the person who caused it)."""
    case = event.case
    data = event.data or {}
    if event.kind == "registered":
        return [{"audience_center_id": case.center_id, "audience_role": "triage"}]
    provider = _audience_providers.get(event.kind)
    if provider is not None:
        return provider(event)
    if event.kind in {"return_assignment", "assist_returned"}:
        return [{"audience_center_id": case.center_id, "audience_role": "triage"}]
    if event.kind == "transfer":
        return [
            {"audience_center_id": data.get("to_center", case.center_id), "audience_role": "triage"}
        ]
    return []


def notify_event(event: CaseEvent) -> int:
    """Write the outbox rows for ``event`` in the caller's transaction and kick delivery on commit."""
    rows = [
        Notification(
            case=event.case,
            kind=NotificationKind.EVENT,
            title=event.case.number,
            body=event.kind,
            created_at=event.at,
            **row,
        )  # type: ignore[arg-type]
        for row in _audience_rows(event)
    ]
    Notification.objects.bulk_create(rows)
    if rows:
        kick_delivery()
    return len(rows)


NOTIFICATIONS_TASK = "clocks.tasks.deliver_pending_notifications"


class _Kick:
    """The one after-commit publish of a transaction: every outbox written in it (notifications,
    text messages) is announced to the workers by a single broker message, however many rows or
    kinds were written. Registered once per transaction (see ``kick``)."""

    __slots__ = ("tasks",)

    def __init__(self, task: str) -> None:
        self.tasks = [task]

    def __call__(self) -> None:
        publish_kick(self.tasks)


def publish_kick(tasks: list[str]) -> None:
    """One message for ``tasks``: the notifications' delivery task carries the others along
    (``also``: the worker runs them after it, same queue), a lone other task is sent as itself.
    A broker outage is logged and ignored: the rows stay pending and beat sends them later."""
    from config.celery import app

    try:
        if NOTIFICATIONS_TASK in tasks:
            also = [t for t in tasks if t != NOTIFICATIONS_TASK]
            # By name: a web process need not import the task modules; routed by name too.
            app.send_task(NOTIFICATIONS_TASK, kwargs={"also": also} if also else None, retry=False)
        else:
            for task in tasks:  # one: no caller kicks two other senders today
                app.send_task(task, retry=False)
    except Exception as exc:  # noqa: BLE001 - broker down: beat will deliver later
        logger.warning("broker unavailable, outbox rows stay pending: %s", type(exc).__name__)


def kick(task: str) -> None:
    """Ask a worker to run ``task`` (an outbox sender of the notifications queue) once the current
    transaction commits, in the transaction's single kick: a second call in the same transaction
    joins the first call's callback instead of adding a broker message. It joins only a callback
    that a rollback to a savepoint cannot drop without dropping this call's too (its savepoints a
    subset of the current ones); otherwise, and outside a transaction, it registers its own."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        for savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _Kick) and savepoints <= current:
                if task not in callback.tasks:
                    callback.tasks.append(task)
                return
    transaction.on_commit(_Kick(task))


def kick_delivery() -> None:
    """Ask a worker to send pending e-mail once the current transaction commits (one broker
    message per transaction, shared with the text messages: ``kick``)."""
    kick(NOTIFICATIONS_TASK)


def recipients(notification: Notification) -> QuerySet[User]:
    if notification.recipient_id:
        return User.objects.filter(pk=notification.recipient_id, is_active=True)
    if notification.audience_center_id is None:
        return User.objects.none()
    qs = User.objects.filter(
        is_active=True,
        center_id=notification.audience_center_id,
        roles__role=notification.audience_role,
    )
    if notification.audience_department_id:
        qs = qs.filter(department_id=notification.audience_department_id)
    return qs.distinct()


def notifications_for(user: User) -> QuerySet[Notification]:
    """The in-app inbox: addressed to the user, or to one of their roles at their center; each
    row annotated ``is_read`` for this user (reads are per user: NotificationRead)."""
    read = NotificationRead.objects.filter(notification_id=OuterRef("pk"), user_id=user.pk)
    base = (
        Notification.objects.annotate(is_read=Exists(read))
        .select_related("case")
        .order_by("-created_at")
    )
    if user.center_id is None:
        return base.filter(recipient=user)
    audience = Q(audience_center_id=user.center_id, audience_role__in=list(user.role_codes)) & (
        Q(audience_department__isnull=True) | Q(audience_department_id=user.department_id)
    )
    return base.filter(Q(recipient=user) | audience)


_LEVEL_BODY = re.compile(r"^(?P<kind>[a-z_]+):(?P<level>[a-z_]+)$")
_STEP_BODY = re.compile(r"^(?P<kind>[a-z_]+):step(?P<step>\d+)$")


def describe_detail(body: str) -> str:
    """The readable form of a notification's body, which the sweep and the outbox store as codes
    (``handling:overdue``, ``review_request:step1``, an event kind): never show the code itself."""
    from petitions.events import EVENT_LABELS, event_label
    from petitions.states import TRANSITIONS

    match = _STEP_BODY.match(body)
    if match and match["kind"] in DeadlineKind.values:
        return _("%(deadline)s: escalation step %(step)s") % {
            "deadline": DeadlineKind(match["kind"]).label,
            "step": match["step"],
        }
    match = _LEVEL_BODY.match(body)
    if match and match["kind"] in DeadlineKind.values and match["level"] in WarningLevel.values:
        return f"{DeadlineKind(match['kind']).label}：{WarningLevel(match['level']).label}"
    if body in EVENT_LABELS or body in TRANSITIONS:
        return event_label(body)
    return body


def describe(notification: Notification) -> str:
    kind_label = NotificationKind(notification.kind).label
    if notification.case_id is None:
        return f"{kind_label}: {notification.title}"
    return _("%(kind)s: case %(number)s (%(detail)s)") % {
        "kind": kind_label,
        "number": notification.title,
        "detail": describe_detail(notification.body),
    }


def deliver_pending(*, batch: int = 200) -> int:
    """Send pending e-mails. Rows are claimed with SKIP LOCKED so two workers never send one twice."""
    sent = 0
    while True:
        with transaction.atomic():
            claimed = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(delivery=DeliveryState.PENDING)
                .order_by("id")[:batch]
            )
            if not claimed:
                return sent
            for notification in claimed:
                addresses = [
                    e for e in recipients(notification).values_list("email", flat=True) if e
                ]
                notification.attempts += 1
                if not addresses:
                    notification.delivery = DeliveryState.SKIPPED
                else:
                    try:
                        send_mail(
                            describe(notification),
                            notification.body or describe(notification),
                            None,
                            addresses,
                        )
                        notification.delivery = DeliveryState.SENT
                        sent += 1
                    except Exception as exc:  # noqa: BLE001 - SMTP trouble: retry later, then give up
                        logger.warning(
                            "e-mail for notification %s failed: %s", notification.pk, exc
                        )
                        if notification.attempts >= MAX_ATTEMPTS:
                            notification.delivery = DeliveryState.FAILED
                notification.delivered_at = timezone.now()
                notification.save(update_fields=["delivery", "delivered_at", "attempts"])
        if len(claimed) < batch:
            return sent


def write_daily_digests(*, day: object | None = None) -> int:
    """One digest per department with active assignments: counts to sign for, due soon, overdue.
    One INSERT ... SELECT ... GROUP BY; the dedupe key makes a second run that day a no-op."""
    from django.db import connection

    today = timezone.localdate() if day is None else day
    now = timezone.now()
    sql = """
        INSERT INTO supervision_notification (recipient_id, audience_center_id, audience_department_id,
               audience_role, case_id, kind, title, body, created_at, delivery, attempts, dedupe_key)
        SELECT NULL, d.center_id, a.department_id, role.r, NULL, 'digest', %(title)s,
               count(*) FILTER (WHERE a.state = 'pending') || '/' ||
               count(*) FILTER (WHERE a.due_at < %(now)s) || '/' ||
               count(*) FILTER (WHERE a.due_at >= %(now)s AND a.due_at < %(now)s + interval '7 days'),
               %(now)s, 'pending', 0, 'digest:' || a.department_id || ':' || role.r || ':' || %(day)s
          FROM routing_assignment a
          JOIN core_department d ON d.id = a.department_id
          CROSS JOIN (VALUES ('officer'), ('head')) AS role(r)
         WHERE a.state IN ('pending', 'signed', 'accepted')
         GROUP BY d.center_id, a.department_id, role.r
        ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"title": str(today), "now": now, "day": str(today)})
        count = cursor.rowcount
    kick_delivery()
    return count


def unread_count(user: User) -> int:
    """The badge in every page's header: the inbox's own rows (``notifications_for``: the one
    place that says who a notification is for) not read by the user, one COUNT. Read fresh each
    time: a new notification shows on the next page."""
    return (
        notifications_for(user)
        .filter(is_read=False)  # type: ignore[misc]  # annotated by notifications_for
        .select_related(None)
        .order_by()
        .count()
    )


def mark_read(*, user: User, ids: Iterable[int]) -> int:
    """Mark notifications of the user's inbox read for this user only. Ids outside the inbox are
    ignored; a repeat (double click) creates nothing twice (unique constraint)."""
    unread = list(
        notifications_for(user).filter(pk__in=list(ids), is_read=False).values_list("pk", flat=True)  # type: ignore[misc]  # annotated by notifications_for
    )
    now = timezone.now()
    NotificationRead.objects.bulk_create(
        [NotificationRead(notification_id=pk, user=user, read_at=now) for pk in unread],
        ignore_conflicts=True,
    )
    return len(unread)
