"""The reports page in Chromium: the supervisor sees the indicators and the charts (drawn as SVG
by the vendored ECharts, under the Content-Security-Policy), exports a ledger to Excel, watches
the progress bar while a real Celery worker writes it, downloads the file and opens it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from config.celery import app as celery_app
from conftest import PASSWORD
from core.models import Department
from reports.tests.conftest import build_scenario
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]
# Written under var/ (the README's copy in docs/screenshots/ is refreshed on purpose:
# UPDATE_SCREENSHOTS=1), so that a test run leaves the checkout clean.
SCREENSHOT = (
    Path(__file__).resolve().parents[2]
    / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "var")
    / "screenshots"
    / "reports.png"
)
QUERY = "from=2026-01-01&to=2026-06-30&cessation_days=30"


NAMES = {"police": "公安局", "procuratorate": "检察院", "court": "法院", "justice": "司法局"}


def test_supervisor_sees_charts_and_exports_a_ledger(page: Page, org, cast, settings, tmp_path):
    for department in Department.objects.all():  # readable names for the README screenshot
        department.name = NAMES.get(department.kind, department.name)
        department.save(update_fields=["name"])
    build_scenario(org, cast)
    build_scenario(org, cast)
    settings.REPORTS_CACHE_SECONDS = 0
    settings.REPORTS_INLINE_EXPORT_MAX_ROWS = 0  # every export goes through the worker
    settings.REPORTS_EXPORT_CHUNK = 5

    login(page, "supervisor", PASSWORD)
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"/reports/?{QUERY}")
    expect(page.locator("main h1")).to_have_text("统计报表")
    row = page.locator('[data-testid="indicator"][data-code="timely_acceptance"]')
    expect(row).to_contain_text("及时受理率")
    expect(row).to_contain_text("分子")
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(5)
    for i in range(5):
        chart = charts.nth(i)
        expect(chart).to_have_attribute("data-rendered", "1")
        expect(chart.locator("svg, canvas").first).to_be_visible()
    expect(page.locator('[data-testid="trend-table"] tbody tr')).to_have_count(6)
    # bars labelled by the department ("公安局"), the full name on hover as an SVG <title>
    labels = page.locator('[data-chart="by_department"] svg text[data-full-name]')
    expect(labels).to_have_count(2)
    expect(labels.first.locator("title")).to_have_text("市中心 · 公安局")
    assert labels.first.evaluate("t => t.firstChild.nodeValue") == "公安局"
    # the month axis reads 2026年1月, 2月 ...
    expect(page.locator('[data-chart="trend"] svg text', has_text="2026年1月")).to_have_count(1)
    expect(page.locator('[data-chart="trend"] svg text', has_text="2026-0")).to_have_count(0)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="台账").first.click()
    page.wait_for_url("**/reports/ledger/**")
    expect(page.locator('[data-testid="ledger-count"]')).to_have_attribute("data-count", "32")
    page.locator('input[name="format"][value="xlsx"]').check()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        page.locator("#export-submit").click()
        page.wait_for_url("**/reports/exports/*/")
        progress = page.locator('[data-testid="export-progress"]')
        expect(progress.locator("progress")).to_be_visible()
        expect(progress).to_have_attribute("data-status", "done", timeout=60000)
    expect(progress.locator("progress")).to_have_attribute("aria-valuenow", "100")
    with page.expect_download() as info:
        page.locator('[data-testid="download-link"]').click()
    target = tmp_path / "ledger.xlsx"
    info.value.save_as(target)
    rows = list(load_workbook(target).active.values)
    assert rows[0][0] == "信访件编号"
    assert len(rows) == 1 + 32
    numbers = {r[0] for r in rows[1:]}
    assert all(n.startswith("R") for n in numbers)


def test_reports_page_prints_its_tables(page: Page, org, cast, settings):
    settings.REPORTS_CACHE_SECONDS = 0
    build_scenario(org, cast)
    login(page, "supervisor", PASSWORD)
    page.goto(f"/reports/?{QUERY}")
    expect(page.locator("[data-chart]").first).to_have_attribute("data-rendered", "1")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator('[data-testid="report-filter"]')).to_be_hidden()
    expect(page.locator('[data-testid="aging-table"]')).to_be_visible()
    expect(page.locator("[data-chart] svg").first).to_be_visible()
