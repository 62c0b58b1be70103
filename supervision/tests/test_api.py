"""The supervision overlay API under /api/v1/: status codes and the permission boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clocks.models import Deadline, DeadlineKind
from core.models import DepartmentKind
from petitions.models import CaseEvent
from petitions.services import answer_on_spot
from petitions.testing import register
from routing.models import NoticeKind, WrittenNotice
from supervision.models import (
    AccountabilityFinding,
    Bulletin,
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
)
from supervision.services import (
    assign_leader_responsibility,
    issue_supervision_order,
    record_consultation,
    request_extension,
    send_reminder,
)

from .test_services import handling_case

# The API's URLs, whether or not config.api_urls includes supervision.api.urls yet: the project's
# URLconf is tried first, then this app's under the same prefix.
urlpatterns = [path("", include("config.urls")), path("api/v1/", include("supervision.api.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

API = "/api/v1"
MISSING = 999_999_999


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def iso(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.fixture
def case(org, cast):
    return handling_case(org, cast)[0]


@pytest.fixture
def police_order(org, cast, case):
    return issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="报告进展",
        due_at=timezone.now() + timedelta(days=5),
        department=org.dept(org.city, DepartmentKind.POLICE),
    )


# --- extensions ---------------------------------------------------------------------------------------


def test_officer_requests_an_extension(cast, case):
    response = client_for(cast["police"]).post(
        f"{API}/cases/{case.pk}/extensions/", {"days": 20, "reason": "需鉴定"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == ExtensionState.PENDING and body["requested_by"] == "police"
    assert ExtensionRequest.objects.get(pk=body["id"]).days == 20


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"days": 31, "reason": "x"}, "days"), ({"days": 10, "reason": ""}, "reason"), ({}, "days")],
)
def test_bad_extension_input_is_400(cast, case, payload, field):
    response = client_for(cast["police"]).post(
        f"{API}/cases/{case.pk}/extensions/", payload, format="json"
    )
    assert response.status_code == 400 and field in response.json()


def test_second_extension_is_409_and_other_department_403_and_foreign_case_404(cast, case):
    request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    payload = {"days": 5, "reason": "再"}
    again = client_for(cast["head"]).post(
        f"{API}/cases/{case.pk}/extensions/", payload, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "extension_exists"
    # The court is not on this case: it cannot see it at all.
    assert (
        client_for(cast["court"])
        .post(f"{API}/cases/{case.pk}/extensions/", payload, format="json")
        .status_code
        == 404
    )
    assert (
        client_for(cast["supervisor"])
        .post(f"{API}/cases/{case.pk}/extensions/", payload, format="json")
        .status_code
        == 403
    )
    assert (
        client_for(cast["police"])
        .post(f"{API}/cases/{MISSING}/extensions/", payload, format="json")
        .status_code
        == 404
    )


def test_head_approves_and_gets_the_new_deadline_and_the_notice(cast, case):
    request = request_extension(actor=cast["police"], case=case, days=30, reason="需鉴定")
    handling = Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING)
    response = client_for(cast["head"]).post(
        f"{API}/extensions/{request.pk}/decide/", {"approve": True}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["request"]["state"] == ExtensionState.APPROVED
    assert body["request"]["decided_by"] == "head"
    assert body["deadline"]["extended_days"] == 30
    assert body["deadline"]["warning_level"] == "on_time"
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.EXTENSION)
    assert body["notice"]["number"] == notice.number
    old_due = handling.due_at
    handling.refresh_from_db()
    assert handling.due_at == old_due + timedelta(days=30)
    assert parse_datetime(body["deadline"]["due_at"]) == handling.due_at


def test_decisions_by_the_wrong_people_are_refused(cast, case):
    request = request_extension(actor=cast["police"], case=case, days=30, reason="需鉴定")
    url = f"{API}/extensions/{request.pk}/decide/"
    assert client_for(cast["police"]).post(url, {"approve": True}, format="json").status_code == 403
    assert (
        client_for(cast["outsider"]).post(url, {"approve": True}, format="json").status_code == 404
    )
    assert (
        client_for(cast["head"]).post(f"{API}/extensions/{MISSING}/decide/", {"approve": True})
    ).status_code == 404
    rejected = client_for(cast["head"]).post(url, {"approve": False}, format="json")
    assert rejected.status_code == 400 and "note" in rejected.json()
    request.refresh_from_db()
    assert request.state == ExtensionState.PENDING


# --- supervision orders ----------------------------------------------------------------------------


def test_supervisor_issues_an_order(org, cast, case):
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/supervision-orders/",
        {"requirement": "报告进展", "due_at": iso(5), "department": police.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == f"{case.number}-D01" and body["state"] == OrderState.OPEN
    assert body["department"]["id"] == police.pk and body["issued_by"] == "supervisor"


def test_order_errors_map_to_400_403_and_409(org, cast, case):
    url = f"{API}/cases/{case.pk}/supervision-orders/"
    past = client_for(cast["supervisor"]).post(
        url, {"requirement": "x", "due_at": iso(-1)}, format="json"
    )
    assert past.status_code == 400 and "due_at" in past.json()
    officer = client_for(cast["police"]).post(
        url, {"requirement": "x", "due_at": iso(3)}, format="json"
    )
    assert officer.status_code == 403
    closed = register(cast["reception"]).case
    answer_on_spot(actor=cast["reception"], case=closed, answer="已解答")
    late = client_for(cast["supervisor"]).post(
        f"{API}/cases/{closed.pk}/supervision-orders/",
        {"requirement": "x", "due_at": iso(3)},
        format="json",
    )
    assert late.status_code == 409 and late.json()["code"] == "case_not_open"


def test_department_responds_and_the_order_clock_is_met(cast, police_order):
    response = client_for(cast["police"]).post(
        f"{API}/supervision-orders/{police_order.pk}/respond/",
        {"response": "已约谈信访人"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == OrderState.RESPONDED
    assert not Deadline.objects.filter(
        case=police_order.case, kind=DeadlineKind.SUPERVISION_ORDER, met_at__isnull=True
    ).exists()
    again = client_for(cast["police"]).post(
        f"{API}/supervision-orders/{police_order.pk}/respond/", {"response": "再"}, format="json"
    )
    assert again.status_code == 409
    closed = client_for(cast["supervisor"]).post(
        f"{API}/supervision-orders/{police_order.pk}/close/", {}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["state"] == OrderState.CLOSED


def test_order_response_by_others_is_refused(cast, police_order):
    url = f"{API}/supervision-orders/{police_order.pk}/respond/"
    assert client_for(cast["supervisor"]).post(url, {"response": "x"}).status_code == 403
    assert client_for(cast["outsider"]).post(url, {"response": "x"}).status_code == 404
    assert client_for(cast["police"]).post(url, {"response": ""}).status_code == 400
    police_order.refresh_from_db()
    assert police_order.state == OrderState.OPEN


# --- reminders -------------------------------------------------------------------------------------


def test_reminder_is_201_then_200_on_a_double_submit(cast, case):
    client = client_for(cast["leader"])
    url = f"{API}/cases/{case.pk}/reminders/"
    first = client.post(url, {"message": "请加快办理"}, format="json")
    second = client.post(url, {"message": "请加快办理"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["sent"] and not second.json()["sent"]
    assert first.json()["reminder"]["id"] == second.json()["reminder"]["id"]
    assert CaseEvent.objects.filter(case=case, kind="reminder").count() == 1
    assert client_for(cast["head"]).post(url, {"message": "x"}).status_code == 403


# --- 包案, consultations, findings, bulletins ---------------------------------------------------------


def test_leader_responsibility_and_its_resolution(cast, case):
    response = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/leader-responsibility/",
        {
            "leader": cast["leader"].pk,
            "handler": cast["police"].pk,
            "due_at": iso(30),
            "target_result": "息诉罢访",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["leader"] == "leader"
    pk = response.json()["id"]
    twice = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/leader-responsibility/",
        {"leader": cast["leader"].pk, "due_at": iso(30), "target_result": "再"},
        format="json",
    )
    assert twice.status_code == 409
    not_a_leader = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/leader-responsibility/",
        {"leader": cast["triage"].pk, "due_at": iso(30), "target_result": "x"},
        format="json",
    )
    assert not_a_leader.status_code == 400 and "leader" in not_a_leader.json()
    resolved = client_for(cast["leader"]).post(
        f"{API}/leader-responsibilities/{pk}/resolve/", {"result": "已化解"}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["is_resolved"]
    assert LeaderResponsibility.objects.get(pk=pk).is_resolved


def test_consultation_is_recorded(org, cast, case):
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/consultations/",
        {"held_at": iso(0), "departments": [police.pk], "decisions": "公安牵头"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [d["id"] for d in response.json()["departments"]] == [police.pk]
    foreign = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/consultations/",
        {
            "held_at": iso(0),
            "departments": [org.dept(org.county_a, DepartmentKind.POLICE).pk],
            "decisions": "",
        },
        format="json",
    )
    assert foreign.status_code == 400


def test_findings_need_a_target(cast, case):
    url = f"{API}/cases/{case.pk}/findings/"
    missing = client_for(cast["supervisor"]).post(url, {"finding": "超期未办"}, format="json")
    assert missing.status_code == 400 and "non_field_errors" in missing.json()
    made = client_for(cast["supervisor"]).post(
        url, {"finding": "超期未办", "officer": cast["police"].pk}, format="json"
    )
    assert made.status_code == 201 and made.json()["officer"] == "police"
    assert AccountabilityFinding.objects.count() == 1
    bystander = client_for(cast["supervisor"]).post(
        url, {"finding": "超期未办", "officer": cast["justice"].pk}, format="json"
    )
    assert bystander.status_code == 400 and "officer" in bystander.json()
    assert AccountabilityFinding.objects.count() == 1


def test_bulletins_are_scoped_to_what_the_issuer_may_see(org, cast, case):
    foreign = register(cast["outsider"]).case
    police = org.dept(org.city, DepartmentKind.POLICE)
    client = client_for(cast["supervisor"])
    hidden = client.post(
        f"{API}/bulletins/",
        {"title": "通报", "body": "正文", "departments": [police.pk], "cases": [foreign.pk]},
        format="json",
    )
    missing = client.post(
        f"{API}/bulletins/",
        {"title": "通报", "body": "正文", "departments": [police.pk], "cases": [MISSING]},
        format="json",
    )
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()  # a case you cannot see is one that does not exist
    made = client.post(
        f"{API}/bulletins/",
        {"title": "通报", "body": "正文", "departments": [police.pk], "cases": [case.pk]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["cases"] == [case.pk] and made.json()["center"] == org.city.name
    assert (
        client_for(cast["police"])
        .post(
            f"{API}/bulletins/",
            {"title": "t", "body": "b", "departments": [police.pk]},
            format="json",
        )
        .status_code
        == 403
    )
    assert Bulletin.objects.count() == 1


# --- reading -----------------------------------------------------------------------------------------


def test_case_supervision_lists_every_overlay(org, cast, case, police_order):
    request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    send_reminder(actor=cast["supervisor"], case=case, message="催办")
    assign_leader_responsibility(
        actor=cast["supervisor"],
        case=case,
        leader=cast["leader"],
        handler=None,
        due_at=timezone.now() + timedelta(days=20),
        target_result="化解",
    )
    record_consultation(
        actor=cast["supervisor"],
        case=case,
        held_at=timezone.now(),
        departments=[org.dept(org.city, DepartmentKind.POLICE)],
        participants="",
        decisions="决定",
    )
    response = client_for(cast["police"]).get(f"{API}/cases/{case.pk}/supervision/")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == case.number
    kinds = {d["kind"] for d in body["deadlines"]}
    assert kinds == {DeadlineKind.HANDLING, DeadlineKind.SUPERVISION_ORDER}
    assert all(isinstance(d["days_remaining"], int) for d in body["deadlines"])
    assert [o["id"] for o in body["supervision_orders"]] == [police_order.pk]
    assert len(body["extension_requests"]) == len(body["reminders"]) == 1
    assert len(body["leader_responsibilities"]) == len(body["consultations"]) == 1
    assert body["findings"] == [] and body["bulletins"] == []


def test_case_supervision_of_a_case_not_yours_is_404(cast, case):
    for who in ("outsider", "court"):
        assert client_for(cast[who]).get(f"{API}/cases/{case.pk}/supervision/").status_code == 404
    assert (
        client_for(cast["supervisor"]).get(f"{API}/cases/{MISSING}/supervision/").status_code == 404
    )


def test_anonymous_is_refused(case):
    # Token authentication comes first: 401 with WWW-Authenticate (tests/test_hardening.py).
    assert APIClient().get(f"{API}/cases/{case.pk}/supervision/").status_code == 401
    assert (
        APIClient().post(f"{API}/cases/{case.pk}/reminders/", {"message": "x"}).status_code == 401
    )
