"""Back after registering at the desk (issue 17 §4 #1): the browser returns to the desk, never to
Chromium's "Confirm Form Resubmission" page, and the receipt is a GET page of its own."""

from __future__ import annotations

import re

import pytest

from intake.tests.helpers import valid_id
from petitions.models import Case, ContentCategory, Purpose

from .test_front_desk import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_new_matter(page) -> None:
    page.select_option("#id_purpose", value=str(Purpose.objects.get(code="appeal").pk))
    page.select_option(
        "#id_category", value=str(ContentCategory.objects.get(code="court.execution").pk)
    )
    page.fill("#id_request", "请求法院依法执行判决。")


def _assert_back_on_the_desk(page) -> None:
    page.go_back()
    page.wait_for_load_state()
    assert "ERR_CACHE_MISS" not in page.content()
    assert re.search(r"/desk/(\?.*)?$", page.url), page.url
    assert page.locator("[data-testid=lookup-form]").is_visible()


def test_back_after_registering_a_person_not_found_returns_to_the_desk(page, cast):
    number = valid_id()
    log_in(page, "reception")
    page.goto("/desk/")
    page.fill("#id_lookup-id_number", number)
    page.click("[data-testid=lookup-submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=not-found]").is_visible()
    # the typed ID number is carried to the new person's form, never through the URL
    assert number not in page.url
    assert page.input_value("#id_id_number") == number
    page.fill("#id_name", "钱十三")
    _fill_new_matter(page)
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    assert Case.objects.count() == 1
    _assert_back_on_the_desk(page)
    # forward again: the receipt is a GET page of its own
    page.go_forward()
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    assert page.locator("[data-testid=case-number]").inner_text() == Case.objects.get().number
    assert Case.objects.count() == 1


def test_back_after_registering_from_a_form_shown_again_returns_to_the_desk(page, cast):
    log_in(page, "reception")
    page.goto("/desk/?new=1")
    page.fill("#id_name", "孙十四")
    # no purpose nor request: the form comes back with its errors (a POST response)
    page.click("[data-testid=register-submit]")
    page.wait_for_load_state()
    assert page.locator(".errorlist").count() > 0
    _fill_new_matter(page)
    page.click("[data-testid=register-submit]")
    page.wait_for_url(re.compile(r"/desk/receipt/\d+/$"))
    _assert_back_on_the_desk(page)
    assert Case.objects.count() == 1
