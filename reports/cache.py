"""A short-lived cache for report figures (``REPORTS_CACHE_SECONDS``, default 300; 0 turns it off).

The figures are aggregates over a whole period and scope: recomputing them for every page view
and every API poll is the expensive part of the reports, while a figure five minutes old is as
good for a supervisor's overview. The key is the scope and filters (the same filters give the
same figures to anyone who may ask for them) and the language of the labels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from .filters import ReportFilters


def cache_seconds() -> int:
    return int(getattr(settings, "REPORTS_CACHE_SECONDS", 300))


def cache_key(kind: str, f: ReportFilters) -> str:
    raw = json.dumps(
        [kind, f.as_params(), sorted(f.center_ids), get_language()], sort_keys=True, default=str
    )
    return "reports:" + hashlib.sha256(raw.encode()).hexdigest()


def cached[T](kind: str, f: ReportFilters, compute: Callable[[], T]) -> T:
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    key = cache_key(kind, f)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
