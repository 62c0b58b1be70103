"""The sweep's API: POST /api/v1/campaigns/{id}/sweep/, GET .../candidates/, POST
.../candidates/{cid}/decide/ — answers, field errors, 403/404/409."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import CampaignKind, CandidateDecision, Matter, SweepCandidate
from core.models import DepartmentKind
from petitions.models import Case
from petitions.states import CaseState

from .conftest import NOW

pytestmark = pytest.mark.django_db

API = "/api/v1"
DAY = timedelta(days=1)


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def sweep_campaign(make_campaign):
    return make_campaign(kind=CampaignKind.SWEEP, name="信访积案大排查")


@pytest.fixture
def cases(make_case):
    old = make_case(state=CaseState.HANDLING, registered_at=NOW - 120 * DAY)
    old_group = make_case(state=CaseState.HANDLING, registered_at=NOW - 100 * DAY)
    young_group = make_case(state=CaseState.HANDLING, registered_at=NOW - 10 * DAY)
    Case.objects.filter(pk__in=[old_group.pk, young_group.pk]).update(is_group=True)
    return old, old_group, young_group


def test_sweep_returns_the_candidates_with_the_criteria_they_met(
    sweep_campaign, cases, cast, at_now
):
    old, old_group, _young = cases
    response = client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{sweep_campaign.pk}/sweep/",
        {"criteria": {"open_days_over": 90, "group": True, "match": "any"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["count"], body["truncated"]) == (3, False)
    assert body["criteria"] == {"open_days_over": 90, "group": True, "match": "any"}
    assert [(c["case"], c["number"], c["criteria_met"]) for c in body["candidates"]] == [
        (old.pk, old.number, ["open_days_over"]),
        (old_group.pk, old_group.number, ["open_days_over", "group"]),
        (cases[2].pk, cases[2].number, ["group"]),
    ]
    assert {c["decision"] for c in body["candidates"]} == {"pending"}


def test_past_the_cap_the_count_says_truncated(sweep_campaign, cases, cast, at_now, monkeypatch):
    monkeypatch.setattr("campaigns.sweep.CANDIDATE_CAP", 2)
    client = client_for(cast["supervisor"])
    url = f"{API}/campaigns/{sweep_campaign.pk}/sweep/"
    response = client.post(url, {"criteria": {"open_days_over": 1}}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["count"], body["truncated"]) == (2, True)
    assert [c["case"] for c in body["candidates"]] == [cases[0].pk, cases[1].pk]
    exact = client.post(url, {"criteria": {"group": True}}, format="json").json()
    assert (exact["count"], exact["truncated"]) == (2, False)


def test_the_issues_example_criteria(sweep_campaign, cases, cast, at_now):
    response = client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{sweep_campaign.pk}/sweep/",
        {"criteria": {"open_days_over": 90, "visits_at_least": 3}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["count"] == 0  # none has three visits


def test_bad_criteria_answer_400_by_criterion(sweep_campaign, cast, at_now):
    client = client_for(cast["supervisor"])
    url = f"{API}/campaigns/{sweep_campaign.pk}/sweep/"
    response = client.post(
        url, {"criteria": {"open_days_over": "ninety", "weather": True}}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["criteria"]
    assert set(errors) == {"open_days_over", "weather"}
    response = client.post(url, {"criteria": {}}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["criteria"]
    assert client.post(url, {}, format="json").status_code == 400
    sweep_campaign.refresh_from_db()
    assert sweep_campaign.sweep_criteria == {}


def test_bad_criteria_are_explained_in_chinese(sweep_campaign, cast, at_now):
    response = client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{sweep_campaign.pk}/sweep/",
        {"criteria": {"weather": True}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.json() == {"criteria": {"weather": ["未知的排查条件。"]}}


def test_only_managers_sweep_and_others_get_404_or_403(sweep_campaign, cases, cast, at_now):
    url = f"{API}/campaigns/{sweep_campaign.pk}/sweep/"
    body = {"criteria": {"group": True}}
    # the city police officer may not read the campaign at all; the outsider neither
    assert client_for(cast["outsider"]).post(url, body, format="json").status_code == 404
    # the province supervisor reads it (a subordinate center's campaign) but does not run it
    assert client_for(cast["province_supervisor"]).post(url, body, format="json").status_code in (
        403,
    )
    assert not SweepCandidate.objects.exists()
    assert client_for(cast["leader"]).post(url, body, format="json").status_code == 200
    assert APIClient().post(url, body, format="json").status_code == 401


def test_candidate_list_and_decisions(org, sweep_campaign, cases, cast, at_now):
    old, old_group, young_group = cases
    client = client_for(cast["supervisor"])
    client.post(
        f"{API}/campaigns/{sweep_campaign.pk}/sweep/",
        {"criteria": {"open_days_over": 90}},
        format="json",
    )
    listed = client.get(f"{API}/campaigns/{sweep_campaign.pk}/candidates/").json()["results"]
    assert [c["case"] for c in listed] == [old.pk, old_group.pk]
    first, second = listed
    decide = f"{API}/campaigns/{sweep_campaign.pk}/candidates/{{}}/decide/"

    response = client.post(decide.format(first["id"]), {"keep": False, "reason": ""}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    response = client.post(
        decide.format(first["id"]), {"keep": False, "reason": "已化解"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["decision"], response.json()["reason"]) == ("dropped", "已化解")
    again = client.post(decide.format(first["id"]), {"keep": False, "reason": "x"}, format="json")
    assert again.status_code == 409

    response = client.post(
        decide.format(second["id"]),
        {
            "keep": True,
            "reason": "群体访积案",
            "hand_down": {
                "department": org.dept(org.city, DepartmentKind.POLICE).pk,
                "leader": cast["head"].pk,
                "handler": cast["police"].pk,
                "due_on": "2026-05-31",
                "target_result": "依法化解，息诉罢访",
            },
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == "kept"
    assert Matter.objects.filter(campaign=sweep_campaign, case=old_group).count() == 1

    kept = client.get(f"{API}/campaigns/{sweep_campaign.pk}/candidates/?decision=kept").json()
    assert [c["case"] for c in kept["results"]] == [old_group.pk]
    assert (
        client.get(f"{API}/campaigns/{sweep_campaign.pk}/candidates/?decision=maybe").status_code
        == 400
    )
    assert young_group.pk not in [c["case"] for c in listed]


def test_deciding_needs_a_manager_and_a_candidate_of_this_campaign(
    make_campaign, sweep_campaign, cases, cast, at_now
):
    client = client_for(cast["supervisor"])
    client.post(
        f"{API}/campaigns/{sweep_campaign.pk}/sweep/",
        {"criteria": {"open_days_over": 90}},
        format="json",
    )
    candidate = SweepCandidate.objects.filter(campaign=sweep_campaign).first()
    other = make_campaign(kind=CampaignKind.SWEEP, name="另一次排查")
    body = {"keep": False, "reason": "不属积案"}
    wrong = f"{API}/campaigns/{other.pk}/candidates/{candidate.pk}/decide/"
    assert client.post(wrong, body, format="json").status_code == 404
    right = f"{API}/campaigns/{sweep_campaign.pk}/candidates/{candidate.pk}/decide/"
    assert (
        client_for(cast["province_supervisor"]).post(right, body, format="json").status_code == 403
    )
    candidate.refresh_from_db()
    assert candidate.decision == CandidateDecision.PENDING
