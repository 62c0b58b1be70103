"""The page header at 1280 px: one row for every role, and the notifications link once."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page

from conftest import PASSWORD, make_user
from core.models import Center, Department, DepartmentKind
from core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Names as long as the real ones (demo/organisation.py): the user box shows them.
CITY = "石家庄市涉法涉诉联合接访服务中心"
POLICE = "石家庄市公安局"
ROLES = [
    ("reception", [Role.RECEPTION], False),
    ("triage", [Role.TRIAGE], False),
    ("officer", [Role.OFFICER], True),
    ("head", [Role.HEAD], True),
    ("supervisor", [Role.SUPERVISOR], False),
    ("leader", [Role.LEADER], False),
    ("archivist", [Role.ARCHIVIST], False),
    ("admin", [Role.ADMIN], False),
    # the longest menu a person is likely to have: every center-wide section at once
    ("many", [Role.TRIAGE, Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST], False),
]


def login_as(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def header_geometry(page: Page) -> dict:
    return page.evaluate(
        """() => {
        const header = document.querySelector('header.topbar');
        const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; };
        const parts = [...header.querySelectorAll('.brand, .mainnav li, .userbox > *, .langswitch')]
            .filter((el) => el.getClientRects().length);
        const lineHeight = parseFloat(getComputedStyle(header).lineHeight) || 20;
        return {
            header: box(header),
            parts: parts.map((el) => ({text: el.innerText, ...box(el)})),
            lineHeight,
            overflow: header.scrollWidth - header.clientWidth,
        };
    }"""
    )


@pytest.mark.parametrize("role,roles,in_department", ROLES, ids=[r[0] for r in ROLES])
def test_header_is_one_row_at_1280px_with_notifications_once(
    page: Page, org, role, roles, in_department
):
    Center.objects.filter(pk=org.city.pk).update(name=CITY)
    police = Department.objects.get(center=org.city, kind=DepartmentKind.POLICE)
    Department.objects.filter(pk=police.pk).update(name=POLICE)
    user = make_user(f"u_{role}", org.city, roles, police if in_department else None)
    user.full_name = "欧阳建国"
    user.save(update_fields=["full_name"])
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as(page, user.username)
    page.goto("/")
    shots = os.environ.get("HEADER_SCREENSHOTS")
    if shots:
        page.locator("header.topbar").screenshot(path=os.path.join(shots, f"header-{role}.png"))
    geometry = header_geometry(page)
    parts = geometry["parts"]
    tops = {round(p["top"]) for p in parts}
    # one row: every part starts on the same line (± a few px of vertical centring) and none
    # breaks its own text onto a second line
    assert max(p["top"] for p in parts) - min(p["top"] for p in parts) < 12, (role, parts, tops)
    tallest = max(p["height"] for p in parts)
    assert tallest < 2 * geometry["lineHeight"], (role, parts)
    assert geometry["header"]["height"] < tallest + 30, (role, geometry)
    assert geometry["overflow"] <= 0, (role, geometry)
    header = page.locator("header.topbar")
    assert header.locator("a", has_text="消息提醒").count() == 1, role
    assert header.locator('a[href$="/notifications/"]').count() == 1, role
    # the user box may shorten the center's name on screen; its title keeps the whole of it
    assert CITY in (header.locator(".userbox .who").get_attribute("title") or "")
