"""Judicial aid API: the names the issue gives (cases/{id}/judicial-aid/, …/decide/, …/pay/),
the whole life over HTTP, 400 / 403 / 404 / 409, and a double submit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from outreach.models import AidApplication, AidCapRule
from outreach.tests.fixtures_aid import aid_clock, cap_rule, pdf  # noqa: F401  (fixtures)
from petitions.models import Attachment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("aid_clock", "cap_rule")]
API = "/api/v1"


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def application_body(case, **extra):
    case.refresh_from_db()
    return {
        "applicant": case.main_petitioner_id,
        "circumstance": "crime_victim",
        "circumstances": "被害人重伤，被告人无赔偿能力，家庭生活困难。",
        "requested_amount": "40000.00",
        "expected_version": case.version,
        **extra,
    }


def test_the_whole_life_over_the_api(handling_case, cast, people):
    case = handling_case
    url = f"{API}/cases/{case.pk}/judicial-aid/"
    created = api(cast["county_reception"]).post(url, application_body(case), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "applied" and body["requested_amount"] == "40000.00"
    assert body["department"] == people["county_head"].department_id and body["organ"] == "police"
    aid = body["id"]

    listed = api(cast["county_police"]).get(url)
    assert listed.status_code == 200
    assert [(row["id"], row["state"]) for row in listed.json()] == [(aid, "applied")]

    done = api(cast["county_reception"]).post(
        f"{url}{aid}/complete/", {"expected_version": body["version"]}, format="json"
    )
    assert done.status_code == 200 and done.json()["state"] == "complete"

    from outreach.models import EligibilityQuestion

    answers = [
        {"question": q.pk, "answer": "yes", "reason": "经核实"}
        for q in EligibilityQuestion.objects.filter(is_active=True)
    ]
    checked = api(people["county_head"]).post(
        f"{url}{aid}/eligibility/", {"answers": answers}, format="json"
    )
    assert checked.status_code == 200 and len(checked.json()["eligibility"]) == 8

    decided = api(people["county_head"]).post(
        f"{url}{aid}/decide/",
        {"decision": "grant", "amount": "40000.00", "reasons": "符合条件"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["state"] == "granted" and decided.json()["cap_amount"] == "180000.00"

    paid = api(cast["county_police"]).post(
        f"{url}{aid}/pay/",
        {
            "paid_on": "2026-03-02",
            "method": "银行转账",
            "amount": "40000.00",
            "voucher": pdf("voucher.pdf"),
        },
        format="multipart",
    )
    assert paid.status_code == 200, paid.content
    assert paid.json()["state"] == "paid" and paid.json()["paid_amount"] == "40000.00"
    assert Attachment.objects.get(pk=paid.json()["voucher"]).original_name == "voucher.pdf"


def test_apply_with_files_multipart(handling_case, cast):
    url = f"{API}/cases/{handling_case.pk}/judicial-aid/"
    response = api(cast["county_reception"]).post(
        url,
        {**application_body(handling_case), "files": [pdf("a.pdf"), pdf("b.pdf")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    names = sorted(
        Attachment.objects.filter(case=handling_case, kind="evidence").values_list(
            "original_name", flat=True
        )
    )
    assert names == ["a.pdf", "b.pdf"]


def test_bad_input_is_400(handling_case, cast):
    url = f"{API}/cases/{handling_case.pk}/judicial-aid/"
    response = api(cast["county_reception"]).post(
        url, application_body(handling_case, requested_amount="-5", circumstances=""), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"requested_amount", "circumstances"}
    assert not AidApplication.objects.exists()


def test_roles_scoping_stale_and_no_rule(handling_case, cast, people):
    url = f"{API}/cases/{handling_case.pk}/judicial-aid/"
    assert api(cast["outsider"]).get(url).status_code == 404
    assert api(cast["outsider"]).post(url, {}, format="json").status_code == 404
    aid = api(cast["county_reception"]).post(url, application_body(handling_case), format="json")
    aid_id = aid.json()["id"]
    assert api(cast["outsider"]).get(f"{url}{aid_id}/").status_code == 404
    # another case's id in the path: not found either
    assert (
        api(cast["county_reception"]).get(f"{API}/cases/999999/judicial-aid/{aid_id}/").status_code
        == 404
    )

    stale = api(cast["county_reception"]).post(
        f"{url}{aid_id}/complete/", {"expected_version": 99}, format="json"
    )
    assert stale.status_code == 409
    assert (
        api(cast["county_reception"])
        .post(f"{url}{aid_id}/complete/", {}, format="json")
        .status_code
        == 200
    )
    refused_role = api(cast["county_police"]).post(
        f"{url}{aid_id}/decide/", {"decision": "grant", "amount": "100"}, format="json"
    )
    assert refused_role.status_code == 403
    AidCapRule.objects.all().delete()
    from outreach.tests.fixtures_aid import answer_all

    answer_all(people["county_head"], AidApplication.objects.get(pk=aid_id))
    no_rule = api(people["county_head"]).post(
        f"{url}{aid_id}/decide/", {"decision": "grant", "amount": "100"}, format="json"
    )
    assert no_rule.status_code == 409
    assert "130000" in no_rule.content.decode()
    approve = api(people["county_leader"]).post(
        f"{url}{aid_id}/approve/", {"approve": True}, format="json"
    )
    assert approve.status_code == 409  # not awaiting a leader


def test_double_submit_is_one_application(handling_case, cast):
    url = f"{API}/cases/{handling_case.pk}/judicial-aid/"
    body = application_body(handling_case, submission_key="form-1")
    first = api(cast["county_reception"]).post(url, body, format="json")
    second = api(cast["county_reception"]).post(url, body, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert AidApplication.objects.count() == 1
    assert Decimal(first.json()["requested_amount"]) == Decimal("40000")
