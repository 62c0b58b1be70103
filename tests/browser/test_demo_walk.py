"""One county case carried to its end in Chromium by the demo users only (issue 17 §3): the
organisation and users come from ``seed_demo`` as on a demo deployment, and every step is done
through the pages by the user whose work it is, logged in through the login page.

井陉县 desk registers → 井陉 triage assigns the court → the court's officer signs for and accepts it
and drafts the reply → the court's head approves → the officer delivers it → the petitioner marks
不满意 through the public link → review asked at the county desk, decided at the city → re-review
asked at the county desk, decided at the province by another person → the petitioner comes back to
the county desk: 不再受理."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from appeals.models import Finality, ReviewKind, ReviewRequest
from core.models import Department, DepartmentKind
from demo.organisation import DEMO_PASSWORD
from petitions.models import Case, ContentCategory, Purpose
from petitions.states import CaseState
from petitions.testing import resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTY = "130121"  # 井陉县: the demo users jx_*


@pytest.fixture
def demo() -> None:
    from core.reference_data import ensure_reference_data

    ensure_reference_data()  # a transactional test's flush removes the migrations' data
    call_command("seed_demo", no_campaigns=True, stdout=io.StringIO())


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def nav(page: Page, name: str) -> None:
    page.locator(f'nav [data-nav="{name}"]').click()


def test_a_county_case_walks_to_not_re_accepted_with_the_demo_users(page: Page, demo: None):
    number = resident_id(region=COUNTY, sex="M")
    court = Department.objects.get(center__region_code=COUNTY, kind=DepartmentKind.COURT)

    # 1. The county desk registers a new person's matter.
    login_as(page, "jx_reception")
    nav(page, "intake:desk")
    page.fill("#id_lookup-id_number", number)  # first, is there a file on this person?
    page.click("[data-testid=lookup-submit]")
    expect(page.locator("[data-testid=not-found]")).to_be_visible()
    page.fill("#id_name", "霍建军")
    if not page.locator("#id_id_number").input_value():
        page.fill("#id_id_number", number)
    page.select_option("#id_sex", value="M")
    page.fill("#id_phone", "13833334444")
    page.fill("#id_address", "河北省石家庄市井陉县城关镇北街村12号")
    page.select_option("#id_purpose", value=str(Purpose.objects.get(code="appeal").pk))
    page.select_option(
        "#id_category", value=str(ContentCategory.objects.get(code="court.execution").pk)
    )
    page.fill("#id_request", "请求法院依法执行（2025）冀0121执88号民事判决。")
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    case = Case.objects.get()
    expect(page.locator("[data-testid=case-number]")).to_have_text(case.number)
    assert case.center.region_code == COUNTY

    # 2. The county's triage screens it from the queue and assigns the court as lead.
    login_as(page, "jx_triage")
    nav(page, "routing:triage_queue")
    row = page.locator(f'[data-testid="queue-row"][data-case="{case.pk}"]')
    row.locator('[data-testid="screen-link"]').click()
    page.wait_for_url(f"**/triage/{case.pk}/")
    page.select_option("#id_assign-lead", str(court.pk))
    page.click("#submit-assign")
    page.wait_for_url(f"**/cases/{case.pk}/")

    # 3. The court's officer signs for it and accepts it in the department inbox.
    login_as(page, "jx_court")
    nav(page, "routing:inbox")
    row = page.locator(f'[data-testid="inbox-row"][data-case="{case.pk}"]')
    row.locator('[data-testid="sign-for"]').click()
    page.wait_for_url("**/inbox/")
    page.locator('[data-tab="mine"]').click()
    page.locator(f'[data-testid="inbox-row"][data-case="{case.pk}"] [data-testid="accept"]').click()
    page.wait_for_url("**/inbox/assignments/*/")

    # 4. ... and drafts the written reply from the closure inbox.
    nav(page, "routing:inbox")
    page.locator('[data-testid="closure-inbox-link"] a').click()
    page.locator(f'[data-testid="inbox-to-draft"] [data-case="{case.pk}"] a').click()
    page.wait_for_url(f"**/cases/{case.pk}/closure/")
    page.locator("#id_facts_reasons").fill(
        "经调查核实，被执行人名下无可供执行的财产，已依法终结本次执行程序。"
    )
    page.locator('input[name="decision"][value="not_support"]').check()
    page.locator("#id_legal_basis").fill("《中华人民共和国民事诉讼法》第二百六十八条")
    page.locator('[data-testid="reply-submit"]').click()
    expect(page.locator('[data-testid="reply-status"]')).to_have_attribute(
        "data-status", "submitted"
    )

    # 5. The court's head approves it from the closure inbox.
    login_as(page, "jx_court_head")
    page.goto("/closure/inbox/")
    page.locator(f'[data-testid="inbox-to-approve"] [data-case="{case.pk}"] a').click()
    page.locator('[data-testid="reply-approve"]').click()
    expect(page.locator('[data-testid="reply-status"]')).to_have_attribute(
        "data-status", "approved"
    )

    # 6. The officer records its delivery; the delivery step answers with the copy handed to
    # the petitioner, the only place the evaluation link is shown (issue 18 #8).
    login_as(page, "jx_court")
    page.goto("/closure/inbox/")
    page.locator(f'[data-testid="inbox-to-deliver"] [data-case="{case.pk}"] a').click()
    page.wait_for_url(f"**/cases/{case.pk}/closure/")
    page.locator('input[name="method"][value="in_person"]').check()
    page.locator('input[name="signed"][value="yes"]').check()
    page.locator('[data-testid="reply-deliver"]').click()
    expect(page.locator('[data-testid="handover-copy"]')).to_be_visible()
    evaluation_url = page.locator('[data-testid="doc-evaluation-url"]').inner_text().strip()
    page.goto(f"/cases/{case.pk}/closure/")
    expect(page.locator('[data-testid="case-state"]')).to_have_attribute("data-state", "replied")

    # 7. The petitioner, not logged in, marks 不满意 through the link on the reply.
    page.context.clear_cookies()
    page.goto(evaluation_url)
    page.locator('input[name="center_rating"][value="dissatisfied"]').check()
    page.locator('input[name="department_rating"][value="dissatisfied"]').check()
    page.locator("#id_reasons").fill("执行款一分未到，不能接受。")
    page.locator('[data-testid="public-evaluation-submit"]').click()
    expect(page.locator('[data-testid="evaluation-thanks"]')).to_be_visible()

    # 8. Review asked at the county desk: it goes up to the city center.
    city_name, province_name = "石家庄市", "河北省"
    login_as(page, "jx_reception")
    page.goto(f"/cases/{case.pk}/")
    page.locator('[data-testid="appeals-link"]').click()
    page.wait_for_url(f"**/cases/{case.pk}/appeals/")
    page.fill("#id_reason", "对不予支持的处理意见不服，请求复查。")
    page.click('[data-testid="request-submit"]')
    expect(page.locator(".messages")).to_contain_text(city_name)

    # 9. The city's supervisor decides it from the city's queue.
    login_as(page, "supervisor")
    nav(page, "appeals:queue")
    page.locator(f'[data-testid="waiting-review"][data-case="{case.number}"]').get_by_role(
        "link", name=case.number
    ).click()
    page.get_by_label("维持原处理意见").check()
    page.fill("#id_answer", "经复查，原处理意见认定事实清楚，适用法律正确，予以维持。")
    page.click('[data-testid="decide-submit"]')
    expect(page.locator(".messages")).to_contain_text("维持原处理意见")

    # 10. Re-review asked at the county desk: it goes up to the province.
    login_as(page, "jx_reception")
    page.goto(f"/cases/{case.pk}/appeals/")
    expect(page.locator('[data-testid="request-form"]')).to_contain_text("复核")
    page.fill("#id_reason", "对复查意见不服，请求复核。")
    page.click('[data-testid="request-submit"]')
    expect(page.locator(".messages")).to_contain_text(province_name)

    # 11. The province's leader (another person, at another level) decides the re-review.
    login_as(page, "prov_leader")
    nav(page, "appeals:queue")
    page.locator(f'[data-testid="waiting-review"][data-case="{case.number}"]').get_by_role(
        "link", name=case.number
    ).click()
    page.get_by_label("维持原处理意见").check()
    page.fill("#id_answer", "经复核，维持复查意见。")
    page.click('[data-testid="decide-submit"]')
    expect(page.locator('[data-testid="finality"]')).to_contain_text("不再受理")

    review = ReviewRequest.objects.get(case=case, kind=ReviewKind.REVIEW)
    re_review = ReviewRequest.objects.get(case=case, kind=ReviewKind.RE_REVIEW)
    assert review.decided_by.username == "supervisor"
    assert re_review.decided_by.username == "prov_leader"
    assert (review.reviewing_center.region_code, re_review.reviewing_center.region_code) == (
        "130100",
        "130000",
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert Finality.objects.filter(case=case).exists()

    # 12. The petitioner comes again to the county desk: 不再受理, and why.
    login_as(page, "jx_reception")
    nav(page, "intake:desk")
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    warnings = page.locator('[data-testid="warnings"]')
    expect(warnings).to_contain_text("不再受理")
    expect(warnings).to_contain_text(case.number)
    expect(warnings).to_contain_text("第三十六条")
