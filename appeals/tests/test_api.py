"""The appeals API: same services, errors as status codes, nothing changed on bad input."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appeals.models import ReviewRequest, Termination
from clocks.deadlines import CHINA_TZ
from petitions.models import Case
from petitions.states import CaseState

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    # A fresh token each time: a test that moves the clock by days would find the last one
    # expired after its idle minutes (core.authentication).
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def day(d: str) -> datetime:
    y, m, dd = (int(x) for x in d.split("-"))
    return datetime(y, m, dd, 10, tzinfo=CHINA_TZ)


AFTER = "2026-10-22"  # the county case's review window (until 20 Oct) has passed unused


def url(case: Case, tail: str = "review/") -> str:
    return f"/api/v1/cases/{case.pk}/{tail}"


def post(user, path, body, when="2026-10-09", **extra):
    """At 9 Oct the review window of the county case (delivered 20 Sep) is open until 20 Oct."""
    with time_machine.travel(day(when)):
        return client_for(user).post(path, body, format="json", **extra)


def test_review_request_and_decision(county_case, county, city):
    response = post(
        county.reception,
        url(county_case),
        {"kind": "review", "reason": "不服", "expected_version": county_case.version},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "review" and body["reviewing_center"] == city.center.name
    assert body["case_state"] == CaseState.REVIEW
    response = post(
        city.supervisor,
        url(county_case, "review/decide/"),
        {
            "decision": "revoke",
            "answer": "撤销原处理意见。",
            "expected_version": body["case_version"],
        },
        when="2026-10-15",
    )
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "revoke"
    with time_machine.travel(day("2026-10-15")):
        listing = client_for(city.supervisor).get(url(county_case))
    assert listing.status_code == 200 and len(listing.json()) == 1


def test_day_31_is_a_409_with_a_code_and_nothing_changes(county_case, county):
    response = post(
        county.reception, url(county_case), {"kind": "review", "reason": "不服"}, when="2026-10-21"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "window_closed"
    assert not ReviewRequest.objects.exists()


def test_re_review_before_review_is_409(county_case, county):
    response = post(county.reception, url(county_case), {"kind": "re_review", "reason": "不服"})
    assert response.status_code == 409 and response.json()["code"] == "no_review"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "appeal", "reason": "x"},
        {"kind": "review"},
        {"kind": "review", "reason": ""},
        {"kind": "review", "reason": "x", "expected_version": "abc"},
        {"kind": "review", "reason": "x" * 20_001},
    ],
)
def test_bad_review_bodies_are_field_errors(county_case, county, body):
    response = post(county.reception, url(county_case), body)
    assert response.status_code == 400
    assert not ReviewRequest.objects.exists()


def test_a_stale_version_is_409(county_case, county):
    response = post(
        county.reception,
        url(county_case),
        {"kind": "review", "reason": "x", "expected_version": county_case.version + 5},
    )
    assert response.status_code == 409 and response.json()["code"] == "stale"


def test_an_idempotency_key_makes_a_double_submit_create_one_request(county_case, county):
    body = {"kind": "review", "reason": "不服"}
    first = post(county.reception, url(county_case), body, HTTP_IDEMPOTENCY_KEY="abc")
    second = post(county.reception, url(county_case), body, HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert ReviewRequest.objects.count() == 1


def test_another_centers_user_gets_404(county_case, org):
    from appeals.testing import staff_for

    other = staff_for(org.county_b)
    response = post(other.reception, url(county_case), {"kind": "review", "reason": "x"})
    assert response.status_code == 404
    with time_machine.travel(day("2026-10-09")):
        response = client_for(other.supervisor).get(url(county_case, "termination/"))
    assert response.status_code == 404


def test_deciding_as_the_wrong_center_is_403(county_case, county):
    post(county.reception, url(county_case), {"kind": "review", "reason": "x"})
    response = post(
        county.supervisor, url(county_case, "review/decide/"), {"decision": "uphold", "answer": "x"}
    )
    assert response.status_code == 403
    assert response.json()["detail"]


def test_termination_propose_review_approve(county_case, county, province):
    # while the review window is open (until 20 Oct), refused with the date (Art 37)
    response = post(county.officer, url(county_case, "termination/"), {"grounds": "程序穷尽"})
    assert response.status_code == 409 and response.json()["code"] == "procedures_open"
    assert "2026-10-20" in response.json()["detail"]
    response = post(
        county.officer, url(county_case, "termination/"), {"grounds": "程序穷尽"}, when=AFTER
    )
    assert response.status_code == 201, response.content
    response = post(
        county.supervisor,
        url(county_case, "termination/approve/"),
        {"decision": "approve"},
        when=AFTER,
    )
    assert response.status_code == 200 and response.json()["state"] == "center_reviewed"
    response = post(
        province.supervisor,
        url(county_case, "termination/approve/"),
        {"decision": "approve", "approving_body": "省委政法委", "approval_date": "2026-10-22"},
        when=AFTER,
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved"
    assert response.json()["case_state"] == CaseState.TERMINATED


def test_termination_bad_input(county, county_case, city):
    from appeals.testing import delivered_case

    from .conftest import DELIVERED

    plain = delivered_case(county, delivered_at=DELIVERED, is_law_related=False)
    response = post(county.officer, url(plain, "termination/"), {"grounds": "x"})
    assert response.status_code == 409 and response.json()["code"] == "not_law_related"
    response = post(
        county.officer, url(county_case, "termination/"), {"grounds": "x", "support_unit": 0}
    )
    assert response.status_code == 400
    response = post(
        county.officer, url(county_case, "termination/"), {"grounds": "x", "support_unit": 10**9}
    )
    assert response.status_code == 400
    post(county.officer, url(county_case, "termination/"), {"grounds": "x"}, when=AFTER)
    post(
        county.supervisor,
        url(county_case, "termination/approve/"),
        {"decision": "approve"},
        when=AFTER,
    )
    response = post(
        city.supervisor,
        url(county_case, "termination/approve/"),
        {"decision": "approve", "approving_body": "x", "approval_date": "2026-10-08"},
        when=AFTER,
    )
    assert response.status_code == 403
    response = post(
        county.supervisor, url(county_case, "termination/approve/"), {"decision": "maybe"}
    )
    assert response.status_code == 400
    assert Termination.objects.get(case=county_case).state == "center_reviewed"


def test_an_archived_case_refuses_every_action(county_case, county, province):
    Case.objects.filter(pk=county_case.pk).update(state=CaseState.ARCHIVED)
    for user, tail, body in [
        (county.reception, "review/", {"kind": "review", "reason": "x"}),
        (province.supervisor, "review/decide/", {"decision": "uphold", "answer": "x"}),
        (county.officer, "termination/", {"grounds": "x"}),
        (county.supervisor, "termination/approve/", {"decision": "approve"}),
    ]:
        response = post(user, url(county_case, tail), body)
        assert response.status_code in {403, 409}, (tail, response.content)
        assert response.json()
    assert not ReviewRequest.objects.exists() and not Termination.objects.exists()
