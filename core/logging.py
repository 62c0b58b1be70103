"""Log masking of personal numbers (PIPL Arts 28, 34).

A full resident ID number or mobile phone number must never reach a log: not from an access log
line whose URL carries a query string, not from an error message that quotes the input, not from
a traceback. ``MaskPersonalNumbers`` is installed on every handler in ``settings.LOGGING`` (the
console handler that the root, ``django``, ``django.server``, ``gunicorn.access``,
``gunicorn.error`` and ``celery`` loggers all write to), and on Celery's own handlers when a
worker sets up its logging. It rewrites each record before it is formatted: ``1301**********123X``
and ``138****5678``, as on the screens (core.pii).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from . import pii

# An 18-character resident ID (17 digits and a digit or X) or a 15-digit old one, not part of a
# longer run of digits (a case number has 19 digits and is not personal data).
ID_NUMBER_RE = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")
# A mainland mobile number, 11 digits from 13x to 19x, optionally +86 / 86 and spaced or hyphened
# as 3-4-4 (138 1234 5678, 138-1234-5678).
MOBILE_RE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])"
)


def mask_text(text: str) -> str:
    """``text`` with every ID and mobile number masked."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = ID_NUMBER_RE.sub(lambda m: pii.mask_id(m.group().upper()), text)
    return MOBILE_RE.sub(lambda m: pii.mask_phone("".join(m.groups())), text)


def contains_personal_number(text: str) -> bool:
    return bool(ID_NUMBER_RE.search(text) or MOBILE_RE.search(text))


class MaskPersonalNumbers(logging.Filter):
    """Masks ID and mobile numbers in a record's message, its arguments and its traceback. The
    record is formatted here (``getMessage``) only when something had to be masked; otherwise it
    is left exactly as it was. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format: keep its parts, masked, as plain text
            record.msg = mask_text(f"{record.msg} {record.args!r}")
            record.args = None
        else:
            masked = mask_text(message)
            if masked != message:
                record.msg = masked
                record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def add_masking_filter(logger: logging.Logger) -> None:
    """Put the filter on every handler of ``logger`` that does not have it yet."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalNumbers) for f in handler.filters):
            handler.addFilter(MaskPersonalNumbers())


def _on_celery_logging_setup(logger: logging.Logger | None = None, **_kwargs: Any) -> None:
    # A Celery worker may install handlers of its own (its root logger, its task logger).
    for target in (logger, logging.getLogger(), logging.getLogger("celery")):
        if target is not None:
            add_masking_filter(target)


try:  # Celery is a dependency of the project; the guard keeps this module importable alone.
    from celery.signals import after_setup_logger, after_setup_task_logger
except ImportError:  # pragma: no cover
    pass
else:
    after_setup_logger.connect(_on_celery_logging_setup, weak=False)
    after_setup_task_logger.connect(_on_celery_logging_setup, weak=False)
