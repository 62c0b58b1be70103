"""A campaign through the pages in Chromium: a supervisor opens it, hands a matter down, the
receiving department records progress, and the campaign page shows the figures (screenshot for
docs/campaigns.md)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Matter
from campaigns.services import hand_down_matter, record_progress
from clocks.deadlines import CHINA_TZ
from conftest import PASSWORD
from core.models import DepartmentKind
from petitions.testing import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Written under var/ (the README's copy in docs/screenshots/ is refreshed on purpose:
# UPDATE_SCREENSHOTS=1), so that a test run leaves the checkout clean.
SCREENSHOT = (
    Path(__file__).resolve().parents[2]
    / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "var")
    / "screenshots"
    / "campaign.png"
)


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_open_a_campaign_hand_down_and_follow_a_matter(page: Page, org, cast):
    today = timezone.now().astimezone(CHINA_TZ).date()
    cases = [register(cast["reception"]).case for _ in range(5)]
    page.set_viewport_size({"width": 1280, "height": 900})

    # a supervisor opens the campaign
    login_as(page, "supervisor")
    page.goto("/campaigns/")
    page.click("#new-campaign")
    page.fill("#id_name", "积案化解百日会战")
    page.select_option("#id_kind", "backlog")
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", (today + timedelta(days=100)).isoformat())
    page.fill("#id_office", "市联合接访中心办公室")
    page.fill("#id_resolution_target", "80")
    page.fill("#id_cessation_target", "60")
    page.click("#save-campaign")
    expect(page.locator("ul.messages")).to_contain_text("专项活动已发起")
    campaign = Campaign.objects.get()
    assert campaign.targets == {"resolution_rate": 0.8, "cessation_rate": 0.6}
    expect(page.locator('[data-testid="targets"]')).to_contain_text("化解率 ≥ 80%")

    # hands a matter down to the city police, the leader defaulting to its head
    police = org.dept(org.city, DepartmentKind.POLICE)
    page.fill("#id_handdown-case_number", cases[0].number)
    page.select_option("#id_handdown-receiver", f"d:{police.pk}")
    page.fill("#id_handdown-due_on", (today + timedelta(days=30)).isoformat())
    page.fill("#id_handdown-target_result", "依法化解，息诉罢访")
    page.click("#submit-hand-down")
    expect(page.locator("ul.messages")).to_contain_text("积案已交办")
    matter = Matter.objects.get()
    assert matter.leader == cast["head"]
    expect(page.locator('[data-testid="leader"]')).to_contain_text(str(cast["head"]))

    # the receiving department signs for it and reports it resolved
    login_as(page, "police")
    page.goto("/campaigns/")
    page.click(f"#sign-{matter.pk}")
    expect(page.locator("ul.messages")).to_contain_text("已签收该积案")
    page.click(
        f'[data-testid="handed-row"][data-matter="{matter.pk}"] a[data-testid="matter-link"]'
    )
    page.fill("#id_progress-text", "包案领导约谈当事人，达成和解")
    page.check("#id_progress-outcome_1")  # resolved
    page.fill("#id_progress-resolution", "签订和解协议，履行完毕")
    page.click("#submit-progress")
    expect(page.locator("ul.messages")).to_contain_text("进展已记录")
    expect(page.locator('[data-testid="matter-state"]')).to_have_attribute("data-state", "resolved")
    expect(page.locator('[data-testid="progress-entry"]')).to_have_count(1)

    # a few more matters in other states, so the page has something to chart
    county_police = org.dept(org.city, DepartmentKind.COURT)
    for i, case in enumerate(cases[1:]):
        m = hand_down_matter(
            actor=cast["supervisor"],
            campaign=campaign,
            case=case,
            department=police if i % 2 else county_police,
            leader=cast["head"] if i % 2 else cast["leader"],
            due_on=today + timedelta(days=20 + 10 * i),
            target_result="息诉罢访",
        )
        if i == 0:
            record_progress(
                actor=cast["supervisor"],
                matter=m,
                text="当事人诉求过高",
                outcome="stalled",
                obstacle="诉求超出法律规定",
            )
        if i == 1:
            record_progress(
                actor=cast["supervisor"],
                matter=m,
                text="已化解",
                outcome="resolved",
                resolution="救助",
            )

    login_as(page, "supervisor")
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator('[data-testid="figure-handed_down"]')).to_have_attribute("data-count", "5")
    expect(page.locator('[data-testid="figure-resolved"]')).to_have_attribute("data-count", "2")
    expect(page.locator('[data-testid="figure-stalled"]')).to_have_attribute("data-count", "1")
    expect(page.locator('[data-testid="rate-resolution_rate"]')).to_have_attribute(
        "data-verdict", "misses"
    )
    expect(page.locator('svg[data-testid="chart"]').first).to_be_visible()
    # a figure links to its matters
    page.click('[data-testid="figure-stalled"]')
    expect(page.locator('[data-testid="ledger-row"]')).to_have_count(1)
    page.goto(f"/campaigns/{campaign.pk}/")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
