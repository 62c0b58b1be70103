"""Messages to the petitioner (issue 20 §5): an outbox row written in the caller's transaction,
sent by the worker (outreach.tasks.send_messages) after commit.

The text is rendered from the kind's MessageTemplate (data, edited by an administrator) with
``{placeholder}`` fields. Values passed in ``secrets`` (the query code, the evaluation link) go
only into the encrypted text the worker sends; the copy the case's timeline shows has them masked.
The number is not copied here: the worker decrypts it from the person at send time.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clocks.notify import kick
from core import pii
from core.codecache import TableCache
from outreach.models import Message, MessageKind, MessageState, MessageTemplate
from outreach.sms import BaseSmsBackend, SmsError, get_backend

if TYPE_CHECKING:
    from petitions.models import Case, Petitioner

logger = logging.getLogger(__name__)

SECRET_MASK = "****"
SEND_MESSAGES_TASK = "outreach.tasks.send_messages"

# The placeholders each kind's template may use (the admin form refuses others). Callers pass
# them in ``context`` (or ``secrets``); ``case_number`` is filled from the case when not given.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    MessageKind.RECEIPT: ("case_number", "query_code", "center"),
    MessageKind.ASSIGNMENT: ("case_number", "department", "due_date"),
    MessageKind.REPLY_READY: ("case_number", "evaluation_link"),
    MessageKind.REVIEW_WINDOW: ("case_number", "last_day"),
    MessageKind.APPOINTMENT: ("case_number", "time", "place", "leader"),
    MessageKind.AID_RESULT: ("case_number", "result"),
}


def template_fields(body: str) -> list[str]:
    """The ``{name}`` fields of a template text (ValueError on a malformed brace)."""
    return [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]


def as_text(name: str, value: Any) -> str:
    """A value as the texts write it: dates and times in Chinese, a site path given for a
    ``*_link`` field made absolute (settings.SMS_LINK_BASE_URL: a message has no request)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    text = "" if value is None else str(value)
    if name.endswith("_link") and text.startswith("/"):
        return settings.SMS_LINK_BASE_URL.rstrip("/") + text
    return text


def render(body: str, values: Mapping[str, Any]) -> str:
    """Fill the template's fields; an unknown or missing field renders empty (a template is data:
    a bad one must not break the registration or delivery that queues the message)."""
    out: list[str] = []
    try:
        for literal, name, _, _ in string.Formatter().parse(body):
            out.append(literal)
            if name is not None:
                out.append(as_text(name, values.get(name)))
    except ValueError:  # an unclosed brace (the admin form refuses it): the text as written
        return body
    return "".join(out)


def _load_templates() -> dict[str, str]:
    return dict(
        MessageTemplate.objects.filter(is_active=True).values_list("kind", "body")  # type: ignore[arg-type]
    )


# The texts by kind, kept in process (core.codecache): registration queues a receipt on every
# request, and its query budget (intake/tests/test_registration_queries.py) has room for the
# outbox row only. An administrator's edit reaches every process within a second.
_templates: TableCache[dict[str, str]] = TableCache(
    "outreach_message_templates", _load_templates, ("outreach.MessageTemplate",)
)


def active_templates() -> dict[str, str]:
    return _templates.get()


def _insert_once(message: Message) -> bool:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, in one statement: no savepoint, no prior
    look-up, and a concurrent writer of the same key waits for ours and then writes nothing.
    False when the key was used before. Sets the row's id."""
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    params = [f.get_db_prep_save(getattr(message, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(Message._meta.db_table)} ({columns})"  # noqa: S608 - names from the model
            f" VALUES ({placeholders}) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    message._state.db = "default"
    return True


def kick_sender() -> None:
    """Ask a worker to send queued messages once the current transaction commits, in the same
    broker message as the transaction's e-mail notifications (clocks.notify.kick: one message
    per commit). A broker outage is logged and ignored: the rows stay queued and beat's
    send_messages sends them."""
    kick(SEND_MESSAGES_TASK)


def queue_message(
    *,
    case: Case | None,
    petitioner: Petitioner,
    kind: str,
    context: dict[str, Any],
    dedupe_key: str,
    secrets: dict[str, Any] | None = None,
) -> Message | None:
    """Write the message's outbox row in the caller's transaction (call it inside ``atomic``).

    Returns the row, or None when nothing was written: the key was used before (every cause sends
    once: a retried request, a re-run sweep), or the kind has no active template. A person who
    opted out, or has no number, gets a row in state ``opted_out`` that is never sent.
    """
    body = active_templates().get(kind)
    if body is None:
        logger.warning("no active message template for kind %s: nothing queued", kind)
        return None
    secrets = secrets or {}
    values: dict[str, Any] = {}
    if case is not None:
        values["case_number"] = case.number
    values.update(context)
    text = render(body, {**values, **secrets})
    masked = render(body, {**values, **dict.fromkeys(secrets, SECRET_MASK)})
    can_send = bool(petitioner.phone_enc) and not petitioner.sms_opt_out
    message = Message(
        case=case,
        petitioner=petitioner,
        kind=kind,
        body_enc=pii.encrypt_text(text),
        body_masked=masked,
        phone_masked=petitioner.phone_masked,
        state=MessageState.QUEUED if can_send else MessageState.OPTED_OUT,
        last_error=""
        if can_send
        else ("opted out" if petitioner.sms_opt_out else "no phone number"),
        next_attempt_at=timezone.now(),
        dedupe_key=dedupe_key,
    )
    if not _insert_once(message):
        return None
    if can_send:
        kick_sender()
    return message


def petitioner_notice_listener(
    kind: str,
    *,
    case: Case | None,
    petitioner: Petitioner,
    context: dict[str, Any],
    secrets: dict[str, Any] | None = None,
    key: str,
) -> None:
    """petitions.hooks.notify_petitioner's listener (registered in OutreachConfig.ready): the
    lower apps' notices (receipt, assignment, reply ready) become text messages."""
    queue_message(
        case=case,
        petitioner=petitioner,
        kind=kind,
        context=context,
        secrets=secrets,
        dedupe_key=key,
    )


# --- dates in the texts ----------------------------------------------------------------------------


def format_date(day: date) -> str:
    """A date as the texts write it: 2025年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def format_datetime(moment: datetime) -> str:
    """A time (local) as the texts write it: 2025年3月5日 09:30."""
    local = timezone.localtime(moment)
    return f"{format_date(local.date())} {local:%H:%M}"


# --- the sender ------------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    opted_out: int = 0
    batches: int = 0


def _claim(batch_size: int, lease: timedelta) -> list[int]:
    """Claim up to ``batch_size`` due messages for this worker: their rows are locked (SKIP LOCKED:
    two workers never wait on, or take, the same rows) and their next attempt moved past the lease,
    so no other worker takes them while this one sends outside any transaction. A worker that dies
    holding a claim leaves its messages to be taken again when the lease runs out (the backends
    are idempotent by dedupe key, so a message handed over twice shows once)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(state=MessageState.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if ids:
            Message.objects.filter(pk__in=ids).update(next_attempt_at=now + lease)
    return ids


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the ``attempts``-th failure."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def _safe_error(exc: Exception) -> str:
    # A backend's SmsError text is safe by contract (outreach.sms.base); anything else may
    # carry what it was given (the number, the text): keep its class name only.
    return (str(exc) if isinstance(exc, SmsError) else type(exc).__name__)[:200]


def _send_batch(ids: list[int], backend: BaseSmsBackend, result: SendResult) -> None:
    from petitions.models import CaseEvent, CaseState

    messages = list(
        Message.objects.filter(pk__in=ids)
        .select_related("petitioner", "case")
        .order_by("next_attempt_at", "pk")
    )
    max_attempts = settings.SMS_MAX_ATTEMPTS
    events: list[CaseEvent] = []
    for message in messages:
        person = message.petitioner
        phone = pii.decrypt(person.phone_enc)  # only here, and never logged
        now = timezone.now()
        if person.sms_opt_out:
            # Opted out after the message was queued: it is not sent.
            message.state = MessageState.OPTED_OUT
            message.last_error = "opted out"
            result.opted_out += 1
            continue
        if not phone:
            message.state = MessageState.FAILED
            message.last_error = "no phone number"
            result.failed += 1
            continue
        try:
            gateway_id = backend.send(
                message_id=message.pk,
                dedupe_key=message.dedupe_key,
                phone=phone,
                text=pii.decrypt(message.body_enc),
            )
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried with backoff
            message.attempts += 1
            message.last_error = _safe_error(exc)
            if message.attempts >= max_attempts:
                message.state = MessageState.FAILED
                result.failed += 1
                event_kind = "message_failed"
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
                result.retried += 1
                event_kind = ""
            logger.warning(
                "message %s not sent (attempt %d): %s",
                message.pk,
                message.attempts,
                message.last_error,
            )
        else:
            message.state = MessageState.SENT
            message.attempts += 1
            message.sent_at = now
            message.gateway_id = str(gateway_id)[:100]
            message.last_error = ""
            result.sent += 1
            event_kind = "message_sent"
        # The case's timeline shows the masked text and number. Written directly (bulk), not
        # through record_event, which refuses an archived file: a message queued before the file
        # was archived is still sent, and the archived timeline is left as it was.
        case = message.case
        if event_kind and case is not None and case.state != CaseState.ARCHIVED:
            events.append(
                CaseEvent(
                    case=case,
                    kind=event_kind,
                    actor=None,
                    at=now,
                    message=f"{message.phone_masked}：{message.body_masked}",
                    data={
                        "message": message.pk,
                        "message_kind": message.kind,
                        "phone": message.phone_masked,
                    },
                )
            )
    with transaction.atomic():
        Message.objects.bulk_update(
            messages,
            [
                "state",
                "attempts",
                "next_attempt_at",
                "sent_at",
                "gateway_id",
                "last_error",
            ],
        )
        if events:
            CaseEvent.objects.bulk_create(events)


def send_due_messages(
    *, batch_size: int | None = None, backend: BaseSmsBackend | None = None
) -> SendResult:
    """Send the queued messages that are due, batch by batch (outreach.tasks.send_messages).

    Per batch a constant number of queries: the claim (select and update), one read of the
    messages with their people and cases, one update of the rows and one insert of the events.
    The rows are marked after the gateway took the batch; a worker killed in between sends the
    batch again after the lease, which an idempotent backend shows once."""
    backend = backend or get_backend()
    size = batch_size or settings.SMS_BATCH_SIZE
    lease = timedelta(seconds=settings.SMS_CLAIM_LEASE_SECONDS)
    result = SendResult()
    while ids := _claim(size, lease):
        _send_batch(ids, backend, result)
        result.batches += 1
    return result


# --- the review window's last week ----------------------------------------------------------------

REVIEW_WINDOW_NOTICE_DAYS = 7


def queue_review_window_messages(*, now: datetime | None = None) -> int:
    """Tell the main petitioner of each case whose review window (clocks' review_window deadline:
    复查 / 复核 may still be asked) runs out within the next week, once per window (dedupe key per
    deadline: the daily run and a re-run queue nothing twice). Returns the messages queued."""
    from clocks.models import Deadline, DeadlineKind

    now = now or timezone.now()
    windows = list(
        Deadline.objects.filter(
            kind=DeadlineKind.REVIEW_REQUEST_WINDOW,
            met_at__isnull=True,
            paused_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + timedelta(days=REVIEW_WINDOW_NOTICE_DAYS),
        )
        .select_related("case__main_petitioner")
        .order_by("due_at", "pk")
    )
    queued = 0
    for window in windows:
        case = window.case
        with transaction.atomic():
            message = queue_message(
                case=case,
                petitioner=case.main_petitioner,
                kind=MessageKind.REVIEW_WINDOW,
                context={"last_day": format_date(timezone.localdate(window.due_at))},
                dedupe_key=f"review_window:{window.pk}",
            )
        queued += message is not None
    return queued
