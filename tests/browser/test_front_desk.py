"""The front desk in a real browser: find a person, register a case, print the receipt, record a
repeat visit, and check the case on the public status page. Elements are located by id, name and
data-testid (the UI is in Chinese by default)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from conftest import PASSWORD
from intake.tests.helpers import valid_id
from intake.views import status_attempts_key
from petitions.models import Case, ContentCategory, Purpose, Visit
from petitions.services import check_query_code
from petitions.testing import make_petitioner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def find_by_id_number(page, number: str) -> None:
    page.goto("/desk/")
    # the lookup field has the focus: the clerk can type straight away
    assert page.evaluate("document.activeElement.id") == "id_lookup-id_number"
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    page.wait_for_url(re.compile(r"/desk/\?petitioner=\d+$"))


def test_reception_registers_then_records_a_repeat_visit_and_the_public_checks_it(page, cast):
    cache.delete(status_attempts_key("127.0.0.1"))
    reception = cast["reception"]
    number = valid_id()
    person = make_petitioner(reception, name="郑十一", id_number=number, phone="13811112222")
    log_in(page, "reception")

    # 1. find the person by ID number: their file, masked, and no open case yet
    find_by_id_number(page, number)
    assert page.locator("[data-testid=id-masked]").inner_text() == person.id_number_masked
    assert page.locator("input[name=visit_of][type=radio]").count() == 0

    # 2. register a new case
    page.select_option("#id_purpose", value=str(Purpose.objects.get(code="appeal").pk))
    page.select_option(
        "#id_category", value=str(ContentCategory.objects.get(code="court.execution").pk)
    )
    page.fill("#id_request", "请求法院依法执行判决。")
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    case = Case.objects.get()
    assert case.main_petitioner_id == person.pk

    # 3. the receipt: number, query code, a print button and a print stylesheet
    assert page.locator("[data-testid=case-number]").inner_text() == case.number
    code = page.locator("[data-testid=query-code]").inner_text().strip()
    assert check_query_code(case, code)
    assert page.evaluate("typeof window.print") == "function"
    assert page.locator("nav.mainnav").is_visible()
    page.emulate_media(media="print")
    assert page.locator("nav.mainnav").is_hidden()
    assert page.locator("[data-testid=print-button]").is_hidden()
    assert page.locator("[data-testid=case-number]").is_visible()
    page.emulate_media(media="screen")

    # 4. the same person again: the open case is offered as a repeat visit, chosen explicitly
    find_by_id_number(page, number)
    radio = page.locator(f"input[name=visit_of][value='{case.pk}']")
    assert radio.count() == 1 and not radio.is_checked()
    radio.check()
    assert page.locator("#new-case-fields").is_hidden()
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/\?petitioner=\d+$"))
    case.refresh_from_db()
    assert case.visit_count == 2
    assert Case.objects.count() == 1
    assert Visit.objects.filter(case=case, is_repeat=True).count() == 1

    # 5. the public status page: the state for the right code, nothing for a wrong one
    page.goto("/status/")
    page.fill("#id_case_number", case.number)
    page.fill("#id_query_code", code)
    page.click("[data-testid=status-submit]")
    state = page.locator("[data-testid=status-state]")
    assert state.get_attribute("data-state") == case.state
    assert "郑十一" not in page.content()

    page.fill("#id_case_number", case.number)
    page.fill("#id_query_code", "WRONG234")
    page.click("[data-testid=status-submit]")
    assert page.locator("[data-testid=status-not-found]").is_visible()
    assert page.locator("[data-testid=status-result]").count() == 0
    cache.delete(status_attempts_key("127.0.0.1"))


def test_register_button_is_disabled_once_submitted(page, cast):
    number = valid_id()
    make_petitioner(cast["reception"], name="王十二", id_number=number)
    log_in(page, "reception")
    find_by_id_number(page, number)
    button = page.locator("[data-testid=register-submit]")
    assert button.is_enabled()
    # A listener added after intake.js's stops the actual navigation, so the page stays and the
    # state the desk's script left can be read.
    page.locator("#register-form").evaluate(
        "f => { f.addEventListener('submit', e => e.preventDefault()); f.requestSubmit(); }"
    )
    assert button.is_disabled()
    assert page.locator("#register-form").get_attribute("data-submitting") == "1"


# --- resident ID numbers at the desk (issue 12 #7) ----------------------------------------------


def _legacy_and_full_id() -> tuple[str, str]:
    """A 15-digit first-generation resident ID and its 18-character form."""
    from stdnum.iso7064 import mod_11_2

    old = "130102550308123"
    body = old[:6] + "19" + old[6:]
    return old, body + mod_11_2.calc_check_digit(body)


def test_lookup_with_a_wrong_check_character_says_so_at_the_desk(page, cast):
    number = valid_id()
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    log_in(page, "reception")
    page.goto("/desk/")
    page.fill("#id_lookup-id_number", wrong)
    page.click("[data-testid=lookup-submit]")
    page.wait_for_load_state()
    field = page.locator(".field", has=page.locator("#id_lookup-id_number"))
    assert "校验位" in field.locator(".errorlist").inner_text()
    # the clerk is told, not sent on to open a second file for the person
    assert page.locator("[data-testid=not-found]").count() == 0
    assert page.locator("[data-testid=register-form]").count() == 0
    assert page.input_value("#id_lookup-id_number") == wrong


def test_lookup_with_the_15_digit_id_finds_the_person_registered_with_18(page, cast):
    from petitions.testing import register

    old, full = _legacy_and_full_id()
    person = make_petitioner(cast["reception"], name="钱老伯", id_number=full)
    register(cast["reception"], person)
    log_in(page, "reception")
    find_by_id_number(page, old)
    assert page.url.endswith(f"?petitioner={person.pk}")
    assert "钱老伯" in page.locator("#file-title").inner_text()


def test_a_sex_contradicting_the_id_number_shows_a_warning(page, cast):
    from datetime import date

    from petitions.testing import resident_id

    number = resident_id(born=date(1976, 9, 30), sex="M")
    log_in(page, "reception")
    page.goto("/desk/")
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    page.wait_for_selector("[data-testid=register-form]")
    warning = page.locator("[data-testid=sex-warning]")
    # nobody on file: the form opens with the number, and the sex read from it
    assert page.input_value("#id_id_number") == number
    assert page.input_value("#id_sex") == "M"
    assert warning.is_hidden()

    page.select_option("#id_sex", value="F")
    assert warning.is_visible()
    text = warning.inner_text()
    assert "不符" in text and "1976-09-30" in text and "男" in text

    page.select_option("#id_sex", value="M")
    assert warning.is_hidden()


# --- data integrity at the desk (issue 12 #1, #2; h1) ---------------------------------------------


def _fill_new_matter(page, request: str = "请求法院依法执行判决。") -> None:
    page.select_option("#id_purpose", value=str(Purpose.objects.get(code="appeal").pk))
    page.select_option(
        "#id_category", value=str(ContentCategory.objects.get(code="court.execution").pk)
    )
    page.fill("#id_request", request)


def test_a_group_visit_with_the_petitioner_as_representative_keeps_her_sex(page, cast):
    from petitions.models import Petitioner
    from petitions.testing import resident_id

    number = resident_id(sex="F")
    log_in(page, "reception")
    page.goto("/desk/?new=1")
    page.fill("#id_name", "林秀英")
    page.fill("#id_id_number", number)
    page.select_option("#id_sex", value="F")
    page.fill("#id_phone", "13822223333")
    page.fill("#id_address", "石家庄市新华区某街2号")
    page.fill("#id_headcount", "8")
    page.locator("#id_headcount").dispatch_event("change")
    _fill_new_matter(page, "八人集体反映拆迁补偿判决未执行。")
    if not page.locator("#reps").evaluate("d => d.open"):
        page.click("#reps summary")
    page.fill("#id_reps-0-name", "林秀英")
    page.fill("#id_reps-0-id_number", number)
    page.fill("#id_reps-1-name", "高建国")
    page.fill("#id_reps-1-id_number", resident_id(sex="M"))
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))

    person = Petitioner.objects.get(name="林秀英")
    assert person.sex == "F" and person.address == "石家庄市新华区某街2号"
    assert {h.sex for h in person.history.all()} == {"F"}
    case = Case.objects.get()
    assert case.is_group and case.headcount == 8
    find_by_id_number(page, number)
    assert "女" in page.locator("#file-title").inner_text()


def test_back_and_register_again_shows_the_open_case_and_creates_no_duplicate(page, cast):
    number = valid_id()
    person = make_petitioner(cast["reception"], name="孟繁星", id_number=number)
    log_in(page, "reception")
    find_by_id_number(page, number)
    _fill_new_matter(page)
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    case = Case.objects.get()

    # the browser's Back button, then 登记 again on the page it shows
    page.go_back()
    page.wait_for_selector("[data-testid=register-form]")
    page.click("[data-testid=register-submit]")
    page.wait_for_load_state()

    warning = page.locator("[data-testid=open-case-warning]")
    assert warning.is_visible()
    assert case.number in warning.inner_text()
    assert "同一事项" in warning.inner_text()
    assert Case.objects.count() == 1
    case.refresh_from_db()
    assert case.visit_count == 1
    # the explicit choice: the open case as a repeat visit, or a new case with its reason
    assert page.locator(f"input[name=visit_of][value='{case.pk}']").count() == 1
    page.check("input[name=visit_of][value=new]")
    assert page.locator("#id_new_case_reason").is_visible()

    page.fill("#id_new_case_reason", "同一判决的另一项执行请求")
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    assert Case.objects.count() == 2
    assert Case.objects.exclude(pk=case.pk).get().main_petitioner_id == person.pk
