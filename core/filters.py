"""Filter fields for API lists that refuse what the database cannot take, with a field error
(400) instead of a database error (500). Every FilterSet of the API uses these for its dates,
date-times and ids (tests/test_api_input.py walks the filters to make sure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

# PostgreSQL accepts UTC offsets up to ±15:59 (and 15:59:59); Python up to ±23:59.
MAX_UTC_OFFSET_SECONDS = 15 * 3600 + 59 * 60 + 59
# bigint, the column of every id (BigAutoField)
BIGINT_MAX = 2**63 - 1


def check_datetime(value: datetime) -> None:
    offset = value.utcoffset()
    if offset is not None and abs(offset.total_seconds()) > MAX_UTC_OFFSET_SECONDS:
        raise ValidationError(
            _("The time zone offset must be between -15:59 and +15:59."), code="offset"
        )
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationError(
            _("Enter a date and time within the years 1 to 9999 (in UTC)."), code="range"
        ) from exc


class SafeDateTimeField(forms.DateTimeField):
    """An ISO 8601 date or date-time whose offset and range PostgreSQL accepts."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is not None:
            check_datetime(result)
        return result


class SafeDateTimeFilter(django_filters.DateTimeFilter):
    field_class = SafeDateTimeField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number within the id column's range (NumberFilter would take any
    decimal and document it as one)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)

    def get_max_validator(self) -> None:
        return None  # the field's own max_value
