"""Periodic upkeep of the dashboard's and the triage tabs' kept counters (supervision.counters)."""

from __future__ import annotations

from celery import shared_task

from .counters import compact_kept_counters as _compact


@shared_task(acks_late=True)
def compact_kept_counters() -> None:
    """Fold the counters' delta rows and refresh the cases the sweep left pending. Idempotent and
    safe to run beside any write (supervision.counters)."""
    _compact()
