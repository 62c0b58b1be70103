"""The sweep pages: criteria form in Chinese, running it, bad input as form errors, keep with a
hand-down, drop with a reason, double submits, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from campaigns.models import CampaignKind, CandidateDecision, Matter, SweepCandidate
from core.models import DepartmentKind
from petitions.models import Case
from petitions.states import CaseState

from .conftest import NOW

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def sweep_campaign(make_campaign):
    return make_campaign(kind=CampaignKind.SWEEP, name="信访积案大排查")


@pytest.fixture
def old_cases(make_case):
    old = make_case(state=CaseState.HANDLING, registered_at=NOW - 120 * DAY)
    group = make_case(state=CaseState.HANDLING, registered_at=NOW - 100 * DAY)
    Case.objects.filter(pk=group.pk).update(is_group=True)
    return old, group


def login(client, user):
    client.force_login(user)
    return client


def test_the_page_shows_the_criteria_in_chinese_and_runs_the_sweep(
    client, sweep_campaign, old_cases, cast, at_now
):
    login(client, cast["supervisor"])
    url = reverse("campaigns:sweep", kwargs={"pk": sweep_campaign.pk})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "12 个月内来访不少于 k 次" in text
    assert "已终结（不再受理）仍反复来访" in text
    response = client.post(url, {"open_days_over": "90", "group": "on", "match": "all"})
    assert response.status_code == 302
    assert [c.case_id for c in SweepCandidate.objects.filter(campaign=sweep_campaign)] == [
        old_cases[1].pk
    ]
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert old_cases[1].number in text
    assert old_cases[0].number not in text
    assert "共 1 件案件符合条件。" in text
    # the saved criteria fill the form again
    assert page.context["form"].initial["open_days_over"] == 90


def test_past_the_cap_the_page_asks_for_more_criteria(
    client, sweep_campaign, old_cases, cast, at_now, monkeypatch
):
    monkeypatch.setattr("campaigns.sweep.CANDIDATE_CAP", 1)
    monkeypatch.setattr("campaigns.views_sweep.CANDIDATE_CAP", 1)
    login(client, cast["supervisor"])
    url = reverse("campaigns:sweep", kwargs={"pk": sweep_campaign.pk})
    response = client.post(url, {"open_days_over": "90", "match": "all"})
    assert response.status_code == 302
    assert [c.case_id for c in SweepCandidate.objects.filter(campaign=sweep_campaign)] == [
        old_cases[0].pk
    ]
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "超过 1 起，请增加条件" in text


def test_bad_input_comes_back_as_form_errors(client, sweep_campaign, cast, at_now):
    login(client, cast["supervisor"])
    url = reverse("campaigns:sweep", kwargs={"pk": sweep_campaign.pk})
    response = client.post(url, {"open_days_over": "-3", "match": "all"})
    assert response.status_code == 400
    assert "open_days_over" in response.context["form"].errors
    response = client.post(url, {"match": "all"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "请至少选择一项排查条件。" in response.content.decode()
    assert not SweepCandidate.objects.exists()


def test_others_read_the_page_but_do_not_sweep(client, sweep_campaign, cast, at_now):
    url = reverse("campaigns:sweep", kwargs={"pk": sweep_campaign.pk})
    login(client, cast["province_supervisor"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"group": "on", "match": "all"}).status_code == 403
    login(client, cast["outsider"])
    assert client.get(url).status_code == 404


def test_drop_and_keep_from_the_candidate_page(
    client, org, sweep_campaign, old_cases, cast, at_now
):
    login(client, cast["supervisor"])
    client.post(
        reverse("campaigns:sweep", kwargs={"pk": sweep_campaign.pk}),
        {"open_days_over": "90", "match": "all"},
    )
    old, group = (SweepCandidate.objects.get(case=c) for c in old_cases)
    drop_url = reverse("campaigns:sweep_candidate", kwargs={"pk": sweep_campaign.pk, "cid": old.pk})
    assert client.get(drop_url).status_code == 200
    missing_reason = client.post(drop_url, {"keep": "0", "reason": ""})
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.context["decision"].errors
    assert client.post(drop_url, {"keep": "0", "reason": "已息诉"}).status_code == 302
    again = client.post(drop_url, {"keep": "0", "reason": "已息诉"}, follow=True)
    assert again.status_code == 200  # the second submit is told, and changes nothing
    old.refresh_from_db()
    assert (old.decision, old.reason) == (CandidateDecision.DROPPED, "已息诉")

    keep_url = reverse(
        "campaigns:sweep_candidate", kwargs={"pk": sweep_campaign.pk, "cid": group.pk}
    )
    no_hand_down = client.post(keep_url, {"keep": "1", "reason": "群体访积案"})
    assert no_hand_down.status_code == 400
    assert not Matter.objects.exists()
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client.post(
        keep_url,
        {
            "keep": "1",
            "reason": "群体访积案",
            "handdown-receiver": f"d:{police.pk}",
            "handdown-leader": cast["head"].pk,
            "handdown-handler": cast["police"].pk,
            "handdown-due_on": "2026-05-31",
            "handdown-target_result": "依法化解，息诉罢访",
        },
    )
    assert response.status_code == 302, response.context and response.context["keep_form"].errors
    group.refresh_from_db()
    assert group.decision == CandidateDecision.KEPT
    matter = Matter.objects.get(campaign=sweep_campaign, case=old_cases[1])
    assert (matter.department, matter.leader) == (police, cast["head"])
