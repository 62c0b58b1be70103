"""The administrators' banner for next year's holiday schedule (clocks.schedule)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from core.roles import Role

from .schedule import missing_next_year


def calendar_notice(request: HttpRequest) -> dict[str, Any]:
    """``calendar_missing_year``: next year, for administrators from 1 November until its
    official schedule is entered; nothing for anyone else (and no query before November)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if not (user.is_superuser or user.has_role(Role.ADMIN)):
        return {}
    year = missing_next_year(timezone.localdate())
    return {"calendar_missing_year": year} if year is not None else {}
