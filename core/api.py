"""API plumbing shared by every app: error format and domain-error mapping. The JSON parser that
refuses hostile bodies is core.parsers.SafeJSONParser (re-exported here)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, PermissionDenied, StaleState

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, StaleState | DomainError):
        exc = Conflict(detail={"detail": str(exc), "code": exc.code})
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads JSON bodies through request.body, which enforces the upload limit.
        exc = exceptions.ParseError(
            _("The request body is too large (at most %(n)d bytes).")
            % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    elif isinstance(exc, DataError):
        # A safety net: input that passed validation but that the database cannot store or
        # compare (an out-of-range number or time zone). Validation should have caught it: log
        # it so it gets a proper check, and answer 400 rather than 500.
        logger.warning("API input the database refused: %s", exc)
        exc = exceptions.ValidationError(
            {"non_field_errors": [_("A value is out of the range the system can store.")]}
        )
    return drf_exception_handler(exc, context)
