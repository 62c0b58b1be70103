"""The score sheet editor in Chromium (评查评分表): copy the default sheet, add a row with the
button, watch the live total, save; everything without inline script (the CSP check of the
``page`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import ScoreSheet
from conftest import PASSWORD

SCREENSHOT = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "score_sheet.png"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_copy_add_a_row_with_the_live_total_and_save(page: Page, org, cast, reference_data):
    page.set_viewport_size({"width": 1280, "height": 900})
    login_as(page, "supervisor")
    page.goto("/campaigns/")
    page.get_by_test_id("score-sheets-link").click()
    page.fill("#id_name", "市中心评查表")
    page.get_by_role("button", name="复制默认评分表").click()
    expect(page.locator("ul.messages")).to_contain_text("已成为本中心的评查评分表")
    total = page.get_by_test_id("sheet-total")
    expect(total).to_have_text("100")

    # 8 → 4 on the first item: the total drops and turns red
    page.fill("#id_items-0-points", "4")
    expect(total).to_have_text("96")
    expect(total).to_have_class("text-danger")
    # a new row under 法律适用 with the button, 4 points: back to 100
    page.locator("button[data-add-row=law]").click()
    new_row = page.locator("tbody[data-section=law] tr.item-row").last
    new_row.locator("textarea").fill("引用法律条款准确、完整")
    new_row.locator("input.points").fill("4")
    expect(total).to_have_text("100")
    expect(total).not_to_have_class("text-danger")
    expect(page.locator("[data-subtotal=law]")).to_have_text("22")
    with page.expect_navigation():
        page.get_by_role("button", name="保存评分表").click()

    expect(page.locator("ul.messages")).to_contain_text("评分表已保存")
    # (a full-page screenshot before the click left Chromium's click unsubmitted: taken after)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    sheet = ScoreSheet.objects.get(name="市中心评查表")
    items = list(sheet.items.order_by("sort_order"))
    assert len(items) == 18
    assert (items[0].points, items[5].section, items[5].criterion, items[5].points) == (
        4,
        "law",
        "引用法律条款准确、完整",
        4,
    )
