"""The page frame (base.html: navigation, user box, notification badge) costs a small constant
number of queries, yet roles and the badge are read fresh on every request (issue 10)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from clocks.models import Notification, NotificationKind
from core.models import User
from core.roles import Role

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/")  # warm-up: process caches (organisation, navigation) and the cached session
    return client


def test_home_page_frame_is_a_small_constant_number_of_queries(
    cast: dict[str, User], django_assert_max_num_queries
) -> None:
    client = _client(cast["police"])
    # user, roles, the unread-notification count, the home page's own list of roles
    with django_assert_max_num_queries(4):
        response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    # the user box still names the center and department (from the in-process caches)
    assert cast["police"].center.name in body
    assert cast["police"].department.name in body
    assert 'data-nav="routing:inbox"' in body


def test_department_inbox_frame_and_closure_link_in_constant_queries(
    cast: dict[str, User], django_assert_max_num_queries
) -> None:
    client = _client(cast["police"])
    client.get("/inbox/")
    # frame (user, roles, badge) + the closure link's single count + the inbox's own queries
    with django_assert_max_num_queries(8):
        response = client.get("/inbox/")
    assert response.status_code == 200
    assert 'data-testid="closure-inbox-link"' in response.content.decode()


def test_a_revoked_role_and_a_new_notification_show_on_the_next_page_load(
    cast: dict[str, User],
) -> None:
    user = cast["police"]
    client = _client(user)
    body = client.get("/").content.decode()
    assert 'data-nav="routing:inbox"' in body
    assert 'data-unread="0"' in body
    Notification.objects.create(
        recipient=user, kind=NotificationKind.REMINDER, title="x", body="reminder"
    )
    user.set_roles([Role.RECEPTION])
    body = client.get("/").content.decode()
    assert 'data-nav="routing:inbox"' not in body
    assert 'data-nav="intake:desk"' in body
    assert 'data-unread="1"' in body
    assert client.get("/inbox/").status_code == 403


def test_navigation_labels_follow_the_active_language(cast: dict[str, User]) -> None:
    client = _client(cast["supervisor"])
    client.cookies["django_language"] = "en"
    english = client.get("/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get("/").content.decode()
    with translation.override("en"):
        assert ">Supervision</a>" in english
    assert ">Supervision</a>" not in chinese
