"""反馈 and 访结 in Chromium (issue 8, "Done when"): an officer drafts the written reply, the head
approves it, it prints (page and PDF), the petitioner opens the evaluation link without logging in
and marks 不满意, the case cannot be archived, and a return visit is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from closure.models import Evaluation, Reply, ReplyStatus, ReturnVisit
from closure.testing import bring_to_handling
from conftest import PASSWORD
from petitions.models import Case
from petitions.states import CaseState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_reply_is_approved_printed_evaluated_dissatisfied_and_followed_up(page: Page, cast):
    case = bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
    )
    closure_url = f"/cases/{case.pk}/closure/"

    # The officer finds the case among replies to write and drafts the reply; the assisting
    # court's contribution is shown beside the draft, internal, not in the printed text.
    login_as(page, "police")
    page.goto("/inbox/")
    page.locator('[data-testid="closure-inbox-link"] a').click()
    page.locator(f'[data-testid="inbox-to-draft"] [data-case="{case.pk}"] a').click()
    page.wait_for_url(f"**{closure_url}")
    expect(page.locator("#id_facts_reasons")).to_have_value("")
    expect(page.locator('[data-testid="contributions-panel"]')).to_contain_text(
        f"{cast['court'].department}：已核实相关情况。"
    )
    page.locator("#id_facts_reasons").fill("经调查核实，执行款已部分到位。")
    page.locator('input[name="decision"][value="not_support"]').check()
    # Without a legal basis the draft is refused with a message.
    page.locator('[data-testid="reply-submit"]').click()
    expect(page.locator('[data-testid="reply-form"] [role="alert"]')).to_contain_text(
        "法律法规依据"
    )
    assert not Reply.objects.filter(case=case).exists()
    page.locator("#id_legal_basis").fill("《中华人民共和国民事诉讼法》第二百三十五条")
    page.locator('[data-testid="reply-submit"]').click()
    expect(page.locator('[data-testid="reply-status"]')).to_have_attribute(
        "data-status", "submitted"
    )
    # The officer cannot approve: no approval form for them.
    expect(page.locator('[data-testid="approve-form"]')).to_have_count(0)

    # The head approves from the inbox.
    login_as(page, "head")
    page.goto("/closure/inbox/")
    page.locator(f'[data-testid="inbox-to-approve"] [data-case="{case.pk}"] a').click()
    page.locator('[data-testid="reply-approve"]').click()
    expect(page.locator('[data-testid="reply-status"]')).to_have_attribute(
        "data-status", "approved"
    )
    number = Reply.objects.get(case=case).document_number
    expect(page.locator('[data-testid="reply-number"]')).to_have_text(number)

    # It prints: the print page with the center and the number, and, instead of the evaluation
    # link, where to ask for it; the PDF downloads.
    login_as(page, "police")
    page.goto(f"/cases/{case.pk}/closure/reply/print/")
    document = page.locator('[data-testid="reply-document"]')
    expect(document).to_contain_text("信访处理意见书")
    expect(page.locator('[data-testid="doc-number"]')).to_contain_text(number)
    expect(page.locator('[data-testid="doc-center"]')).to_have_text(case.center.name)
    expect(page.locator('[data-testid="doc-qr"]')).to_have_count(0)
    expect(page.locator('[data-testid="doc-evaluation-howto"]')).to_contain_text("申请")
    with page.expect_download() as download:
        page.locator('[data-testid="print-pdf"]').click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"

    # The officer records the delivery: the case is replied.
    page.goto(closure_url)
    page.locator('input[name="method"][value="in_person"]').check()
    page.locator('input[name="signed"][value="yes"]').check()
    page.locator('[data-testid="reply-deliver"]').click()
    # The delivery step answers with the copy handed to the petitioner: the only place the
    # evaluation link (and its QR code) is shown.
    expect(page.locator('[data-testid="handover-copy"]')).to_be_visible()
    expect(page.locator('[data-testid="doc-qr"] svg')).to_be_visible()
    evaluation_url = page.locator('[data-testid="doc-evaluation-url"]').inner_text().strip()
    page.goto(closure_url)
    expect(page.locator('[data-testid="case-state"]')).to_have_attribute("data-state", "replied")

    # The petitioner opens the link from the reply, without logging in, and marks 不满意.
    page.context.clear_cookies()
    page.goto(evaluation_url)
    expect(page.locator("h1")).to_have_text("评价信访事项的办理")
    expect(page.locator("body")).not_to_contain_text(case.main_petitioner.name)
    page.locator('input[name="center_rating"][value="dissatisfied"]').check()
    page.locator('input[name="department_rating"][value="dissatisfied"]').check()
    page.locator("#id_reasons").fill("执行款至今未全部到位")
    page.locator('[data-testid="public-evaluation-submit"]').click()
    expect(page.locator('[data-testid="evaluation-thanks"]')).to_be_visible()
    page.goto(evaluation_url)  # the link works once
    expect(page.locator('[data-testid="evaluation-error"]')).to_contain_text("只能使用一次")
    evaluation = Evaluation.objects.get(case=case)
    assert evaluation.center_rating == "dissatisfied" and evaluation.channel == "link"

    # The supervisor closes the case; the archivist cannot archive it (dissatisfied).
    login_as(page, "supervisor")
    page.goto(closure_url)
    page.locator('[data-testid="close-submit"]').click()
    expect(page.locator('[data-testid="case-state"]')).to_have_attribute("data-state", "closed")
    login_as(page, "archivist")
    page.goto(closure_url)
    expect(page.locator('[data-testid="archive-needs-override"]')).to_be_visible()
    page.locator('[data-testid="archive-submit"]').click()
    expect(page.locator(".messages")).to_contain_text("不满意")
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED

    # The lead department sees the return visit due and records it.
    login_as(page, "police")
    page.goto("/closure/inbox/")
    page.locator(f'[data-testid="inbox-visits"] [data-case="{case.pk}"] a').click()
    page.locator("#id_visitors").fill("张警官、李警官")
    page.locator('input[name="method"][value="home"]').check()
    page.locator("#id_outcome").fill("上门解释执行进展，信访人表示理解")
    page.locator('[data-testid="visit-submit"]').click()
    expect(page.locator('[data-testid="visits"] tr[data-done="1"]')).to_have_count(1)
    visit = ReturnVisit.objects.get(case=case)
    assert visit.done_at is not None and visit.method == "home"
    assert Reply.objects.get(case=case).status == ReplyStatus.DELIVERED
