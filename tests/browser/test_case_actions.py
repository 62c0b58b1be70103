"""Issue #10 in a real browser: the case page's actions are working links and buttons."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from core.models import DepartmentKind
from petitions.testing import register
from routing.models import Assignment, AssignmentState
from routing.services import DepartmentDue, assign_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def test_triage_opens_a_decision_and_the_department_signs_for_from_the_case_page(page, org, cast):
    case = register(cast["reception"]).case
    log_in(page, "triage")
    page.goto(f"/cases/{case.pk}/")
    page.click("[data-testid='action-routing.not_accept']")
    page.wait_for_url(re.compile(rf"/triage/{case.pk}/#decision-not_accept$"))
    assert page.locator("#decision-not_accept").get_attribute("open") is not None

    other = register(cast["reception"]).case
    assign_case(
        actor=cast["triage"],
        case=other,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
    )
    log_in(page, "police")
    page.goto(f"/cases/{other.pk}/")
    page.click("[data-testid='action-routing.sign_for']")
    page.wait_for_load_state()
    assert Assignment.objects.get(case=other).state == AssignmentState.SIGNED
    page.screenshot(path="/tmp/h4-signed.png", full_page=True)
