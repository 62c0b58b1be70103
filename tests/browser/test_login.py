import pytest

from conftest import PASSWORD
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reception_logs_in_and_sees_reception_navigation_only(page, cast):
    login(page, "reception", PASSWORD)
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="前台登记").is_visible()
    assert nav.get_by_role("link", name="部门收件箱").count() == 0
    assert nav.get_by_role("link", name="督办").count() == 0


def test_wrong_password_shows_error_in_chinese(page, cast):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("reception")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")
