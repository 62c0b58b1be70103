"""The closure API: the same services, with 400/403/404/409 for bad input and refused steps."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from closure.models import Evaluation, Reply, ReturnVisit
from closure.testing import bring_to_handling, bring_to_replied
from petitions.models import Case
from petitions.states import CaseState

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def url(case, tail):
    return f"/api/v1/cases/{case.pk}/{tail}"


REPLY = {
    "decision": "not_support",
    "facts_reasons": "经查，原判决已执行完毕。",
    "legal_basis": "《中华人民共和国民事诉讼法》第二百三十五条",
    "review_route": "",
}


@pytest.fixture
def case(cast):
    return bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
    )


def version(case):
    return Case.objects.get(pk=case.pk).version


def test_whole_flow_through_the_api(cast, case, client):
    officer, head = client_for(cast["police"]), client_for(cast["head"])
    got = officer.get(url(case, "reply/"))
    assert got.status_code == 200 and got.json()["reply"] is None
    assert cast["court"].department.name in got.json()["contributions"]

    saved = officer.post(
        url(case, "reply/"), {**REPLY, "expected_version": version(case)}, format="json"
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["reply"]["status"] == "draft"

    approved = head.post(
        url(case, "reply/approve/"), {"expected_version": version(case)}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["reply"]["document_number"]

    delivered = officer.post(
        url(case, "reply/deliver/"),
        {"method": "post", "signed": False, "expected_version": version(case)},
        format="json",
    )
    assert delivered.status_code == 200, delivered.content
    body = delivered.json()
    assert body["case"]["state"] == "replied"
    assert body["evaluation_url"].startswith("http://testserver/evaluate/")

    # the public page answers at evaluation_url without login
    page = client.get(body["evaluation_url"])
    assert page.status_code == 200
    posted = client.post(
        body["evaluation_url"],
        {"center_rating": "dissatisfied", "department_rating": "dissatisfied", "reasons": "未解决"},
    )
    assert posted.status_code == 200
    again = client.post(
        body["evaluation_url"],
        {"center_rating": "satisfied", "department_rating": "satisfied"},
    )
    assert again.status_code == 410
    assert Evaluation.objects.filter(case=case).count() == 1

    listing = client_for(cast["supervisor"]).get(url(case, "evaluations/")).json()
    assert listing["status"] == "evaluated" and listing["results"][0]["channel"] == "link"

    visits = officer.get(url(case, "return-visits/")).json()
    assert len(visits) == 1 and visits[0]["reason"] == "dissatisfied"
    recorded = officer.post(
        url(case, "return-visits/"),
        {"method": "phone", "outcome": "电话回访，解释政策", "expected_version": version(case)},
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["done_at"]

    supervisor = client_for(cast["supervisor"])
    closed = supervisor.post(
        url(case, "close/"), {"expected_version": version(case)}, format="json"
    )
    assert closed.status_code == 200, closed.content
    refused = client_for(cast["archivist"]).post(
        url(case, "archive/"), {"expected_version": version(case)}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "evaluation_required"
    archived = supervisor.post(
        url(case, "archive/"),
        {"override_reason": "多次回访，诉求缺乏依据", "expected_version": version(case)},
        format="json",
    )
    assert archived.status_code == 200, archived.content
    assert archived.json()["closure"]["archive_number"]
    assert archived.json()["case"]["state"] == "archived"

    # any action on the archived case: 409, nothing changed
    for path, data in [
        ("return-visits/", {"method": "phone", "outcome": "x"}),
        ("close/", {}),
        ("reply/", REPLY),
    ]:
        response = officer.post(url(case, path), data, format="json")
        assert response.status_code in (403, 409), (path, response.content)

    reopened = supervisor.post(url(case, "reopen/"), {"reason": "新情况"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["case"]["state"] == "handling"


def test_reply_without_legal_basis_is_400(cast, case):
    response = client_for(cast["police"]).post(
        url(case, "reply/"), {**REPLY, "legal_basis": ""}, format="json"
    )
    assert response.status_code == 400 and "legal_basis" in response.json()
    assert not Reply.objects.filter(case=case).exists()


def test_bad_choices_are_400(cast, case):
    officer = client_for(cast["police"])
    assert (
        officer.post(url(case, "reply/"), {**REPLY, "decision": "maybe"}, format="json").status_code
        == 400
    )
    assert (
        officer.post(url(case, "reply/deliver/"), {"method": "pigeon"}, format="json").status_code
        == 400
    )


def test_officer_approving_own_draft_is_403(cast, case):
    officer = client_for(cast["police"])
    officer.post(url(case, "reply/"), REPLY, format="json")
    response = officer.post(url(case, "reply/approve/"), {}, format="json")
    assert response.status_code == 403
    assert Reply.objects.get(case=case).status == "draft"


def test_stale_expected_version_is_409(cast, case):
    officer = client_for(cast["police"])
    old = version(case)
    officer.post(url(case, "reply/"), REPLY, format="json")
    response = officer.post(url(case, "reply/"), {**REPLY, "expected_version": old}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "stale"


def test_double_submit_of_an_evaluation_creates_one(cast):
    r = bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )
    desk = client_for(cast["reception"])
    body = {"center_rating": "satisfied", "department_rating": "satisfied", "channel": "desk"}
    first = desk.post(url(r.case, "evaluations/"), body, format="json")
    second = desk.post(url(r.case, "evaluations/"), body, format="json")
    assert first.status_code == 201 and second.status_code == 409
    assert Evaluation.objects.filter(case=r.case).count() == 1


def test_closing_with_an_assisting_part_open_is_409(cast):
    case = bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
        contribute=False,
    )
    officer = client_for(cast["police"])
    officer.post(url(case, "reply/"), REPLY, format="json")
    client_for(cast["head"]).post(url(case, "reply/approve/"), {}, format="json")
    officer.post(
        url(case, "reply/deliver/"), {"method": "in_person", "signed": True}, format="json"
    )
    response = client_for(cast["supervisor"]).post(url(case, "close/"), {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "assisting_open"
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED


def test_another_centers_staff_get_404(cast):
    r = bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )
    outsider = client_for(cast["outsider"])
    assert outsider.get(url(r.case, "reply/")).status_code == 404
    assert outsider.post(url(r.case, "close/"), {}, format="json").status_code == 404
    assert client_for(cast["justice"]).get(url(r.case, "evaluations/")).status_code == 404


def test_return_visit_schedule_needs_a_date(cast):
    r = bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )
    officer = client_for(cast["police"])
    assert officer.post(url(r.case, "return-visits/"), {}, format="json").status_code == 400
    response = officer.post(
        url(r.case, "return-visits/"),
        {"scheduled_for": str(timezone.localdate() + timedelta(days=30))},
        format="json",
    )
    assert response.status_code == 201 and ReturnVisit.objects.filter(case=r.case).count() == 1


def test_schema_lists_the_closure_paths(cast):
    schema = client_for(cast["supervisor"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    text = schema.content.decode()
    for path in [
        "reply/",
        "reply/approve/",
        "reply/send-back/",
        "reply/deliver/",
        "evaluations/",
        "return-visits/",
        "close/",
        "archive/",
        "reopen/",
    ]:
        assert f"/api/v1/cases/{{id}}/{path}" in text or f"/api/v1/cases/{{pk}}/{path}" in text, (
            path
        )
