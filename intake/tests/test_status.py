from __future__ import annotations

import pytest
from django.urls import reverse

from intake.views import STATUS_ATTEMPTS
from petitions.states import CaseState
from petitions.testing import make_petitioner, register

from .helpers import valid_id

pytestmark = pytest.mark.django_db

STATUS = "/status/"


@pytest.fixture
def registration(cast):
    person = make_petitioner(
        cast["reception"],
        name="吴十",
        id_number=valid_id(),
        phone="13512345678",
        address="石家庄市桥西区某街8号",
    )
    return register(cast["reception"], person, request="请求复查不予立案决定。")


def test_status_url_is_named_and_public(client, status_ip):
    assert reverse("intake:status") == STATUS
    response = client.get(STATUS, REMOTE_ADDR=status_ip)
    assert response.status_code == 200 and b'name="csrfmiddlewaretoken"' in response.content


def test_right_code_shows_state_dates_and_no_personal_data(client, registration, status_ip):
    case = registration.case
    response = client.post(
        STATUS,
        {"number": case.number, "code": registration.query_code.lower()},
        REMOTE_ADDR=status_ip,
    )
    assert response.status_code == 200 and response.context["case"] == case
    body = response.content.decode()
    assert str(CaseState(case.state).label) in body or case.get_state_display() in body
    assert 'data-testid="status-result"' in body
    person = case.main_petitioner
    for private in (
        "吴十",
        person.id_number_masked,
        person.phone_masked,
        "13512345678",
        "石家庄市桥西区某街8号",
        "请求复查不予立案决定。",
        registration.query_code,
    ):
        assert private not in body


def test_next_deadline_is_shown_as_a_local_date(client, registration, status_ip):
    from datetime import UTC, datetime

    from petitions.models import Case

    case = registration.case
    # 20:00 UTC is already the next day in Beijing: the page must show the Beijing date.
    Case.objects.filter(pk=case.pk).update(next_due_at=datetime(2026, 3, 16, 20, 0, tzinfo=UTC))
    response = client.post(
        STATUS, {"number": case.number, "code": registration.query_code}, REMOTE_ADDR=status_ip
    )
    assert "2026-03-17" in response.content.decode()


def test_wrong_code_and_unknown_number_get_the_same_not_found(client, registration, status_ip):
    case = registration.case
    wrong = client.post(STATUS, {"number": case.number, "code": "WRONG234"}, REMOTE_ADDR=status_ip)
    unknown = client.post(
        STATUS,
        {"number": "130100209901019999", "code": registration.query_code},
        REMOTE_ADDR=status_ip,
    )
    for response in (wrong, unknown):
        assert response.status_code == 200 and response.context["case"] is None
        assert 'data-testid="status-not-found"' in response.content.decode()
        assert case.get_state_display() not in response.content.decode()

    # Apart from the echoed number, the two answers are the same page up to the form's token.
    def message_part(response) -> str:
        body = response.content.decode().replace(response.context["number"], "")
        return body.split('name="csrfmiddlewaretoken"')[0]

    assert message_part(wrong) == message_part(unknown)


def test_empty_code_is_not_found(client, registration, status_ip):
    response = client.post(
        STATUS, {"number": registration.case.number, "code": ""}, REMOTE_ADDR=status_ip
    )
    assert response.context["case"] is None and response.context["not_found"]


def test_too_many_attempts_from_one_address_get_429(client, registration, status_ip):
    case = registration.case
    for _ in range(STATUS_ATTEMPTS):
        response = client.post(
            STATUS, {"number": case.number, "code": "WRONG234"}, REMOTE_ADDR=status_ip
        )
        assert response.status_code == 200
    limited = client.post(
        STATUS, {"number": case.number, "code": registration.query_code}, REMOTE_ADDR=status_ip
    )
    assert limited.status_code == 429
    assert 'data-testid="status-limited"' in limited.content.decode()
    assert limited.context["case"] is None


def test_rate_limit_is_per_client_address(client, registration, status_ip):
    case = registration.case
    for _ in range(STATUS_ATTEMPTS + 1):
        client.post(STATUS, {"number": case.number, "code": "WRONG234"}, REMOTE_ADDR=status_ip)
    other_ip = "192.0.2.77"
    from django.core.cache import cache

    from intake.views import status_attempts_key

    cache.delete(status_attempts_key(other_ip))
    try:
        response = client.post(
            STATUS, {"number": case.number, "code": registration.query_code}, REMOTE_ADDR=other_ip
        )
        assert response.status_code == 200 and response.context["case"] == case
    finally:
        cache.delete(status_attempts_key(other_ip))


def test_status_post_is_csrf_protected(registration, status_ip):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        STATUS,
        {"number": registration.case.number, "code": registration.query_code},
        REMOTE_ADDR=status_ip,
    )
    assert response.status_code == 403
