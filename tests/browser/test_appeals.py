"""Review and re-review in Chromium, as each role, in Chinese (issue 8, "Done when"): the county
desk records a review request, which goes to the city center with its own deadline (seen on the city
supervisor's page); the city decides; the re-review goes to the province, which decides; the same
person coming back is flagged at the desk: 不再受理, with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from appeals.models import Finality, ReviewRequest
from appeals.testing import DEFAULT_PASSWORD, delivered_case, staff_for
from petitions.states import CaseState
from petitions.testing import make_petitioner, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_review_goes_up_with_its_deadline_and_after_re_review_the_desk_refuses_again(
    page: Page, org
):
    from clocks.defaults import seed_deadline_rules

    seed_deadline_rules()
    county, city, province = staff_for(org.county_a), staff_for(org.city), staff_for(org.province)
    number = resident_id()
    person = make_petitioner(county.reception, name="赵复核", id_number=number)
    case = delivered_case(
        county, delivered_at=timezone.now() - timedelta(days=2), petitioner=person
    )
    assert case.state == CaseState.REPLIED

    # County desk: from the case page's actions to the request form; the request goes to the city.
    login_as(page, county.reception.username)
    page.goto(f"/cases/{case.pk}/")
    page.locator('[data-testid="appeals-link"]').click()
    page.wait_for_url(f"**/cases/{case.pk}/appeals/")
    expect(page.locator('[data-testid="window-open"]')).to_be_visible()
    page.fill("#id_reason", "对不予支持的处理意见不服，请求复查。")
    page.click('[data-testid="request-submit"]')
    expect(page.locator(".messages")).to_contain_text("市中心")
    row = page.locator('[data-testid="review-row"][data-kind="review"]')
    expect(row.locator('[data-testid="reviewing-center"]')).to_have_text("市中心")
    review = ReviewRequest.objects.get(case=case)
    due = timezone.localdate(review.decision_due_at).isoformat()
    expect(row.locator('[data-testid="decision-due"]')).to_have_text(due)

    # City supervisor: the request waits on the city's page with its own deadline; decide it.
    login_as(page, city.supervisor.username)
    page.locator('nav [data-nav="appeals:queue"]').click()
    waiting = page.locator(f'[data-testid="waiting-review"][data-case="{case.number}"]')
    expect(waiting.locator('[data-testid="waiting-due"]')).to_contain_text(due)
    expect(waiting).to_contain_text("复查")
    waiting.get_by_role("link", name=case.number).click()
    page.get_by_label("维持原处理意见").check()
    page.fill("#id_answer", "经复查，原处理意见认定事实清楚，适用法律正确，予以维持。")
    page.click('[data-testid="decide-submit"]')
    expect(page.locator(".messages")).to_contain_text("维持原处理意见")
    page.locator('[data-testid="answer-link"]').first.click()
    expect(page.locator('[data-testid="answer"]')).to_contain_text("信访事项复查意见书")
    # Art 36: the answer names the organ one level above the city, not the city itself
    body = page.locator('[data-testid="answer-body"]')
    expect(body).to_contain_text(f"向{province.center.name}请求复核")
    expect(body).not_to_contain_text("向本机关请求复核")

    # County desk again: the re-review goes to the province.
    login_as(page, county.reception.username)
    page.goto(f"/cases/{case.pk}/appeals/")
    expect(page.locator('[data-testid="request-form"]')).to_contain_text("复核")
    page.fill("#id_reason", "对复查意见不服，请求复核。")
    page.click('[data-testid="request-submit"]')
    expect(page.locator(".messages")).to_contain_text("省中心")

    # Province supervisor decides the re-review from the province's page.
    login_as(page, province.supervisor.username)
    page.goto("/appeals/")
    page.locator(f'[data-testid="waiting-review"][data-case="{case.number}"]').get_by_role(
        "link", name=case.number
    ).click()
    page.get_by_label("维持原处理意见").check()
    page.fill("#id_answer", "经复核，维持复查意见。")
    page.click('[data-testid="decide-submit"]')
    expect(page.locator('[data-testid="finality"]')).to_contain_text("不再受理")
    assert Finality.objects.filter(case=case).exists()

    # The same person comes back to the county desk: 不再受理, and why.
    login_as(page, county.reception.username)
    page.goto("/desk/")
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    warnings = page.locator('[data-testid="warnings"]')
    expect(warnings).to_contain_text("不再受理")
    expect(warnings).to_contain_text(case.number)
    expect(warnings).to_contain_text("已作出复核意见")
    expect(warnings).to_contain_text("第三十六条")
