"""The campaigns API: status codes, field errors, scoping and stale versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import include, path
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import Campaign, Matter, MatterProgress
from campaigns.tests.conftest import NOW
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role

# The API's URLs, whether or not config.api_urls includes campaigns.api.urls yet.
urlpatterns = [path("api/v1/", include("campaigns.api.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__), pytest.mark.usefixtures("at_now")]
API = "/api/v1"


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


CAMPAIGN = {
    "name": "积案化解百日会战",
    "kind": "backlog",
    "starts_on": "2026-02-01",
    "ends_on": "2026-05-11",
    "targets": {"resolution_rate": 0.8, "cessation_rate": 0.6},
}


def test_open_list_and_read_a_campaign(org, cast):
    response = api(cast["supervisor"]).post(f"{API}/campaigns/", CAMPAIGN, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["center"] == {"id": org.city.pk, "name": "市中心"}
    assert (body["version"], body["can_manage"], body["state"]) == (1, True, "open")
    pk = body["id"]
    listed = api(cast["province_supervisor"]).get(f"{API}/campaigns/").json()["results"]
    assert [(row["id"], row["can_manage"]) for row in listed] == [(pk, False)]
    assert api(cast["outsider"]).get(f"{API}/campaigns/").json()["results"] == []
    assert api(cast["outsider"]).get(f"{API}/campaigns/{pk}/").status_code == 404
    assert api(cast["supervisor"]).get(f"{API}/campaigns/999999/").status_code == 404
    assert api(cast["province_supervisor"]).get(f"{API}/campaigns/{pk}/").status_code == 200


def test_roles_that_cannot_open_a_campaign_get_403(cast):
    for who in ("reception", "police"):
        response = api(cast[who]).post(f"{API}/campaigns/", CAMPAIGN, format="json")
        assert response.status_code == 403
    assert Campaign.objects.count() == 0
    assert APIClient().get(f"{API}/campaigns/").status_code == 401


def test_field_errors_are_400(cast):
    bad = {
        **CAMPAIGN,
        "kind": "party",
        "ends_on": "2026-01-01",
        "members": [999999],
    }
    response = api(cast["supervisor"]).post(f"{API}/campaigns/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "members"}
    response = api(cast["supervisor"]).post(
        f"{API}/campaigns/", {**CAMPAIGN, "ends_on": "2026-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"ends_on": ["专项活动的结束日期不能早于开始日期。"]}
    response = api(cast["supervisor"]).post(
        f"{API}/campaigns/", {**CAMPAIGN, "targets": {"resolution_rate": 2}}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"targets"}


def test_update_with_stale_version_is_409(cast, campaign):
    url = f"{API}/campaigns/{campaign.pk}/"
    ok = api(cast["supervisor"]).patch(
        url, {"expected_version": 1, "office": "办公室"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert (ok.json()["office"], ok.json()["version"]) == ("办公室", 2)
    stale = api(cast["supervisor"]).patch(
        url, {"expected_version": 1, "office": "x"}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert (
        api(cast["province_supervisor"]).patch(url, {"office": "x"}, format="json").status_code
        == 403
    )


def test_hand_down_sign_progress_and_summary(org, cast, campaign, make_case):
    case = make_case()
    url = f"{API}/campaigns/{campaign.pk}/matters/"
    payload = {
        "case": case.pk,
        "department": org.dept(org.city, DepartmentKind.POLICE).pk,
        "handler": cast["police"].pk,
        "due_on": "2026-04-30",
        "target_result": "依法化解",
    }
    response = api(cast["supervisor"]).post(url, payload, format="json")
    assert response.status_code == 201, response.content
    matter = response.json()
    assert matter["leader"] == {"id": cast["head"].pk, "name": "head"}
    assert matter["case"]["number"] == case.number
    again = api(cast["supervisor"]).post(url, payload, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "matter_exists"
    unknown = api(cast["supervisor"]).post(
        url, {**payload, "case": 999999, "leader": 999999}, format="json"
    )
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"leader"}  # ids resolved by the serializer first
    unknown = api(cast["supervisor"]).post(url, {**payload, "case": 999999}, format="json")
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"case"}

    mid = matter["id"]
    sign = f"{url}{mid}/sign/"
    assert api(cast["court"]).post(sign, {}, format="json").status_code == 404  # not visible
    assert api(cast["triage"]).post(sign, {}, format="json").status_code == 403
    assert api(cast["police"]).post(sign, {"expected_version": 5}, format="json").status_code == 409
    signed = api(cast["police"]).post(sign, {"expected_version": 1}, format="json")
    assert signed.status_code == 200
    assert signed.json()["signed_by"] == cast["police"].pk

    progress = f"{url}{mid}/progress/"
    missing = api(cast["police"]).post(
        progress, {"text": "x", "outcome": "resolved"}, format="json"
    )
    assert missing.status_code == 400
    assert set(missing.json()) == {"resolution"}
    entry = {
        "text": "达成和解",
        "outcome": "resolved",
        "resolution": "和解协议",
        "expected_version": 2,
        "submission_key": "form-1",
    }
    first = api(cast["police"]).post(progress, entry, format="json")
    assert first.status_code == 201, first.content
    second = api(cast["police"]).post(progress, entry, format="json")
    assert second.json()["id"] == first.json()["id"]
    assert MatterProgress.objects.count() == 1

    ledger = api(cast["police"]).patch(
        f"{url}{mid}/", {"expected_version": 3, "next_step": "回访"}, format="json"
    )
    assert ledger.status_code == 200, ledger.content
    assert ledger.json()["next_step"] == "回访"

    summary = api(cast["supervisor"]).get(f"{API}/campaigns/{campaign.pk}/summary/").json()
    assert (summary["handed_down"], summary["resolved"], summary["resolution_rate"]) == (1, 1, 1.0)
    assert summary["ceased"] == 0
    assert summary["targets"] == {"resolution_rate": 0.8, "cessation_rate": 0.6}


def test_lower_center_lists_only_its_matters(org, cast, make_campaign, make_case, make_matter):
    campaign = make_campaign(include_subordinates=True)
    county_head = make_user(
        "county_head", org.county_a, [Role.HEAD], org.dept(org.county_a, DepartmentKind.POLICE)
    )
    make_matter(campaign)
    county = make_matter(
        campaign,
        make_case(center=org.county_a),
        department=None,
        center=org.county_a,
        leader=county_head,
        handler=None,
    )
    triage = api(cast["county_triage"])
    listed = triage.get(f"{API}/campaigns/{campaign.pk}/matters/").json()["results"]
    assert [row["id"] for row in listed] == [county.pk]
    summary = triage.get(f"{API}/campaigns/{campaign.pk}/summary/").json()
    assert summary["handed_down"] == 1
    everyone = api(cast["supervisor"]).get(f"{API}/campaigns/{campaign.pk}/matters/").json()
    assert len(everyone["results"]) == 2 == Matter.objects.count()
    # the county reads the city's campaign but cannot hand matters down in it
    response = triage.post(
        f"{API}/campaigns/{campaign.pk}/matters/",
        {
            "case": make_case(center=org.county_a).pk,
            "center": org.county_a.pk,
            "leader": county_head.pk,
            "due_on": (NOW + timedelta(days=30)).date().isoformat(),
            "target_result": "x",
        },
        format="json",
    )
    assert response.status_code == 403
