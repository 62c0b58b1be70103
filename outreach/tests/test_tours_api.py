"""The tours API: status codes, field errors in Chinese, scoping, stale versions, double submits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clocks.deadlines import CHINA_TZ
from core.models import DepartmentKind
from outreach.models import Tour, TourReception
from outreach.tests.conftest import NOW
from supervision.models import SupervisionOrder

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def body(org, cast, handling_case) -> dict[str, Any]:
    return {
        "title": "甲县带案巡视",
        "target_center": org.county_a.pk,
        "starts_on": "2026-02-09",
        "ends_on": "2026-02-13",
        "leader": cast["leader"].pk,
        "members": [cast["supervisor"].pk],
        "cases": [handling_case.pk],
    }


def test_plan_list_read_and_scoping(org, cast, people, body, handling_case):
    response = api(cast["supervisor"]).post(f"{API}/tours/", body, format="json")
    assert response.status_code == 201, response.content
    tour = response.json()
    assert (tour["state"], tour["version"], tour["can_manage"]) == ("planned", 1, True)
    assert tour["target_center"] == {"id": org.county_a.pk, "name": "甲县中心"}
    assert [(c["case"]["number"], c["case"]["state"]) for c in tour["carried"]] == [
        (handling_case.number, "handling")
    ]
    assert tour["figures"] == {
        "carried": 1,
        "receptions": 0,
        "meetings": 0,
        "instructions": 0,
        "instructions_met": 0,
        "live": True,
    }
    pk = tour["id"]
    listed = api(people["county_supervisor"]).get(f"{API}/tours/").json()["results"]
    assert [(r["id"], r["cases"], r["can_manage"], r["live"]) for r in listed] == [
        (pk, 1, False, True)
    ]
    assert api(people["county_supervisor"]).get(f"{API}/tours/{pk}/").status_code == 200
    assert api(people["county_b_supervisor"]).get(f"{API}/tours/").json()["results"] == []
    assert api(people["county_b_supervisor"]).get(f"{API}/tours/{pk}/").status_code == 404
    assert api(cast["outsider"]).get(f"{API}/tours/{pk}/").status_code == 404
    assert APIClient().get(f"{API}/tours/").status_code == 401


def test_who_may_plan(org, cast, people, body):
    county = {**body, "target_center": org.city.pk, "leader": people["county_leader"].pk}
    assert (
        api(people["county_supervisor"]).post(f"{API}/tours/", county, format="json").status_code
        == 403
    )
    assert api(cast["police"]).post(f"{API}/tours/", body, format="json").status_code == 403
    assert Tour.objects.count() == 0


def test_bad_input_is_400_in_chinese(org, cast, body, make_handling_case):
    other = make_handling_case(at="county_b")
    response = api(cast["supervisor"]).post(
        f"{API}/tours/", {**body, "ends_on": "2026-02-08"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"ends_on": ["巡视结束日期不能早于开始日期。"]}
    response = api(cast["supervisor"]).post(
        f"{API}/tours/", {**body, "cases": [other.pk]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"cases"}
    assert "甲县中心" in response.json()["cases"][0]
    response = api(cast["supervisor"]).post(
        f"{API}/tours/", {**body, "cases": [999999]}, format="json"
    )
    assert (response.status_code, set(response.json())) == (400, {"cases"})
    response = api(cast["supervisor"]).post(
        f"{API}/tours/", {**body, "starts_on": "soon"}, format="json"
    )
    assert (response.status_code, set(response.json())) == (400, {"starts_on"})
    assert Tour.objects.count() == 0


def test_double_submit_is_one_tour(cast, body):
    client = api(cast["supervisor"])
    first = client.post(f"{API}/tours/", {**body, "submission_key": "abc"}, format="json")
    again = client.post(f"{API}/tours/", {**body, "submission_key": "abc"}, format="json")
    assert first.json()["id"] == again.json()["id"]
    assert Tour.objects.count() == 1


def test_on_site_work_and_report(org, cast, body, handling_case):
    client = api(cast["supervisor"])
    pk = client.post(f"{API}/tours/", body, format="json").json()["id"]
    at = datetime(2026, 2, 10, 8, 30, tzinfo=CHINA_TZ).isoformat()
    reception = {
        "case": handling_case.pk,
        "at": at,
        "notes": "信访人反映执行款未到位。",
        "expected_version": handling_case.version,
        "submission_key": "rec-1",
    }
    response = client.post(f"{API}/tours/{pk}/receptions/", reception, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["figures"]["receptions"] == 1
    assert response.json()["state"] == "on_site"
    again = client.post(f"{API}/tours/{pk}/receptions/", reception, format="json")
    assert again.status_code == 201
    assert TourReception.objects.count() == 1
    stale = client.post(
        f"{API}/tours/{pk}/receptions/", {**reception, "submission_key": "rec-2"}, format="json"
    )
    assert stale.status_code == 409
    meeting = client.post(
        f"{API}/tours/{pk}/meetings/",
        {
            "case": handling_case.pk,
            "held_at": at,
            "departments": [org.dept(org.county_a, DepartmentKind.POLICE).pk],
            "decisions": "限期核查。",
        },
        format="json",
    )
    assert meeting.status_code == 201, meeting.content
    assert meeting.json()["figures"]["meetings"] == 1
    finding_url = f"{API}/tours/{pk}/cases/{handling_case.pk}/finding/"
    missing_due = client.post(
        finding_url, {"instruction": "限期报结", "expected_version": 1}, format="json"
    )
    assert missing_due.status_code == 400
    assert set(missing_due.json()) == {"instruction_due"}
    done = client.post(
        finding_url,
        {
            "findings": "执行款部分到位。",
            "instruction": "三十日内报送核查结果。",
            "instruction_due": "2026-03-12",
            "expected_version": 1,
        },
        format="json",
    )
    assert done.status_code == 200, done.content
    row = done.json()["carried"][0]
    order = SupervisionOrder.objects.get(case=handling_case)
    assert row["order"]["number"] == order.number
    assert (row["order"]["state"], row["instruction_met"], row["version"]) == ("open", False, 2)
    stale = client.post(finding_url, {"findings": "改", "expected_version": 1}, format="json")
    assert stale.status_code == 409
    assert (
        client.post(f"{API}/tours/{pk}/cases/999999/finding/", {}, format="json").status_code == 404
    )
    version = done.json()["version"]
    report = client.post(
        f"{API}/tours/{pk}/report/",
        {"summary": "发现问题一件。", "expected_version": version},
        format="json",
    )
    assert report.status_code == 200, report.content
    assert (report.json()["state"], report.json()["figures"]["live"]) == ("reported", True)
    live = client.get(f"{API}/tours/?live=1").json()["results"]
    assert [r["id"] for r in live] == [pk]
    # the county side cannot file it
    assert (
        api(cast["county_police"])
        .post(f"{API}/tours/{pk}/report/", {"summary": "x"}, format="json")
        .status_code
        == 404
    )
