"""The campaign pages: list, form, campaign page, matter page, exports, dashboard panel."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
import time_machine
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, Matter, MatterOutcome, MatterProgress
from campaigns.services import record_progress, sign_for_matter
from campaigns.tests.conftest import NOW
from clocks.deadlines import CHINA_TZ
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Petitioner, Visit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_now")]


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def login(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


# --- list -----------------------------------------------------------------------------------------


def test_list_shows_the_viewers_campaigns_in_chinese(client, cast, campaign, make_campaign, org):
    closed = make_campaign(name="去年的排查", kind=CampaignKind.SWEEP)
    Campaign.objects.filter(pk=closed.pk).update(state="closed")
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 200
    body = text_of(response)
    assert "专项活动" in body
    rows = re.findall(r'data-testid="campaign-row" data-campaign="(\d+)" data-state="(\w+)"', body)
    # running first
    assert rows == [(str(campaign.pk), "open"), (str(closed.pk), "closed")]
    assert 'id="new-campaign"' in body


def test_outsider_sees_no_campaign_and_gets_404(client, cast, campaign, make_matter):
    matter = make_matter(campaign)
    login(client, cast["outsider"])
    assert campaign.name not in text_of(client.get(reverse("campaigns:list")))
    for url in (
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:matters", args=[campaign.pk]),
        reverse("campaigns:matter", args=[campaign.pk, matter.pk]),
        reverse("campaigns:ledger_export", args=[campaign.pk]),
        reverse("campaigns:summary_pdf", args=[campaign.pk]),
        reverse("campaigns:edit", args=[campaign.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_department_sees_matters_handed_down_to_it_with_a_sign_button(
    client, cast, campaign, make_matter
):
    matter = make_matter(campaign)
    login(client, cast["police"])
    body = text_of(client.get(reverse("campaigns:list")))
    assert f'data-testid="handed-row" data-matter="{matter.pk}"' in body
    assert f'id="sign-{matter.pk}"' in body
    assert 'id="new-campaign"' not in body  # an officer opens no campaign
    response = client.post(
        reverse("campaigns:matter_sign", args=[campaign.pk, matter.pk]),
        {"expected_version": matter.version, "next": reverse("campaigns:list")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:list")
    matter.refresh_from_db()
    assert matter.signed_by == cast["police"]


# --- create / edit --------------------------------------------------------------------------------


def _form_data(org, **changes):
    data = {
        "name": "百日会战",
        "kind": CampaignKind.BACKLOG,
        "center": org.city.pk,
        "starts_on": "2026-02-10",
        "ends_on": "2026-05-20",
        "resolution_target": "80",
        "cessation_target": "60",
        "progress_interval_days": "7",
        "observation_days": "90",
        "submission_key": "k-1",
    }
    data.update(changes)
    return data


def test_create_campaign_prg_and_double_submit_opens_one(client, cast, org):
    login(client, cast["supervisor"])
    assert client.get(reverse("campaigns:create")).status_code == 200
    first = client.post(reverse("campaigns:create"), _form_data(org))
    campaign = Campaign.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.targets == {"resolution_rate": 0.8, "cessation_rate": 0.6}
    assert campaign.created_by == cast["supervisor"]
    again = client.post(reverse("campaigns:create"), _form_data(org))
    assert again.status_code == 302
    assert again["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert Campaign.objects.count() == 1


def test_create_campaign_form_errors_in_chinese(client, cast, org):
    login(client, cast["supervisor"])
    response = client.post(
        reverse("campaigns:create"),
        _form_data(org, name="", ends_on="2026-01-01", resolution_target="120"),
    )
    assert response.status_code == 400
    body = text_of(response)
    assert "这个字段是必填项" in body  # Django's own Chinese for a required field
    assert "结束日期不能早于开始日期" in body
    assert "小于或等于 100" in body
    assert not Campaign.objects.exists()


def test_only_supervisors_and_leaders_open_campaigns(client, cast):
    login(client, cast["police"])
    assert client.get(reverse("campaigns:create")).status_code == 403


def test_edit_campaign_stale_version_saves_nothing(client, cast, org, campaign):
    login(client, cast["supervisor"])
    data = _form_data(org, name="改名", expected_version=campaign.version)
    Campaign.objects.filter(pk=campaign.pk).update(version=campaign.version + 1)
    response = client.post(reverse("campaigns:edit", args=[campaign.pk]), data)
    assert response.status_code == 409
    assert "已被他人修改，请刷新" in text_of(response)
    campaign.refresh_from_db()
    assert campaign.name == "积案化解百日会战"


# --- campaign page --------------------------------------------------------------------------------


def test_campaign_page_for_its_center(client, cast, campaign, make_matter):
    make_matter(campaign)
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    body = text_of(response)
    assert 'data-testid="form-hand-down"' in body
    assert 'data-testid="figure-handed_down" data-count="1"' in body
    assert "<svg" in body
    assert 'data-testid="history-row"' in body


def test_subordinate_campaign_is_read_only_above(client, cast, org, make_campaign):
    county_supervisor = make_user("county_sup", org.county_a, [Role.SUPERVISOR])
    county_campaign = make_campaign(actor=county_supervisor, center=org.county_a, name="县积案")
    login(client, cast["supervisor"])
    body = text_of(client.get(reverse("campaigns:detail", args=[county_campaign.pk])))
    assert "县积案" in body
    assert 'data-testid="form-hand-down"' not in body
    assert 'id="edit-campaign"' not in body
    assert 'data-testid="form-close"' not in body
    assert client.get(reverse("campaigns:edit", args=[county_campaign.pk])).status_code == 403
