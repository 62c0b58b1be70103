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
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import pii
from outreach.models import Message, MessageKind, MessageState, MessageTemplate

if TYPE_CHECKING:
    from petitions.models import Case, Petitioner

logger = logging.getLogger(__name__)

SECRET_MASK = "****"

# The placeholders each kind's template may use (the admin form refuses others). Callers pass
# them in ``context`` (or ``secrets``); ``case_number`` is filled from the case when not given.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    MessageKind.RECEIPT: ("case_number", "query_code", "center"),
    MessageKind.ASSIGNMENT: ("case_number", "department", "due_date"),
    MessageKind.REPLY_READY: ("case_number", "evaluation_link"),
    MessageKind.REVIEW_WINDOW: ("case_number", "last_day"),
    MessageKind.APPOINTMENT: ("case_number", "time", "place"),
    MessageKind.AID_RESULT: ("case_number", "result"),
}


def template_fields(body: str) -> list[str]:
    """The ``{name}`` fields of a template text (ValueError on a malformed brace)."""
    return [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]


def render(body: str, values: Mapping[str, Any]) -> str:
    """Fill the template's fields; an unknown or missing field renders empty (a template is data:
    a bad one must not break the registration or delivery that queues the message)."""
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(body):
        out.append(literal)
        if name is not None:
            out.append(str(values.get(name, "")))
    return "".join(out)


def kick_sender() -> None:
    """Ask a worker to send queued messages once the current transaction commits. A broker
    outage is logged and ignored: the rows stay queued and beat's send_messages sends them."""

    def send() -> None:
        from outreach.tasks import send_messages

        try:
            send_messages.apply_async(retry=False)
        except Exception as exc:  # noqa: BLE001 - broker down: beat will send later
            logger.warning("broker unavailable, messages stay queued: %s", type(exc).__name__)

    transaction.on_commit(send)


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
    if Message.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    template = MessageTemplate.objects.filter(kind=kind, is_active=True).first()
    if template is None:
        logger.warning("no active message template for kind %s: nothing queued", kind)
        return None
    secrets = secrets or {}
    values: dict[str, Any] = {}
    if case is not None:
        values["case_number"] = case.number
    values.update(context)
    text = render(template.body, {**values, **secrets})
    masked = render(template.body, {**values, **dict.fromkeys(secrets, SECRET_MASK)})
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
    # ON CONFLICT DO NOTHING: a concurrent writer of the same key got there between the check
    # above and here; the savepoint keeps the caller's transaction usable.
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if Message.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    if can_send:
        kick_sender()
    return message
