"""Stored markup stays text on the daily list pages (issue 10 moved their row rendering from
templates into Python, core.listing / routing.views): a petitioner, a request text and an officer's
name carrying HTML come out escaped on the inbox, the screening queue, the case list, the
dashboard and the case page, never as markup."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.models import DepartmentKind
from petitions.testing import make_petitioner, register
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment

pytestmark = pytest.mark.django_db

MARKUP = '<img src=x onerror="alert(1)">'
ESCAPED = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def cases(org, cast):
    police = cast["police"]
    police.full_name = MARKUP
    police.save(update_fields=["full_name"])
    person = make_petitioner(cast["reception"], name="张" + MARKUP)
    waiting = register(cast["reception"], petitioner=person, request=MARKUP).case
    handled = register(cast["reception"], petitioner=person, request=MARKUP).case
    dept = org.dept(org.city, DepartmentKind.POLICE)
    (lead,) = assign_case(
        actor=cast["triage"],
        case=handled,
        lead=DepartmentDue(dept, timezone.now() + timedelta(days=30)),
    )
    return waiting, handled, lead


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("police", "/inbox/"),
        ("triage", "/triage/"),
        ("supervisor", "/cases/"),
        ("supervisor", "/supervision/"),
    ],
)
def test_markup_is_escaped_on_list_pages(cast, cases, who, path):
    response = client_for(cast[who]).get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert MARKUP not in body
    if path != "/supervision/":
        # The row shows the person's name (masked or not): its markup part is there, as text.
        assert "&lt;img" in body


def test_markup_is_escaped_on_the_case_page_and_in_the_officer_column(cast, cases):
    _waiting, handled, _lead = cases
    body = client_for(cast["supervisor"]).get(f"/cases/{handled.pk}/").content.decode()
    assert MARKUP not in body
    assert ESCAPED in body  # the request text, as text


def test_officer_name_is_escaped_on_the_dashboard_breakdown(cast, cases):
    _waiting, _handled, lead = cases
    police = cast["police"]
    sign_for_assignment(actor=police, assignment=lead)
    accept_assignment(actor=police, assignment=lead)
    # Close to the end of the handling clock: at risk, so the officer is in the breakdown.
    with time_machine.travel(timezone.now() + timedelta(days=75), tick=False):
        from clocks.sweep import run_deadline_checks

        run_deadline_checks()
        body = client_for(cast["supervisor"]).get("/supervision/").content.decode()
    assert MARKUP not in body
    assert ESCAPED in body
