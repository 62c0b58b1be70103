"""Settings of the reports app, read with defaults so that config/settings needs no edit.

- ``REPORTS_EXPORT_ROOT``: where export files are written. Not under MEDIA_ROOT: ledgers hold
  personal data and are served only through the owner-checked download view, never as media.
- ``REPORTS_INLINE_EXPORT_MAX_ROWS``: exports up to this many rows are written in the request;
  larger ones run as a Celery job with a progress bar (default 2,000).
- ``REPORTS_EXPORT_CHUNK``: rows fetched per server-side cursor round trip and per progress update.
- ``REPORTS_CESSATION_DAYS``: the default window of 息诉罢访率 (days after closure without a new
  visit); the API and the page accept ``cessation_days`` to change it per query.
- ``EVALUATION_WINDOW_DAYS``: days after delivery of the written reply within which an evaluation
  counts (closure owns the setting; the same default is used here when it is not set).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def export_root() -> Path:
    default = Path(getattr(settings, "VAR_DIR", settings.BASE_DIR / "var")) / "exports"
    return Path(getattr(settings, "REPORTS_EXPORT_ROOT", default))


def inline_export_max_rows() -> int:
    return int(getattr(settings, "REPORTS_INLINE_EXPORT_MAX_ROWS", 2000))


def export_chunk() -> int:
    return int(getattr(settings, "REPORTS_EXPORT_CHUNK", 2000))


def cessation_days() -> int:
    return int(getattr(settings, "REPORTS_CESSATION_DAYS", 90))


def evaluation_window_days() -> int:
    return int(getattr(settings, "EVALUATION_WINDOW_DAYS", 30))


MAX_PERIOD_DAYS = 3660  # "more than 10 years" is refused (issue 9, bad input)
