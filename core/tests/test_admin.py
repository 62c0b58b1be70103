"""The Django admin in Chinese: the login-lockout section (django-axes) translated, and a staff
member added with center, department and roles in one save."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from core.models import DepartmentKind, User
from core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "Xq7!long-enough-password"


@pytest.fixture
def superuser(org) -> User:
    return User.objects.create_superuser("root", password=PASSWORD, center=org.city)


def zh_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_login_lockout_section_is_chinese_in_the_admin(superuser):
    AccessAttempt.objects.create(
        user_agent="Mozilla",
        ip_address="10.0.0.1",
        username="someone",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=3,
    )
    client = zh_client(superuser)
    index = visible_text(client.get(reverse("admin:index")).content.decode())
    assert "登录锁定" in index and "访问尝试" in index
    for english in ("Axes", "Access attempts", "Access logs", "Access failures"):
        assert english not in index, english
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    text = visible_text(changelist.content.decode())
    for english in (
        "Attempt Time",
        "IP Address",
        "User Agent",
        "Failed Logins",
        "Expiration",
        "Status",
        "Locked Out",
        "Attempt Remaining",
        "Clean up expired attempts",
    ):
        assert english not in text, english
    assert "尝试时间" in text and "失败次数" in text
    attempt = AccessAttempt.objects.get()
    detail = client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk]))
    text = visible_text(detail.content.decode())
    for english in ("Form Data", "Meta Data", "GET Data", "POST Data", "HTTP Accept"):
        assert english not in text, english


def add_user(client: Client, **fields) -> object:
    data = {
        "username": "new_officer",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "full_name": "李新",
        "_save": "保存",
    }
    data.update(fields)
    return client.post(reverse("admin:core_user_add"), data)


def test_adding_a_user_sets_center_department_and_roles_in_one_save(org, superuser):
    client = zh_client(superuser)
    form = client.get(reverse("admin:core_user_add")).content.decode()
    for name in ("center", "department", "roles"):
        assert f'name="{name}"' in form, name
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = add_user(
        client, center=org.city.pk, department=police.pk, roles=[Role.OFFICER, Role.HEAD]
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_user_changelist")
    user = User.objects.get(username="new_officer")
    assert (user.center, user.department, user.full_name) == (org.city, police, "李新")
    assert user.role_codes == {Role.OFFICER, Role.HEAD}
    assert user.check_password(PASSWORD)


def test_add_form_refuses_a_department_of_another_center_or_a_department_role_without_one(
    org, superuser
):
    client = zh_client(superuser)
    county_police = org.dept(org.county_a, DepartmentKind.POLICE)
    response = add_user(
        client, center=org.city.pk, department=county_police.pk, roles=[Role.OFFICER]
    )
    assert response.status_code == 200
    assert "department" in response.context["adminform"].form.errors
    response = add_user(client, center=org.city.pk, department="", roles=[Role.HEAD])
    assert response.status_code == 200
    assert "department" in response.context["adminform"].form.errors
    response = add_user(client, center="", department="", roles=[Role.SUPERVISOR])
    assert response.status_code == 200
    assert "center" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="new_officer").exists()
    # a center-wide role needs no department
    response = add_user(client, center=org.city.pk, department="", roles=[Role.SUPERVISOR])
    assert response.status_code == 302
    assert User.objects.get(username="new_officer").role_codes == {Role.SUPERVISOR}
