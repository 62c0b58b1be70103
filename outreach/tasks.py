"""Celery tasks of outreach. Acks late (settings): a task whose worker died is given to another,
and each is safe to run again (messages are claimed with a lease and sent idempotently; the
review window run queues once per window)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_messages() -> dict[str, int]:
    """Send the queued messages to petitioners (kicked after each commit that queues one; beat
    runs it every minute as the safety net)."""
    from outreach.services.messages import send_due_messages

    result = send_due_messages()
    counts = {
        "sent": result.sent,
        "retried": result.retried,
        "failed": result.failed,
        "opted_out": result.opted_out,
    }
    if result.batches:
        # Counts only: never a number or a text.
        logger.info(
            "messages: sent=%d retried=%d failed=%d opted_out=%d",
            result.sent,
            result.retried,
            result.failed,
            result.opted_out,
        )
    return counts


@shared_task(acks_late=True)
def queue_review_window_messages() -> int:
    """Daily (beat): the review window's last week, one message per window."""
    from outreach.services.messages import queue_review_window_messages as queue

    return queue()
