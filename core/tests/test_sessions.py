"""Sessions (core.sessions): the idle expiry of an unchanged session is written at most once a
minute, a changed session at once, and an idle session still ends after SESSION_COOKIE_AGE."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOME = "/api/v1/me/"


def _expiry(client: Client):  # type: ignore[no-untyped-def]
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_an_unchanged_session_is_written_at_most_once_a_minute(cast, django_assert_num_queries):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(cast["police"])
        first = _expiry(client)
        clock.move_to(start + timedelta(seconds=30))
        assert client.get(HOME).status_code == 200
        assert _expiry(client) == first
        clock.move_to(start + timedelta(seconds=61))
        assert client.get(HOME).status_code == 200
        assert _expiry(client) == first + timedelta(seconds=61)


def test_requests_within_the_minute_read_and_write_no_session_row(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(cast["police"])
    client.get(HOME)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(HOME).status_code == 200
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_session_still_ends_after_its_idle_time(cast, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(cast["police"])
        clock.move_to(start + timedelta(seconds=settings.SESSION_COOKIE_AGE - 120))
        assert client.get(HOME).status_code == 200  # use keeps it alive
        clock.move_to(start + timedelta(seconds=2 * settings.SESSION_COOKIE_AGE - 180))
        assert client.get(HOME).status_code == 200
        clock.move_to(start + timedelta(seconds=3 * settings.SESSION_COOKIE_AGE))
        assert client.get(HOME).status_code in (401, 403)


def test_a_changed_session_is_saved_at_once(cast):
    client = Client()
    client.force_login(cast["police"])
    session = client.session
    session["marker"] = "x"
    session.save()
    client.get(HOME)
    stored = Session.objects.get(session_key=client.session.session_key).get_decoded()
    assert stored["marker"] == "x"
