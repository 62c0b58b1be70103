"""Issue #9 in a real browser: the front desk, the receipt, the case page and the error pages are
Chinese, with no English UI words and no internal codes (what the user actually sees: innerText)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import PASSWORD
from core.models import Department, DepartmentKind, User
from petitions.models import Case, ContentCategory, Purpose
from petitions.testing import make_petitioner, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp")
ALLOWED = {"pdf", "english", "word", "ofd", "api", "excel", "csv"}
NAMES = {"reception": "接待员王芳", "head": "负责人赵磊", "triage": "审查员李强"}
URL = re.compile(r"https?://\S+")
# The receipt's query code: random letters and digits (petitions.services.QUERY_CODE_ALPHABET).
QUERY_CODE = re.compile(r"(查询码[:：]\s*)[A-HJ-NP-Z2-9]{6,}")


def english_words(text: str) -> list[str]:
    text = QUERY_CODE.sub(r"\1", URL.sub("", text))
    return sorted(
        {
            w
            for w in re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z_:]{3,}(?![A-Za-z0-9])", text)
            if w.lower() not in ALLOWED
        }
    )


def check_chinese(page, what: str) -> str:
    text = page.locator("body").inner_text()
    assert not english_words(text), f"{what}: English or codes on the page: {english_words(text)}"
    assert not re.search(r"\b[a-z_]+:(step\d+|[a-z_]+)\b", text), f"{what}: an internal code"
    return text


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


@pytest.fixture
def chinese_cast(cast):
    for username, name in NAMES.items():
        User.objects.filter(username=username).update(full_name=name)
    for department in Department.objects.filter(kind=DepartmentKind.POLICE):
        department.name = "公安局"
        department.save(update_fields=["name"])
    return cast


def test_desk_case_page_and_error_pages_are_chinese(page, chinese_cast):
    reception = chinese_cast["reception"]
    number = resident_id()
    make_petitioner(reception, name="郑十一", id_number=number, phone="13811112222")
    log_in(page, "reception")

    page.goto("/desk/")
    check_chinese(page, "the empty desk")
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    page.wait_for_url(re.compile(r"/desk/\?petitioner=\d+$"))
    check_chinese(page, "the desk with the person's file")
    # every select's empty choice is Chinese (Django 6.1's "- Select an option -")
    for text in page.locator("select option").all_inner_texts():
        assert "Select" not in text
    page.screenshot(path=str(SHOTS / "h4-desk.png"), full_page=True)

    page.select_option("#id_purpose", value=str(Purpose.objects.get(code="appeal").pk))
    page.select_option(
        "#id_category", value=str(ContentCategory.objects.get(code="court.execution").pk)
    )
    page.fill("#id_request", "请求法院依法执行判决。")
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    check_chinese(page, "the receipt")

    case = Case.objects.get()
    page.goto(f"/cases/{case.pk}/")
    text = check_chinese(page, "the case page")
    assert "登记" in page.locator("[data-testid=timeline]").inner_text()
    assert "可执行操作" in text
    page.screenshot(path=str(SHOTS / "h4-case.png"), full_page=True)

    page.goto("/cases/999999999/")
    text = check_chinese(page, "the 404 page")
    assert "页面不存在" in text and page.locator(".topbar").count() == 1
    page.screenshot(path=str(SHOTS / "h4-404.png"))

    # a department head opening the supervision dashboard: a Chinese, styled 403
    log_in(page, "head")
    response = page.goto("/supervision/")
    assert response is not None and response.status == 403
    text = check_chinese(page, "the 403 page")
    assert "督办看板" in text and page.locator(".topbar").count() == 1
    page.screenshot(path=str(SHOTS / "h4-403.png"))
