"""Browser tests drive Debian's Chromium through Playwright's Python API (no browser download)."""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to be called
# from it in the test body. The live server runs in its own thread and is unaffected.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium not found: make test installs Debian's chromium package")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    # Intranet rule: nothing may be fetched from outside the server.
    external: list[str] = []
    # Content-Security-Policy: any violation the browser reports (console message or page
    # error) fails the test, so every journey checks that its pages need no inline script/style.
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(f"{msg.type}: {msg.text} @ {page.url}")
            if "content security policy" in msg.text.lower()
            else None
        ),
    )
    page.on(
        "pageerror",
        lambda exc: (
            csp_violations.append(f"pageerror: {exc} @ {page.url}")
            if "content security policy" in str(exc).lower()
            else None
        ),
    )
    page.csp_violations = csp_violations  # tests/browser/test_csp.py checks the checker
    page.on(
        "request",
        lambda req: (
            external.append(req.url)
            if not req.url.startswith(live_server.url) and not req.url.startswith("data:")
            else None
        ),
    )
    yield page
    context.close()
    assert not external, f"page fetched external resources: {external}"
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
