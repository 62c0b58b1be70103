"""The leader's home page lists the leader's own key cases (包案): the leader responsibilities
naming the leader, unresolved first, each with a link to record the result."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_user
from core.models import User
from core.roles import Role
from supervision.services import assign_leader_responsibility, resolve_leader_responsibility

from .test_services import handling_case, later

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'data-testid="own-responsibility" data-responsibility="(\d+)"',
            response.content.decode(),
        )
    ]


def responsibility(org, cast, leader: User, days: int = 20):
    case, _clock = handling_case(org, cast)
    return assign_leader_responsibility(
        actor=cast["supervisor"],
        case=case,
        leader=leader,
        handler=cast["police"],
        due_at=later(days),
        target_result="息诉罢访",
    )


def test_leader_home_lists_own_key_cases_unresolved_first(org, cast):
    leader = cast["leader"]
    other_leader = make_user("other_leader", org.city, [Role.LEADER])
    done = responsibility(org, cast, leader, days=5)
    later_due = responsibility(org, cast, leader, days=30)
    sooner_due = responsibility(org, cast, leader, days=10)
    not_mine = responsibility(org, cast, other_leader)
    resolve_leader_responsibility(actor=leader, responsibility=done, result="已化解")

    response = client_for(leader).get(reverse("home"))
    assert listed(response) == [sooner_due.pk, later_due.pk, done.pk]
    assert not_mine.pk not in listed(response)
    body = response.content.decode()
    link = reverse("supervision_case:detail", args=[sooner_due.case_id]) + "#responsibility"
    assert f'href="{link}"' in body
    assert sooner_due.case.number in body
    zh = client_for(leader, "zh-hans").get(reverse("home")).content.decode()
    assert "我的包案" in zh


def test_a_leader_without_key_cases_is_told_so_and_others_see_no_section(org, cast):
    body = client_for(cast["leader"]).get(reverse("home")).content.decode()
    assert 'data-testid="own-responsibilities-empty"' in body
    for who in ("police", "supervisor", "triage"):
        body = client_for(cast[who]).get(reverse("home")).content.decode()
        assert 'data-testid="own-responsibilities"' not in body


def test_leader_home_query_count_does_not_grow_with_key_cases(org, cast):
    leader = cast["leader"]
    client = client_for(leader)
    responsibility(org, cast, leader)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as one:
        assert len(listed(client.get(reverse("home")))) == 1
    for _ in range(4):
        responsibility(org, cast, leader)
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get(reverse("home")))) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
