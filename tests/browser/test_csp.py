"""Content-Security-Policy in a real browser: pages work under the policy (no inline script or
style is blocked), Swagger UI renders with its own allowance, and the console check of
tests/browser/conftest.py really catches a violation."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_language_switch_works_without_an_inline_handler(page, cast):
    login(page, "reception", PASSWORD)
    page.goto("/desk/")
    # (No wait_for_function with a string: Playwright evaluates it with eval, which the
    # policy blocks. Locators are fine.)
    page.select_option("#lang-select", "en")
    page.locator("html[lang='en']").wait_for(state="attached")
    page.select_option("#lang-select", "zh-hans")
    page.locator("html[lang='zh-hans']").wait_for(state="attached")


def test_swagger_ui_renders_under_the_policy(page, cast):
    login(page, "supervisor", PASSWORD)
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock").count() > 10
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Joint petition")


def test_admin_pages_run_under_the_policy(page, cast):
    admin = cast["admin"]
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    login(page, "admin", PASSWORD)
    page.goto("/admin/")
    page.goto("/admin/core/user/")
    page.locator("#changelist").wait_for(state="visible")
    page.goto(f"/admin/core/user/{admin.pk}/change/")
    page.locator("#user_form").wait_for(state="visible")


def test_the_console_check_catches_a_violation(page, cast):
    """The conftest hook sees what the browser refuses: an injected inline handler."""
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
            document.addEventListener('securitypolicyviolation', () => {
                document.body.dataset.csp = '1';
            });
            const box = document.createElement('div');
            box.innerHTML = '<img src="/static/none.png" onerror="window.__ran = 1">';
            document.body.appendChild(box);
        }"""
    )
    page.locator("body[data-csp='1']").wait_for(state="attached")
    assert page.evaluate("window.__ran") is None
    assert any("Content Security Policy" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # expected here; the fixture fails a test on any other
