"""The supervisor dashboard and the notification inbox, driven through the pages in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clocks.models import Deadline, DeadlineKind, Notification, WarningLevel
from clocks.sweep import run_deadline_checks
from conftest import PASSWORD
from core.models import DepartmentKind
from petitions.testing import register
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def overdue_handling_case(org, cast):
    """A case accepted by the city police whose 60-day handling clock is in its third day
    overdue (due 2 days 23 hours ago)."""
    case = register(cast["reception"]).case
    (lead,) = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), case.registered_at + timedelta(days=60)
        ),
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    now = timezone.now()
    Deadline.objects.filter(case=case, kind=DeadlineKind.HANDLING, met_at__isnull=True).update(
        starts_at=now - timedelta(days=63), due_at=now - timedelta(days=3, hours=-1)
    )
    run_deadline_checks()
    assert Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING).warning_level == (
        WarningLevel.OVERDUE
    )
    return case


def test_supervisor_drills_down_from_the_overdue_count_to_the_case(page: Page, org, cast):
    case = overdue_handling_case(org, cast)

    login_as(page, "supervisor")
    page.goto("/supervision/")
    expect(page.locator('[data-testid="summary-overdue"]')).to_have_attribute("data-count", "1")
    city_overdue = page.locator(
        f'[data-testid="by-center-row"][data-key="{org.city.pk}"] '
        '[data-testid="count"][data-level="overdue"]'
    )
    expect(city_overdue).to_have_attribute("data-count", "1")
    expect(page.locator('[data-testid="age-1-7"]')).to_have_attribute("data-count", "1")

    city_overdue.click()
    page.wait_for_url("**/supervision/cases/?*")
    rows = page.locator('[data-testid="drilldown-row"]')
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-case", str(case.pk))
    expect(row.locator('[data-testid="warning-tag"]')).to_have_attribute("data-level", "overdue")
    expect(row.locator('[data-testid="warning-tag"]')).to_have_attribute("data-days", "-3")

    row.locator('[data-testid="case-link"]').click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.locator("main h1")).to_contain_text(case.number)


def test_triage_marks_a_notification_read_in_the_inbox(page: Page, cast):
    case = register(cast["reception"]).case
    note = Notification.objects.get(case=case, body="registered")

    login_as(page, "triage")
    page.goto("/notifications/")
    item = page.locator(f'[data-testid="notification"][data-id="{note.pk}"]')
    expect(item).to_have_attribute("data-unread", "1")
    expect(item.locator('[data-testid="notification-case"]')).to_have_attribute(
        "href", f"/cases/{case.pk}/"
    )
    item.locator('[data-testid="mark-read"]').click()
    page.wait_for_url("**/notifications/")
    item = page.locator(f'[data-testid="notification"][data-id="{note.pk}"]')
    expect(item).to_have_attribute("data-unread", "0")
    expect(page.locator('[data-testid="inbox-unread"]')).to_have_attribute("data-unread", "0")
    assert note.reads.filter(user__username="triage").exists()
