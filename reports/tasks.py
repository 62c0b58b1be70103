"""Celery tasks of the reports app. Tasks take ids and call the service (STYLE.md)."""

from __future__ import annotations

from celery import shared_task

from .services import run_export


@shared_task(acks_late=True)
def export_ledger(job_id: int) -> None:
    """Write a large ledger export (reports.services.run_export claims the job, so a task
    delivered twice writes it once)."""
    run_export(job_id)


@shared_task(acks_late=True)
def refresh_report_counters() -> int:
    """Nightly: rebuild the daily report counters of the recent days (reports.counters)."""
    from .counters import refresh_recent

    return refresh_recent()
