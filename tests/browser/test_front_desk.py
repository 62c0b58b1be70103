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

    # 4. the same person again: the open case is offered, preselected, as a repeat visit
    find_by_id_number(page, number)
    radio = page.locator(f"input[name=visit_of][value='{case.pk}']")
    assert radio.count() == 1 and radio.is_checked()
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
