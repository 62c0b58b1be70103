from __future__ import annotations

from pathlib import Path

from celery import shared_task


@shared_task
def write_marker(path: str) -> None:
    """Diagnostics: proves a worker consumes from the configured broker (used by the smoke test)."""
    Path(path).write_text("pong")
