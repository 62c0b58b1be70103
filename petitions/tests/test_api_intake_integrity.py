"""Intake over the API keeps the data right (issues 12 #1-2, 13 #2, #5, #6, #9)."""

from __future__ import annotations

import pytest

from clocks.models import Notification
from petitions.models import Case, Petitioner, Visit
from petitions.services import MAX_HEADCOUNT
from petitions.testing import make_petitioner, register

from .test_api import CASES, PETITIONERS, client_for, intake_body, valid_id

pytestmark = pytest.mark.django_db


def test_a_representative_who_is_the_main_petitioner_does_not_blank_her_file(cast):
    number = valid_id()
    body = intake_body(headcount=8)
    body["petitioner"].update(name="李梅", sex="F", id_number=number)
    body["representatives"] = [{"name": "李梅", "id_number": number}]
    response = client_for(cast["reception"]).post(CASES, body, format="json")
    assert response.status_code == 201, response.content
    person = Petitioner.objects.get()
    assert person.sex == "F" and person.address == "石家庄市长安区"
    assert person.phone_masked == "139****1111"
    assert {h.sex for h in person.history.all()} == {"F"}


def test_the_same_matter_twice_is_a_409_with_the_open_case_unless_a_reason_is_given(cast):
    client = client_for(cast["reception"])
    body = intake_body()
    first = client.post(CASES, body, format="json")
    assert first.status_code == 201, first.content

    second = client.post(CASES, body, format="json")
    assert second.status_code == 409, second.content
    data = second.json()
    assert data["code"] == "open_case_exists"
    assert data["open_case_id"] == first.json()["id"]
    assert data["open_case_number"] == first.json()["number"]
    assert Case.objects.count() == 1

    third = client.post(CASES, {**body, "new_case_reason": "另一执行案件"}, format="json")
    assert third.status_code == 201, third.content
    assert Case.objects.count() == 2


def test_a_known_persons_differing_identity_comes_back_as_differences(cast):
    number = valid_id()
    person = make_petitioner(cast["reception"], name="周敏", id_number=number)
    body = intake_body()
    body["petitioner"].update(name="周明", id_number=number, address="外县某村")
    response = client_for(cast["county_reception"]).post(CASES, body, format="json")
    assert response.status_code == 201, response.content
    differences = {d["field"]: d for d in response.json()["differences"]}
    assert differences["name"]["on_file"] == "周敏" and differences["name"]["typed"] == "周明"
    assert "phone" in differences  # another number typed: masked both ways
    assert differences["phone"]["typed"] == "139****1111"
    person.refresh_from_db()
    assert person.name == "周敏"


@pytest.mark.parametrize("headcount", [2**31, MAX_HEADCOUNT + 1, 0, -1])
def test_headcount_out_of_bounds_at_intake_is_a_400(cast, headcount):
    response = client_for(cast["reception"]).post(
        CASES, intake_body(headcount=headcount), format="json"
    )
    assert response.status_code == 400, response.content
    assert "headcount" in response.json()
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


@pytest.mark.parametrize("headcount", [2**31, MAX_HEADCOUNT + 1])
def test_headcount_out_of_bounds_at_a_visit_is_a_400(cast, headcount):
    case = register(cast["reception"]).case
    response = client_for(cast["reception"]).post(
        f"{CASES}{case.pk}/visits/",
        {"petitioner_id": case.main_petitioner_id, "channel": "visit", "headcount": headcount},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "headcount" in response.json()
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("path", ["intake", "visit"])
def test_an_id_beyond_the_column_is_a_400(cast, path):
    client = client_for(cast["reception"])
    if path == "intake":
        body = intake_body(petitioner_id=2**63)
        del body["petitioner"]
        response = client.post(CASES, body, format="json")
    else:
        case = register(cast["reception"]).case
        response = client.post(
            f"{CASES}{case.pk}/visits/",
            {"petitioner_id": 2**63, "channel": "visit"},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "petitioner_id" in response.json()


def test_answer_with_a_version_beyond_the_column_is_a_400(cast):
    case = register(cast["reception"]).case
    response = client_for(cast["reception"]).post(
        f"{CASES}{case.pk}/answer/", {"answer": "已答复", "expected_version": 2**31}, format="json"
    )
    assert response.status_code == 400 and "expected_version" in response.json()


def test_representatives_may_not_outnumber_the_headcount(cast):
    body = intake_body(headcount=1)
    body["representatives"] = [
        {"name": "甲", "id_number": valid_id()},
        {"name": "乙", "id_number": valid_id()},
    ]
    response = client_for(cast["reception"]).post(CASES, body, format="json")
    assert response.status_code == 400, response.content
    assert "representatives" in response.json()
    assert Petitioner.objects.count() == 0


def test_a_visit_on_a_county_case_is_refused_to_the_city_and_reported_instead(cast, org):
    case = register(cast["county_reception"]).case
    client = client_for(cast["reception"])
    body = {"petitioner_id": case.main_petitioner_id, "channel": "visit", "notes": "催办"}
    refused = client.post(f"{CASES}{case.pk}/visits/", body, format="json")
    assert refused.status_code == 403, refused.content
    assert org.county_a.name in refused.json()["detail"]
    assert Visit.objects.filter(case=case).count() == 1

    reported = client.post(
        f"{CASES}{case.pk}/report-visit/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert reported.status_code == 202, reported.content
    assert reported.json() == {
        "notified": 2,
        "center": {"id": org.county_a.pk, "name": org.county_a.name},
    }
    again = client.post(
        f"{CASES}{case.pk}/report-visit/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert again.json()["notified"] == 0
    reports = Notification.objects.filter(case=case, dedupe_key__startswith="visit-report:")
    assert {(n.audience_center_id, n.audience_role) for n in reports} == {
        (org.county_a.pk, "reception"),
        (org.county_a.pk, "triage"),
    }
    assert Visit.objects.filter(case=case).count() == 1


def test_correct_endpoint_changes_the_file_with_a_reason_for_the_holding_center_only(cast):
    case = register(cast["reception"]).case
    person = case.main_petitioner
    url = f"{PETITIONERS}{person.pk}/correct/"

    no_reason = client_for(cast["reception"]).post(url, {"name": "新名"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()

    county = client_for(cast["county_reception"])  # cannot even see the file
    assert county.post(url, {"name": "X", "reason": "r"}, format="json").status_code == 404

    bad_phone = client_for(cast["triage"]).post(
        url, {"phone": "12", "reason": "号码错误"}, format="json"
    )
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()

    ok = client_for(cast["triage"]).post(
        url, {"name": "更正后", "phone": "13700001111", "reason": "姓名录入错误"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["name"] == "更正后" and ok.json()["phone_masked"] == "137****1111"
    latest = person.history.first()
    assert latest.history_change_reason == "姓名录入错误"
    assert latest.history_user == cast["triage"]


def test_a_lower_centers_desk_that_sees_the_file_cannot_correct_it(cast):
    person = make_petitioner(cast["reception"])
    register(cast["county_reception"], person)  # a county case: the county sees the person
    response = client_for(cast["county_reception"]).post(
        f"{PETITIONERS}{person.pk}/correct/", {"name": "X", "reason": "r"}, format="json"
    )
    assert response.status_code == 403, response.content
    person.refresh_from_db()
    assert person.name != "X"
