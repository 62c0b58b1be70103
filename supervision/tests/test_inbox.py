"""The in-app notification inbox and the unread badge: the right people see a notification, it can
be marked read (one or all), and the badge costs one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clocks.models import Deadline, DeadlineKind, Notification, NotificationKind, NotificationRead
from clocks.notify import unread_count
from clocks.sweep import run_deadline_checks
from core.models import DepartmentKind
from core.roles import Role
from petitions.testing import register
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment

INBOX = "/notifications/"
MARK = "/notifications/read/"


def inbox_ids(client, user, **params) -> list[int]:
    client.force_login(user)
    response = client.get(INBOX, params)
    assert response.status_code == 200
    return [item.pk for item in response.context["items"]]


def registered_note(case) -> Notification:
    return Notification.objects.get(case=case, kind=NotificationKind.EVENT, body="registered")


@pytest.mark.django_db
def test_triage_at_the_center_gets_registered_notifications_and_the_police_officer_does_not(
    client, cast
):
    case = register(cast["reception"]).case
    note = registered_note(case)
    assert inbox_ids(client, cast["triage"]) == [note.pk]
    assert inbox_ids(client, cast["police"]) == []
    assert inbox_ids(client, cast["county_triage"]) == []
    assert inbox_ids(client, cast["outsider"]) == []


@pytest.mark.django_db
def test_inbox_item_describes_the_notification_links_the_case_and_is_highlighted_unread(
    client, cast
):
    case = register(cast["reception"]).case
    client.force_login(cast["triage"])
    response = client.get(INBOX)
    (item,) = response.context["items"]
    assert item.unread and case.number in item.text
    assert item.case_url == f"/cases/{case.pk}/"
    html = response.content.decode()
    assert f'href="/cases/{case.pk}/"' in html
    assert 'class="inbox-item unread"' in html and 'data-unread="1"' in html


@pytest.mark.django_db
def test_escalation_reaches_the_department_head_not_a_neighbouring_officer(client, org, cast):
    case = register(cast["reception"]).case
    (lead,) = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), case.registered_at + timedelta(days=60)
        ),
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    now = timezone.now()
    Deadline.objects.filter(case=case, kind=DeadlineKind.HANDLING).update(
        starts_at=now - timedelta(days=61), due_at=now - timedelta(days=1)
    )
    run_deadline_checks(now=now)
    escalation = Notification.objects.get(case=case, kind=NotificationKind.ESCALATION)
    overdue = Notification.objects.get(case=case, kind=NotificationKind.OVERDUE)
    assert escalation.pk in inbox_ids(client, cast["head"])
    # The handling clock is case-level: the sweep reminds the lead assignment's handler.
    assert overdue.recipient == cast["police"]
    assert overdue.pk in inbox_ids(client, cast["police"])
    assert overdue.pk not in inbox_ids(client, cast["triage"])
    assert escalation.pk not in inbox_ids(client, cast["court"])
    assert overdue.pk not in inbox_ids(client, cast["court"])


@pytest.mark.django_db
def test_inbox_is_newest_first_and_paginated(client, cast):
    cases = [register(cast["reception"]).case for _ in range(3)]
    base = timezone.now()
    notes = [registered_note(c) for c in cases]
    for i, note in enumerate(notes):
        Notification.objects.filter(pk=note.pk).update(created_at=base - timedelta(hours=i))
    extra = Notification.objects.bulk_create(
        [
            Notification(
                recipient=cast["triage"],
                kind=NotificationKind.REMINDER,
                title=cases[0].number,
                body="reminder",
                created_at=base - timedelta(days=1, minutes=i),
            )
            for i in range(25)
        ]
    )
    first = inbox_ids(client, cast["triage"])
    assert first[:3] == [n.pk for n in notes]
    assert len(first) == 25
    second = inbox_ids(client, cast["triage"], page=2)
    assert second == [n.pk for n in extra[-3:]]


@pytest.mark.django_db
def test_mark_one_as_read(client, cast):
    first = registered_note(register(cast["reception"]).case)
    second = registered_note(register(cast["reception"]).case)
    client.force_login(cast["triage"])
    response = client.post(MARK, {"id": first.pk, "next": INBOX})
    assert response.status_code == 302 and response["Location"] == INBOX
    assert NotificationRead.objects.filter(notification=first, user=cast["triage"]).exists()
    assert not NotificationRead.objects.filter(notification=second).exists()
    assert unread_count(cast["triage"]) == 1
    items = {i.pk: i for i in client.get(INBOX).context["items"]}
    assert not items[first.pk].unread and items[second.pk].unread


@pytest.mark.django_db
def test_mark_all_as_read(client, cast):
    notes = [registered_note(register(cast["reception"]).case) for _ in range(3)]
    client.force_login(cast["triage"])
    client.post(MARK, {"all": "1"})
    assert unread_count(cast["triage"]) == 0
    assert (
        NotificationRead.objects.filter(
            user=cast["triage"], notification__in=[n.pk for n in notes]
        ).count()
        == 3
    )


@pytest.mark.django_db
def test_reading_a_center_wide_notification_does_not_mark_it_read_for_colleagues(client, cast, org):
    from conftest import make_user
    from core.roles import Role

    colleague = make_user("triage2", org.city, [Role.TRIAGE])
    note = registered_note(register(cast["reception"]).case)
    client.force_login(cast["triage"])
    client.post(MARK, {"id": note.pk})
    client.post(MARK, {"id": note.pk})  # a double click reads once
    assert NotificationRead.objects.filter(notification=note).count() == 1
    assert unread_count(cast["triage"]) == 0
    assert unread_count(colleague) == 1


@pytest.mark.django_db
def test_cannot_mark_someone_elses_notification_read(client, cast):
    note = registered_note(register(cast["reception"]).case)
    client.force_login(cast["police"])
    client.post(MARK, {"id": note.pk})
    client.post(MARK, {"all": "1"})
    assert not NotificationRead.objects.filter(notification=note).exists()


@pytest.mark.django_db
def test_mark_read_refuses_get_and_an_offsite_next(client, cast):
    note = registered_note(register(cast["reception"]).case)
    client.force_login(cast["triage"])
    assert client.get(MARK, {"id": note.pk}).status_code == 405
    response = client.post(MARK, {"id": note.pk, "next": "https://evil.example/"})
    assert response["Location"] == INBOX


@pytest.mark.django_db
def test_inbox_needs_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_notifications(
    client, cast, django_assert_num_queries
):
    for _ in range(2):
        register(cast["reception"])
    client.force_login(cast["triage"])
    client.get(INBOX)  # warm-up: the process caches (organisation, navigation) load once
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(INBOX).context["items"]) == 2
    for _ in range(10):
        register(cast["reception"])
    with django_assert_num_queries(len(few)):
        assert len(client.get(INBOX).context["items"]) == 12


# --- the badge ----------------------------------------------------------------------------------


def render_badge(request) -> str:
    return render_to_string(
        "core/_notifications_badge.html", {"user": request.user}, request=request
    )


@pytest.mark.django_db
def test_badge_shows_the_unread_count_in_one_query(cast, django_assert_num_queries):
    for _ in range(3):
        register(cast["reception"])
    user = cast["triage"]
    user.role_codes  # noqa: B018 - loaded once per request by the navigation already
    request = RequestFactory().get("/")
    request.user = user
    with django_assert_num_queries(1):
        html = render_badge(request)
        again = render_badge(request)  # the dashboard shows the count too: still one query
    assert 'data-unread="3"' in html and html == again
    assert 'href="/notifications/"' in html


@pytest.mark.django_db
def test_badge_without_unread_shows_no_count(cast):
    request = RequestFactory().get("/")
    request.user = cast["police"]
    html = render_badge(request)
    assert 'data-unread="0"' in html and 'class="count"' not in html


@pytest.mark.django_db
def test_badge_is_empty_for_anonymous_visitors():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert render_badge(request).strip() == ""


@pytest.mark.django_db
def test_leader_role_holder_sees_notifications_addressed_to_leaders(client, org, cast):
    note = Notification.objects.create(
        audience_center=org.city,
        audience_role=Role.LEADER,
        kind=NotificationKind.ESCALATION,
        title="T1",
        body="handling:step3",
    )
    assert inbox_ids(client, cast["leader"]) == [note.pk]
    assert inbox_ids(client, cast["supervisor"]) == []
