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


def test_unread_count_matches_the_inbox_query(cast: dict[str, User], org) -> None:  # type: ignore[no-untyped-def]
    from clocks.models import NotificationRead
    from clocks.notify import notifications_for, unread_count
    from core.models import DepartmentKind

    police, court, head = cast["police"], cast["court"], cast["head"]
    city = org.city
    rows = [
        Notification(recipient=police, kind=NotificationKind.REMINDER, title="a", body="x"),
        Notification(
            audience_center=city,
            audience_role=Role.OFFICER,
            kind=NotificationKind.REMINDER,
            title="b",
            body="x",
        ),
        Notification(
            audience_center=city,
            audience_role=Role.OFFICER,
            audience_department=org.dept(city, DepartmentKind.POLICE),
            kind=NotificationKind.REMINDER,
            title="c",
            body="x",
        ),
        Notification(
            audience_center=org.county_a,
            audience_role=Role.OFFICER,
            kind=NotificationKind.REMINDER,
            title="d",
            body="x",
        ),
        Notification(
            audience_center=city,
            audience_role=Role.HEAD,
            kind=NotificationKind.REMINDER,
            title="e",
            body="x",
        ),
    ]
    Notification.objects.bulk_create(rows)
    NotificationRead.objects.create(notification=rows[1], user=police)
    nowhere = User.objects.create_user(username="nowhere", password="Test-pass-2026")
    Notification.objects.create(recipient=nowhere, kind=NotificationKind.REMINDER, title="f")
    for user in (police, court, head, cast["supervisor"], nowhere):
        user = User.objects.get(pk=user.pk)
        expected = notifications_for(user).filter(is_read=False).count()
        assert unread_count(user) == expected
    assert unread_count(User.objects.get(pk=police.pk)) == 2
    # Who each one is for, spelled out rather than "as the inbox says": the court officer gets the
    # center-wide officer notification, the head the head one, the supervisor none, a user without
    # a center only what is addressed to them.
    assert unread_count(User.objects.get(pk=court.pk)) == 1
    assert unread_count(User.objects.get(pk=head.pk)) == 1
    assert unread_count(User.objects.get(pk=cast["supervisor"].pk)) == 0
    assert unread_count(User.objects.get(pk=nowhere.pk)) == 1
