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
    page.select_option("#lang-select", "en")
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")


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
            document.addEventListener('securitypolicyviolation', () => { window.__csp = 1; });
            const box = document.createElement('div');
            box.innerHTML = '<img src="/static/none.png" onerror="window.__ran = 1">';
            document.body.appendChild(box);
        }"""
    )
    page.wait_for_function("window.__csp === 1")
    assert page.evaluate("window.__ran") is None
    assert any("Content Security Policy" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # expected here; the fixture fails a test on any other
