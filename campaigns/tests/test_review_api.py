# ruff: noqa: F811 (pytest fixtures imported from review_fixtures are redefined as arguments)
"""The quality review API: score sheets, sample, reviews (POST/GET), objection, decision,
finding and bulletin — answers, field errors, 403/404/409."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import SampledCase, ScoreSheet
from core.models import DepartmentKind, User
from supervision.models import AccountabilityFinding

from .review_fixtures import (  # noqa: F401 (fixtures)
    handled,
    lawyer,
    review,
    scores_for,
    scores_totalling,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_score_sheets_list_the_default_sheet_with_its_items(cast: dict) -> None:
    answer = client_for(cast["police"]).get(f"{API}/score-sheets/")
    assert answer.status_code == 200
    sheets = answer.json()
    default = next(s for s in sheets if s["center"] is None)
    assert default["name"] == "涉法涉诉信访案件评查评分表"
    assert sum(i["points"] for i in default["items"]) == 100
    assert set(default["items"][0]) == {"id", "section", "criterion", "points"}
    assert default["items"][0]["section"] == "facts"


def test_a_center_copies_the_sheet_through_the_api(cast: dict, org: Any) -> None:
    answer = client_for(cast["admin"]).post(f"{API}/score-sheets/", {}, format="json")
    assert answer.status_code == 201
    sheet = ScoreSheet.objects.get(pk=answer.json()["id"])
    assert sheet.center == org.city
    bad = client_for(cast["admin"]).put(
        f"{API}/score-sheets/{sheet.pk}/items/",
        {"items": [{"section": "facts", "criterion": "事实清楚", "points": 50}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["items"] == ["各项合计50分，须合计100分。"]
    assert client_for(cast["police"]).post(f"{API}/score-sheets/", {}).status_code == 403


def test_sample_returns_the_sampled_case_ids(review: Any, handled: Any, cast: dict) -> None:
    unhappy = handled(rating="dissatisfied")
    handled(rating="satisfied")
    url = f"{API}/campaigns/{review.pk}/sample/"
    answer = client_for(cast["supervisor"]).post(
        url, {"rules": {"dissatisfied": True}}, format="json"
    )
    assert answer.status_code == 201
    assert answer.json()["cases"] == [unhappy.pk]
    assert answer.json()["counts"]["dissatisfied"] == 1
    bad = client_for(cast["supervisor"]).post(url, {"rules": {"random": 0.5}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["rules"] == ["“random”须为1至500之间的整数。"]
    assert client_for(cast["police"]).post(
        url, {"rules": {"random": 1}}, format="json"
    ).status_code in (403, 404)
    assert (
        client_for(cast["outsider"]).post(url, {"rules": {"random": 1}}, format="json").status_code
        == 404
    )


@pytest.fixture
def assigned(review: Any, handled: Any, cast: dict, lawyer: User) -> SampledCase:
    case = handled(rating="dissatisfied")
    client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{review.pk}/sample/", {"rules": {"dissatisfied": True}}, format="json"
    )
    sample = SampledCase.objects.get(campaign=review, case=case)
    answer = client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{review.pk}/sample/{case.pk}/reviewers/",
        {"reviewers": [lawyer.pk, cast["justice"].pk]},
        format="json",
    )
    assert answer.status_code == 200
    assert sorted(answer.json()["reviewers"]) == sorted([lawyer.pk, cast["justice"].pk])
    return sample


def test_reviews_post_scores_get_totals_and_409_on_a_second(
    assigned: SampledCase, cast: dict, lawyer: User
) -> None:
    campaign, case = assigned.campaign, assigned.case
    url = f"{API}/campaigns/{campaign.pk}/reviews/"
    scores = scores_for(campaign, {2: 6})  # item 2 worth 10: 4 off
    made = client_for(lawyer).post(
        url, {"case": case.pk, "scores": scores, "comment": "证据不足"}, format="json"
    )
    assert made.status_code == 201
    assert made.json()["total"] == 96
    again = client_for(lawyer).post(url, {"case": case.pk, "scores": scores}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"
    other = client_for(cast["justice"]).post(
        url, {"case": case.pk, "scores": scores_totalling(campaign, 80)}, format="json"
    )
    assert other.status_code == 201
    listing = client_for(cast["supervisor"]).get(url)
    assert listing.status_code == 200
    [row] = listing.json()
    assert row["case"] == case.pk
    assert sorted(r["total"] for r in row["reviews"]) == [80, 96]
    assert row["score"] == "88.0"
    assert row["band"] == "pass"
    # an outside reviewer lists only their own cases; a stranger gets 404
    assert [r["case"] for r in client_for(lawyer).get(url).json()] == [case.pk]
    assert client_for(cast["outsider"]).get(url).status_code == 404


def test_bad_scores_answer_400_with_messages(
    assigned: SampledCase, lawyer: User, cast: dict
) -> None:
    campaign, case = assigned.campaign, assigned.case
    url = f"{API}/campaigns/{campaign.pk}/reviews/"
    scores = scores_for(campaign)
    scores[0]["points"] = 99
    answer = client_for(lawyer).post(url, {"case": case.pk, "scores": scores[:-1]}, format="json")
    assert answer.status_code == 400
    messages = answer.json()["scores"]
    assert any(m.endswith("：得分须在0至8分之间。") for m in messages)
    assert any(m.startswith(f"第{len(scores)}项（") and m.endswith("未评分。") for m in messages)
    assert len(messages) == 2
    # center staff who see the case but are not assigned: 403
    stranger = client_for(cast["triage"]).post(
        url, {"case": case.pk, "scores": scores_for(campaign)}, format="json"
    )
    assert stranger.status_code == 403


def test_objection_and_decision_endpoints(assigned: SampledCase, lawyer: User, cast: dict) -> None:
    campaign, case = assigned.campaign, assigned.case
    made = (
        client_for(lawyer)
        .post(
            f"{API}/campaigns/{campaign.pk}/reviews/",
            {"case": case.pk, "scores": scores_totalling(campaign, 50)},
            format="json",
        )
        .json()
    )
    objection = f"{API}/campaign-reviews/{made['id']}/objection/"
    assert (
        client_for(cast["head"]).post(objection, {"reasons": ""}, format="json").status_code == 400
    )
    first = client_for(cast["head"]).post(objection, {"reasons": "已按期回访"}, format="json")
    assert first.status_code == 200
    assert first.json()["objection_state"] == "pending"
    second = client_for(cast["police"]).post(objection, {"reasons": "再议"}, format="json")
    assert second.status_code == 409
    decision = f"{API}/campaign-reviews/{made['id']}/decision/"
    assert (
        client_for(cast["head"])
        .post(decision, {"upheld": True, "note": "x", "adjusted_total": 90}, format="json")
        .status_code
        == 403
    )
    stale = client_for(cast["supervisor"]).post(
        decision,
        {"upheld": True, "note": "属实", "adjusted_total": 65, "expected_version": 1},
        format="json",
    )
    assert stale.status_code == 409
    decided = client_for(cast["supervisor"]).post(
        decision,
        {
            "upheld": True,
            "note": "属实",
            "adjusted_total": 65,
            "expected_version": first.json()["version"],
        },
        format="json",
    )
    assert decided.status_code == 200
    assert (decided.json()["total"], decided.json()["final_total"]) == (50, 65)
    results = client_for(cast["supervisor"]).get(f"{API}/campaigns/{campaign.pk}/review-results/")
    assert results.status_code == 200
    assert results.json()["cases"][0]["score"] == "65.0"
    assert results.json()["by_department"][0]["band"] == "pass"
    assert (
        client_for(lawyer).get(f"{API}/campaigns/{campaign.pk}/review-results/").status_code == 403
    )


def test_finding_and_bulletin_endpoints_go_through_supervision(
    assigned: SampledCase, lawyer: User, cast: dict, org: Any
) -> None:
    campaign, case = assigned.campaign, assigned.case
    made = (
        client_for(lawyer)
        .post(
            f"{API}/campaigns/{campaign.pk}/reviews/",
            {"case": case.pk, "scores": scores_totalling(campaign, 40)},
            format="json",
        )
        .json()
    )
    finding = client_for(cast["supervisor"]).post(
        f"{API}/campaign-reviews/{made['id']}/finding/",
        {"finding": "未告知复查途径"},
        format="json",
    )
    assert finding.status_code == 201
    police = org.dept(org.city, DepartmentKind.POLICE)
    assert finding.json()["department"] == police.pk
    assert AccountabilityFinding.objects.filter(case=case, department=police).count() == 1
    bulletin = client_for(cast["supervisor"]).post(
        f"{API}/campaigns/{campaign.pk}/review-bulletin/",
        {"title": "评查通报", "body": "不合格1件"},
        format="json",
    )
    assert bulletin.status_code == 201
    assert bulletin.json() == {
        "id": bulletin.json()["id"],
        "departments": [police.pk],
        "cases": [case.pk],
    }


def test_outside_reviewer_account_through_the_api(review: Any, cast: dict, org: Any) -> None:
    url = f"{API}/campaigns/{review.pk}/outside-reviewers/"
    made = client_for(cast["supervisor"]).post(
        url,
        {
            "username": "lawyer_sun",
            "full_name": "孙八",
            "kind": "lawyer",
            "password": "Sun-review-2026!",
        },
        format="json",
    )
    assert made.status_code == 201
    assert made.json()["full_name"] == "孙八（律师）"
    weak = client_for(cast["supervisor"]).post(
        url,
        {"username": "lawyer_zhou", "full_name": "周九", "kind": "lawyer", "password": "1"},
        format="json",
    )
    assert weak.status_code == 400 and "password" in weak.json()
    user = User.objects.get(username="lawyer_sun")
    sample_less = client_for(user).get(f"{API}/campaigns/{review.pk}/")
    assert sample_less.status_code == 404  # nothing assigned yet: not even the campaign
