"""Celery tasks. Acks late (settings): a worker that dies mid-task leaves the message for another,
and every task here is safe to run again."""

from __future__ import annotations

import logging

from celery import current_task, shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_deadline_checks() -> dict[str, int]:
    """The deadline sweep (beat, every five minutes), in batches of settings.SWEEP_BATCH_SIZE
    clocks that each commit on their own. A worker killed mid-sweep leaves the committed batches
    done and the message unacknowledged: the redelivered message (or the next beat) finishes the
    rest, changing no clock twice. Each run logs what it changed, with the task's id."""
    from .sweep import run_deadline_checks as sweep

    result = sweep(
        batch_size=settings.SWEEP_BATCH_SIZE,
        pause_between_batches=settings.SWEEP_BATCH_PAUSE_MS / 1000,
    )
    counts = {
        "levels_changed": result.levels_changed,
        "escalated": result.escalated,
        "windows_closed": result.windows_closed,
    }
    logger.info(
        "deadline sweep done: levels_changed=%d escalated=%d windows_closed=%d (task %s)",
        result.levels_changed,
        result.escalated,
        result.windows_closed,
        current_task.request.id,
    )
    return counts


@shared_task(acks_late=True)
def deliver_pending_notifications(also: list[str] | None = None) -> int:
    """Send pending e-mail; then run ``also``, the other outbox senders kicked by the same
    transaction (clocks.notify.kick: one broker message per commit). Only tasks of this queue
    (notifications) are run that way; each is safe to run again, and one failing leaves the
    others to run (its rows stay pending for beat's run)."""
    from config.celery import app

    from .notify import deliver_pending

    sent = deliver_pending()
    for name in also or ():
        if name not in app.tasks:  # a process that has not imported the task modules yet
            app.loader.import_default_modules()
        task = app.tasks.get(name)
        if task is None or app.amqp.router.route({}, name)["queue"].name != "notifications":
            logger.warning("outbox kick names a task that is not a sender: %s", name)
            continue
        try:
            task()
        except Exception:
            logger.exception("outbox sender %s failed; beat runs it again", name)
    return sent


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    from .notify import write_daily_digests

    return write_daily_digests()
