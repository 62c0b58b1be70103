"""The department head's inbox lists the extension requests awaiting the head's decision (Art 34),
each with a link to the case supervision page where the decision form is."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_user
from core.models import DepartmentKind, User
from core.roles import Role
from supervision.models import ExtensionState
from supervision.services import decide_extension, request_extension

from .test_services import handling_case

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'data-testid="pending-extension" data-extension="(\d+)"', response.content.decode()
        )
    ]


def test_head_inbox_lists_pending_extension_requests_with_a_link_to_decide(org, cast):
    case, _clock = handling_case(org, cast)
    request = request_extension(actor=cast["police"], case=case, days=20, reason="需补充调查")
    response = client_for(cast["head"]).get(reverse("routing:inbox"))
    assert listed(response) == [request.pk]
    body = response.content.decode()
    decide = reverse("supervision_case:detail", args=[case.pk]) + "#extensions"
    assert f'href="{decide}"' in body
    # the link leads to the decision form
    page = client_for(cast["head"]).get(decide.split("#")[0]).content.decode()
    assert 'data-testid="form-decide-extension"' in page
    # and in Chinese
    zh = client_for(cast["head"], "zh-hans").get(reverse("routing:inbox")).content.decode()
    assert "待您审批的延期申请" in zh

    decide_extension(actor=cast["head"], request=request, approve=True)
    request.refresh_from_db()
    assert request.state == ExtensionState.APPROVED
    assert listed(client_for(cast["head"]).get(reverse("routing:inbox"))) == []


def test_only_the_lead_departments_head_sees_the_request(org, cast):
    case, _clock = handling_case(org, cast)
    request_extension(actor=cast["police"], case=case, days=10, reason="理由")
    court_head = make_user(
        "court_head", org.city, [Role.HEAD], org.dept(org.city, DepartmentKind.COURT)
    )
    for who in (cast["police"], court_head):  # the officer who asked; another department's head
        response = client_for(who).get(reverse("routing:inbox"))
        assert response.status_code == 200
        assert listed(response) == []
        assert 'data-testid="pending-extensions"' not in response.content.decode()


def test_head_inbox_query_count_does_not_grow_with_pending_requests(org, cast):
    client = client_for(cast["head"])
    url = reverse("routing:inbox")
    case, _clock = handling_case(org, cast)
    request_extension(actor=cast["police"], case=case, days=10, reason="理由")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(listed(client.get(url))) == 1
    for _ in range(4):
        case, _clock = handling_case(org, cast)
        request_extension(actor=cast["police"], case=case, days=10, reason="理由")
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get(url))) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
