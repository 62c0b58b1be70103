"""Screening, assignment, the receiving side and transfer, driven through the pages in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clocks.deadlines import CHINA_TZ
from conftest import PASSWORD
from core.models import DepartmentKind
from petitions.states import CaseState
from petitions.testing import register
from routing.forms import beijing_today
from routing.models import Assignment, AssignmentRole, AssignmentState, NoticeKind, WrittenNotice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_triage_assigns_lead_and_assisting_departments_who_work_it_in_their_inboxes(
    page: Page, org, cast
):
    case = register(cast["reception"]).case
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)

    # Triage: from the queue to the screening page, lead police + assisting court.
    login_as(page, "triage")
    page.goto("/triage/")
    row = page.locator(f'[data-testid="queue-row"][data-case="{case.pk}"]')
    expect(row.locator('[data-testid="clock"]')).to_have_attribute("data-level", "on_time")
    row.locator('[data-testid="screen-link"]').click()
    page.wait_for_url(f"**/triage/{case.pk}/")
    expect(page.locator("#id_assign-lead")).to_be_focused()
    page.select_option("#id_assign-lead", str(police.pk))
    court_due = page.locator(f"#id_assign-assisting_due_{court.pk}")
    expect(court_due).to_be_disabled()  # enabled only when the department is ticked
    page.check(f'input[name="assign-assisting"][value="{court.pk}"]')
    expect(court_due).to_be_enabled()
    court_day = beijing_today() + timedelta(days=20)
    court_due.fill(court_day.isoformat())
    page.click("#submit-assign")
    page.wait_for_url(f"**/cases/{case.pk}/")
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assist = Assignment.objects.get(case=case, role=AssignmentRole.ASSIST)
    assert (lead.department, assist.department) == (police, court)
    assert assist.due_at.astimezone(CHINA_TZ).date() == court_day

    # Police (lead): sees it among new assignments, signs for it, then accepts it.
    login_as(page, "police")
    page.goto("/inbox/")
    row = page.locator(f'[data-testid="inbox-row"][data-case="{case.pk}"]')
    expect(row).to_have_count(1)
    expect(row.locator('[data-role="lead"]')).to_be_visible()
    row.locator('[data-testid="sign-for"]').click()
    page.wait_for_url("**/inbox/")
    expect(page.locator(f'[data-testid="inbox-row"][data-case="{case.pk}"]')).to_have_count(0)
    page.locator('[data-tab="mine"]').click()
    row = page.locator(f'[data-testid="inbox-row"][data-case="{case.pk}"]')
    row.locator('[data-testid="accept"]').click()
    page.wait_for_url(f"**/inbox/assignments/{lead.pk}/")
    expect(page.locator('[data-testid="assignment-state"]')).to_have_attribute(
        "data-state", AssignmentState.ACCEPTED
    )
    page.locator('[data-testid="issued-notice-link"]').click()
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.ACCEPTANCE)
    page.wait_for_url(f"**/notices/{notice.pk}/")
    expect(page.locator('[data-testid="notice-body"]')).to_contain_text(case.number)
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING

    # Court (assisting): signs for it on the assignment page and sends its contribution.
    login_as(page, "court")
    page.goto("/inbox/")
    page.locator(
        f'[data-testid="inbox-row"][data-case="{case.pk}"] [data-testid="open-assignment"]'
    ).click()
    page.wait_for_url(f"**/inbox/assignments/{assist.pk}/")
    page.click("#sign-for")
    page.wait_for_url(f"**/inbox/assignments/{assist.pk}/")
    page.fill("#id_contribution-text", "法院执行情况：已立案执行。")
    page.click("#submit-contribution")
    expect(page.locator('[data-testid="own-contribution"]')).to_contain_text("已立案执行")
    assist.refresh_from_db()
    assert assist.state == AssignmentState.DONE

    # The lead sees the contribution when composing the reply.
    login_as(page, "police")
    page.goto(f"/inbox/assignments/{lead.pk}/")
    expect(page.locator('[data-testid="contributions"]')).to_contain_text("已立案执行")

    # Justice bureau: not on the case, sees nothing of it.
    login_as(page, "justice")
    page.goto("/inbox/")
    expect(page.locator('[data-testid="inbox-empty"]')).to_be_visible()
    response = page.goto(f"/cases/{case.pk}/")
    assert response is not None and response.status == 404


def test_triage_transfers_a_case_to_the_county_which_finds_it_in_its_queue(page: Page, org, cast):
    case = register(cast["reception"]).case

    login_as(page, "triage")
    page.goto(f"/triage/{case.pk}/")
    page.click("#summary-transfer")
    options = page.locator("#id_transfer-to_center option")
    expect(options.nth(1)).to_have_attribute("value", str(org.county_a.pk))  # subordinate first
    page.select_option("#id_transfer-to_center", str(org.county_a.pk))
    page.fill("#id_transfer-reason", "越级访，转属地办理")
    page.click("#submit-transfer")
    page.wait_for_url("**/triage/")
    expect(page.locator('[data-testid="issued-notice"]')).to_be_visible()
    expect(page.locator(f'[data-testid="queue-row"][data-case="{case.pk}"]')).to_have_count(0)

    login_as(page, "county_triage")
    page.goto("/triage/")
    expect(page.locator(f'[data-testid="queue-row"][data-case="{case.pk}"]')).to_have_count(1)
    page.goto(f"/cases/{case.pk}/")
    timeline = page.locator('[data-testid="timeline"]')
    expect(timeline.locator('li[data-kind="registered"]')).to_have_count(1)
    expect(timeline.locator('li[data-kind="transfer"]')).to_contain_text("越级访，转属地办理")
    case.refresh_from_db()
    assert case.center == org.county_a and case.state == CaseState.REGISTERED
