from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from petitions.models import Case
from petitions.testing import make_petitioner, register

from .helpers import kept_code, new_case_data, valid_id

pytestmark = pytest.mark.django_db


def receipt_url(case: Case) -> str:
    return reverse("intake:receipt", args=[case.pk])


def test_receipt_url_is_named():
    assert receipt_url(Case(pk=7)) == "/desk/receipt/7/"


def test_receipt_shows_number_code_next_steps_and_status_url(client, cast, caplog):
    client.force_login(cast["reception"])
    with caplog.at_level(logging.DEBUG):
        client.post("/desk/", new_case_data(request="请求依法执行判决。"))
    case = Case.objects.get()
    code = kept_code(client, cast["reception"], case)

    response = client.get(receipt_url(case))
    assert response.status_code == 200
    body = response.content.decode()
    assert case.number in body and code in body and "请求依法执行判决。" in body
    assert "http://testserver/status/" in body
    assert 'data-action="print"' in body and "css/print.css" in body
    assert response.context["case"].center.name == "市中心"
    # the code is only in the cache for this session and the page, never in the logs
    assert code not in caplog.text


def test_receipt_without_the_code_in_the_session_says_where_it_is(client, cast):
    case = register(cast["reception"]).case
    client.force_login(cast["triage"])
    response = client.get(receipt_url(case))
    assert response.status_code == 200
    assert response.context["query_code"] is None
    assert 'data-testid="no-query-code"' in response.content.decode()


@pytest.mark.parametrize("other", ["outsider", "county_reception"])
def test_receipt_is_404_for_a_user_of_another_center(client, cast, other):
    case = register(
        cast["reception"], make_petitioner(cast["reception"], id_number=valid_id())
    ).case
    client.force_login(cast[other])
    assert client.get(receipt_url(case)).status_code == 404


def test_receipt_is_404_for_an_unknown_case(client, cast):
    client.force_login(cast["reception"])
    assert client.get("/desk/receipt/999999/").status_code == 404


def test_receipt_needs_login(client, cast):
    case = register(cast["reception"]).case
    response = client.get(receipt_url(case))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_query_code_is_kept_for_this_session_only_without_a_session_write(client, cast):
    """Issue 10: the registration writes no session; the code is kept server side for the
    session that registered the case, and another session of the same user does not see it."""
    from django.test import Client

    client.force_login(cast["reception"])
    client.post("/desk/", new_case_data())
    case = Case.objects.get()
    assert "intake_query_codes" not in client.session
    code = kept_code(client, cast["reception"], case)
    assert code and code in client.get(receipt_url(case)).content.decode()

    other = Client()
    other.force_login(cast["reception"])
    response = other.get(receipt_url(case))
    assert response.context["query_code"] is None and code not in response.content.decode()
