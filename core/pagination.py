"""Cursor pagination that answers a tampered cursor with 404 ("Invalid cursor"), never 500.

DRF decodes the cursor's position and filters on it as it is: a position that the ordering
field cannot take (a date-time with a +23:32 offset, a number beyond the column) reaches the
database. Here the position is checked against the model field first."""

from __future__ import annotations

import binascii
from base64 import b64decode
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from .filters import check_datetime

INTEGER_RANGES = {
    models.SmallIntegerField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
}


def _check_position(field: models.Field[Any, Any], position: str) -> None:
    value = field.to_python(position)
    if isinstance(value, datetime):
        check_datetime(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        low, high = -(2**63), 2**63 - 1
        for kind, bounds in INTEGER_RANGES.items():
            if isinstance(field, kind):
                low, high = bounds
        if not low <= value <= high:
            raise ValidationError("out of range")
    elif isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError("not finite")
    elif isinstance(value, str) and "\x00" in value:
        raise ValidationError("NUL")


class SafeCursorPagination(CursorPagination):
    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's decoding, but strict: base64 that drops no characters, and only DRF's own
        keys (a cursor of garbage would otherwise silently mean "the first page")."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        except (ValueError, binascii.Error) as exc:
            raise NotFound(self.invalid_cursor_message) from exc
        tokens = parse.parse_qs(querystring, keep_blank_values=True)
        if not tokens or not set(tokens) <= {"o", "r", "p"}:
            raise NotFound(self.invalid_cursor_message)
        return super().decode_cursor(request)  # type: ignore[no-any-return]

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None and view is not None:
            ordering = self.get_ordering(request, queryset, view)
            name = ordering[0].lstrip("-")
            try:
                field = queryset.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if isinstance(field, models.Field):
                try:
                    _check_position(field, str(cursor.position))
                except (ValidationError, ValueError, TypeError, OverflowError) as exc:
                    raise NotFound(self.invalid_cursor_message) from exc
        return super().paginate_queryset(queryset, request, view)
