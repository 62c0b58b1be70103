"""No full ID or mobile number in any log (issue 13 #3): the masking filter, its installation on
every handler, and a whole desk journey whose log output is scanned."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from petitions.models import Case, Petitioner
from petitions.testing import resident_id

NUMBER = "13010219880517123X"
PHONE = "13912345678"


def MaskPersonalNumbers() -> Any:  # noqa: N802 - the filter class, imported late
    from core.logging import MaskPersonalNumbers as cls

    return cls


def mask_text(text: str) -> str:
    from core.logging import mask_text as mask

    return mask(text)


def record(msg: str, args: Any = None, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def formatted(rec: logging.LogRecord) -> str:
    assert MaskPersonalNumbers()().filter(rec) is True
    return logging.Formatter("%(message)s").format(rec)


# --- the filter -------------------------------------------------------------------------------------


def test_masks_ids_and_mobiles_in_message_and_arguments():
    out = formatted(record("lookup %s phone %s", (NUMBER.lower(), "+86 139 1234 5678")))
    assert "1301**********123X" in out and "139****5678" in out
    assert NUMBER not in out.upper() and "5678" in out and "1234 5678" not in out

    access = formatted(
        record(
            '%(h)s "%(r)s" %(s)s',
            {
                "h": "10.0.0.1",
                "r": f"GET /api/v1/petitioners/?id_number={NUMBER}&phone={PHONE}",
                "s": "400",
            },
        )
    )
    assert NUMBER not in access and PHONE not in access and "139****5678" in access


def test_masks_15_digit_ids_and_hyphenated_phones():
    out = mask_text("old 130102550308123, phone 139-1234-5678")
    assert "130102550308123" not in out and "1391234" not in out.replace("-", "")


def test_leaves_case_numbers_and_other_numbers_alone():
    case_number = "1301022026120200001"  # 19 digits: region, date, serial
    text = f"case {case_number} count 12345 at 2026-12-02"
    assert mask_text(text) == text
    rec = record("%d cases", (3,))
    assert formatted(rec) == "3 cases" and rec.args == (3,)  # untouched when nothing to mask


def test_masks_tracebacks():
    try:
        raise ValueError(f"bad number {NUMBER}")
    except ValueError:
        import sys

        rec = record("failed", exc_info=sys.exc_info())
    out = formatted(rec)
    assert "ValueError" in out and NUMBER not in out and "1301**********123X" in out


def test_a_broken_format_is_masked_too():
    out = formatted(record("%s and %s", (NUMBER,)))
    assert NUMBER not in out


# --- installation -----------------------------------------------------------------------------------


def test_every_configured_handler_masks_and_every_log_source_is_routed_to_them():
    filters = settings.LOGGING["filters"]
    masking = {
        name
        for name, spec in filters.items()
        if spec.get("()") == "core.logging.MaskPersonalNumbers"
    }
    assert masking
    for name, handler in settings.LOGGING["handlers"].items():
        assert masking & set(handler.get("filters", [])), name
    loggers = settings.LOGGING["loggers"]
    for name in ("django", "django.server", "gunicorn.access", "gunicorn.error", "celery"):
        assert name in loggers, name
    # the live handlers too (Django configured logging from these settings)
    for name in ("", "gunicorn.access", "gunicorn.error"):
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:
                assert any(isinstance(f, MaskPersonalNumbers()) for f in handler.filters)
    for name in ("django", "django.server"):
        assert logging.getLogger(name).handlers == [], name  # no unmasked handler of Django's own
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False


def test_celery_worker_handlers_get_the_filter():
    from celery.signals import after_setup_logger

    logger = logging.getLogger("test.celery.worker")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        after_setup_logger.send(
            sender=None,
            logger=logger,
            loglevel=logging.INFO,
            logfile=None,
            format="",
            colorize=False,
        )
        assert any(isinstance(f, MaskPersonalNumbers()) for f in handler.filters)
    finally:
        logger.removeHandler(handler)


# --- a whole desk journey ------------------------------------------------------------------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler (root, gunicorn, Django, Celery all write to it)
    prints during the test, at INFO and above."""
    stream = io.StringIO()
    handlers = {
        h
        for name in ("", "gunicorn.access", "gunicorn.error", "django.server")
        for h in logging.getLogger(name).handlers
        if type(h) is logging.StreamHandler
    }
    assert handlers
    previous = {h: h.setStream(stream) for h in handlers}
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.setLevel(level)
        for h, old in previous.items():
            h.setStream(old)


def access_log(method: str, path: str, response: Any) -> None:
    """The line gunicorn's access log writes for a request (its default format)."""
    logging.getLogger("gunicorn.access").info(
        '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        {
            "h": "10.1.2.3",
            "l": "-",
            "u": "-",
            "t": "[02/Dec/2026:10:00:00 +0000]",
            "r": f"{method} {path} HTTP/1.1",
            "s": str(response.status_code),
            "b": "-",
            "f": "-",
            "a": "Mozilla/5.0",
        },
    )


@pytest.mark.django_db
def test_a_desk_journey_leaves_no_full_number_in_the_logs(client, cast, log_output):
    from intake.tests.helpers import new_case_data

    reception = cast["reception"]
    number = resident_id(born=date(1979, 4, 4), sex="M")
    phone = "13512348765"
    client.force_login(reception)
    api = APIClient()
    api.force_authenticate(reception)

    # an old client still puts the numbers in the query string (refused, but logged by the proxy)
    path = f"/api/v1/petitioners/?id_number={number}&phone={phone}"
    access_log("GET", path, api.get(path))
    # lookup at the desk and over the API (POST bodies), registration, receipt, case page, reveal
    lookup = client.post("/desk/", {"action": "lookup", "lookup-id_number": number})
    access_log("POST", "/desk/", lookup)
    api_lookup = api.post("/api/v1/petitioners/lookup/", {"id_number": number}, format="json")
    access_log("POST", "/api/v1/petitioners/lookup/", api_lookup)
    registered = client.post("/desk/", new_case_data(id_number=number, phone=phone, sex="M"))
    assert registered.status_code == 302, registered.context["form"].errors
    access_log("POST", "/desk/", registered)
    case = Case.objects.get()
    person = Petitioner.objects.get()
    access_log("GET", registered["Location"], client.get(registered["Location"]))
    access_log("GET", f"/cases/{case.pk}/", client.get(f"/cases/{case.pk}/"))
    reveal = f"/cases/{case.pk}/petitioners/{person.pk}/reveal/id_number/"
    revealed = client.post(reveal, HTTP_ACCEPT="application/json")
    assert revealed.json()["value"] == number
    access_log("POST", reveal, revealed)
    # anything else that quotes the input
    logging.getLogger("intake").warning("could not match %s / %s", number, phone)
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 400 0', path)

    out = log_output.getvalue()
    assert "/api/v1/petitioners/lookup/" in out and "reveal" in out  # the journey was logged
    assert number not in out.upper() and phone not in out
    assert number[:4] + "*" * 10 + number[-4:] in out and "135****8765" in out
