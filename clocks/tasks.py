"""Celery tasks. Acks late (settings): a worker that dies mid-task leaves the message for another,
and every task here is safe to run again."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_deadline_checks() -> dict[str, int]:
    from .sweep import run_deadline_checks as sweep

    result = sweep()
    return {"levels_changed": result.levels_changed, "escalated": result.escalated}


@shared_task(acks_late=True)
def deliver_pending_notifications() -> int:
    from .notify import deliver_pending

    return deliver_pending()


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    from .notify import write_daily_digests

    return write_daily_digests()
