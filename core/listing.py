"""Helpers for the daily list pages (inbox, screening queue, case lists, dashboard): everything a
row shows is computed once per page in Python, so a row template is a flat run of plain variables
(no includes, no url tags, no get_FOO_display per row). Measured at 100,000 cases, the
per-row template work was most of the 40-70 ms of Python per page (issue 10).

- ``url_maker``: reverse a url name once, then fill in the id of each row.
- ``choice_labels``: a TextChoices' labels in the active language, as plain strings.
- ``local_date`` / ``local_minute`` / ``local_iso``: what the ``date`` filter shows for
  "Y-m-d", "Y-m-d H:i" and "c" (in the current time zone).
- ``FastSelect``: a select widget that writes the same markup as Django's template-rendered one,
  with one Jinja2 render per widget instead of a template render per option.

The markup of the rows is in Jinja2 templates (templates/jinja2/, core.jinja2), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django import forms
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.jinja2 import render_fragment

_SENTINEL = 987654321987


def url_maker(name: str) -> Callable[[Any], str]:
    """``url_maker("petitions:case_detail")(42) == reverse("petitions:case_detail", args=[42])``,
    with one reverse() per page instead of one per row (the url takes one integer argument)."""
    prefix, suffix = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))

    def make(pk: Any) -> str:
        return f"{prefix}{pk}{suffix}"

    return make


_LABELS: dict[tuple[type[models.Choices], str | None], dict[str, str]] = {}


def choice_labels(choices: type[models.Choices]) -> dict[str, str]:
    """{value: label} of ``choices`` in the active language (cached per language: labels are
    code, they change only with a deploy)."""
    key = (choices, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = {str(value): str(label) for value, label in choices.choices}
        _LABELS[key] = labels
    return labels


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def local_date(value: datetime | date | None) -> str:
    """``value|date:"Y-m-d"``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def local_minute(value: datetime | None) -> str:
    """``value|date:"Y-m-d H:i"``."""
    if value is None:
        return ""
    value = _local(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"


def local_iso(value: datetime | date | None) -> str:
    """``value|date:"c"`` (ISO 8601, in the current time zone for a datetime)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return value.isoformat()


# --- a select without a template render per option ----------------------------------------------


class FastSelect(forms.Select):
    """forms.Select with one Jinja2 render per widget (templates/jinja2/forms/select.html, the
    options in a loop) instead of Django's template include per option: the markup of
    django/forms/widgets/select.html and select_option.html, character for character (tests
    compare the two)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        return render_fragment("forms/select.html", self.get_context(name, value, attrs))
