"""Hostile input to the API answers 400 or 404 with a clear message, never 500 (issue 13, items
7 and 8): deeply nested or oversized JSON, date-time filters the database cannot take, garbage
ids in paths and filters, huge page sizes, forged cursors."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from core.filters import BIGINT_MAX, IdFilter, SafeDateTimeField
from core.models import User
from core.parsers import json_depth_exceeds
from petitions.testing import register

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_raw(client: APIClient, url: str, body: str | bytes) -> Any:
    return client.generic("POST", url, body, content_type="application/json")  # type: ignore[arg-type]


def cursor(position: str, reverse: bool = False) -> str:
    query = urlencode({"p": position, **({"r": "1"} if reverse else {})})
    return base64.b64encode(query.encode()).decode()


# --- item 7: the JSON parser -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["[" * 5000, "[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000]
)
def test_deeply_nested_json_is_refused_with_400(cast, body):
    response = post_raw(client_for(cast["reception"]), CASES, body)
    assert response.status_code == 400, response.content[:200]
    assert "nest" in response.json()["detail"].lower() or "嵌套" in response.json()["detail"]


def test_nesting_inside_strings_does_not_count_and_normal_bodies_pass():
    assert not json_depth_exceeds('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 3)
    assert not json_depth_exceeds(r'{"a": "\"[[[[[[[[[[", "b": [1, [2]]}', 3)
    assert json_depth_exceeds('{"a": [[[1]]]}', 3)
    assert not json_depth_exceeds('{"a": [[1]]}', 3)


def test_deep_json_is_refused_on_every_json_endpoint(cast):
    """The parser is the project default, and the views that name their parser use it too."""
    client = client_for(cast["supervisor"])
    for url in ("/api/v1/petitioners/", "/api/v1/cases/1/answer/", "/api/v1/bulletins/"):
        response = post_raw(client, url, "[" * 5000)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert response.status_code != 500


def test_a_body_over_the_upload_limit_is_refused_with_400(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"request": "x" * 5000})
    response = post_raw(client_for(cast["reception"]), CASES, body)
    assert response.status_code == 400
    assert "1000" in response.json()["detail"]


def test_invalid_json_and_bad_encoding_are_400(cast):
    client = client_for(cast["reception"])
    assert post_raw(client, CASES, "{").status_code == 400
    assert post_raw(client, CASES, b"\xff\xfe{").status_code == 400
    assert post_raw(client, CASES, '{"a": NaN}').status_code == 400


# --- item 8: filters, ids, paging ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"registered_after": "2026-03-26T04:54:40+23:32"},
        {"registered_before": "2026-03-26T04:54:40-16:00"},
        {"registered_after": "not-a-date"},
        {"registered_after": "9999-12-31T23:59:59-15:00"},
        {"registered_after": "0001-01-01"},
        {"center": "abc"},
        {"center": "1.5"},
        {"center": "99999999999999999999999999"},
        {"center": "-1"},
        {"state": "no-such-state"},
    ],
)
def test_bad_filter_values_are_400_with_the_field_named(cast, query):
    response = client_for(cast["reception"]).get(CASES, query)
    assert response.status_code == 400, response.content[:300]
    assert set(query) <= set(response.json()), response.json()


@pytest.mark.parametrize(
    "query",
    [
        {"registered_after": "2026-03-26T04:54:40+15:59"},
        {"registered_before": "9999-12-30"},
        {"center": str(BIGINT_MAX)},
        {"number": "x" * 5000},
        {"category": "\u202e"},
    ],
)
def test_extreme_but_valid_filter_values_answer_200(cast, query):
    response = client_for(cast["reception"]).get(CASES, query)
    assert response.status_code == 200, response.content[:300]


def test_a_nul_character_in_a_filter_is_400(cast):
    response = client_for(cast["reception"]).get(CASES, {"number": "a\x00b"})
    assert response.status_code == 400


def test_huge_page_size_is_ignored(cast):
    register(cast["reception"])
    response = client_for(cast["reception"]).get(CASES, {"page_size": "1" + "0" * 40})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(
    "value",
    [
        "!!!",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        cursor("2026-03-26T04:54:40+23:32"),
        cursor("2026-03-26T04:54:40+23:32", reverse=True),
        cursor("not-a-date"),
        cursor("a\x00b"),
    ],
)
def test_a_malformed_or_forged_cursor_is_404_not_500(cast, value):
    register(cast["reception"])
    response = client_for(cast["reception"]).get(CASES, {"cursor": value})
    assert response.status_code == 404, response.content[:300]


def test_a_real_cursor_still_pages(cast):
    for _ in range(3):
        register(cast["reception"])
    client = client_for(cast["reception"])
    first = client.get(CASES).json()
    assert len(first["results"]) == 3
    # A forged cursor with a sane position pages from there.
    newest = first["results"][0]
    response = client.get(CASES, {"cursor": cursor(newest["registered_at"])})
    assert response.status_code == 200
    assert newest["id"] not in {row["id"] for row in response.json()["results"]}


def test_a_forged_inbox_cursor_is_404(cast):
    response = client_for(cast["police"]).get(
        "/api/v1/inbox/", {"cursor": cursor("2026-03-26T04:54:40+23:32")}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("pk", ["0", str(BIGINT_MAX), str(BIGINT_MAX + 1), "9" * 40])
def test_garbage_ids_in_paths_are_404(cast, pk):
    client = client_for(cast["supervisor"])
    for url in (
        f"/api/v1/cases/{pk}/",
        f"/api/v1/cases/{pk}/history/",
        f"/api/v1/cases/{pk}/supervision/",
        f"/api/v1/cases/{pk}/notices/",
        f"/api/v1/petitioners/{pk}/",
        f"/api/v1/notices/{pk}/pdf/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/api/v1/extensions/{pk}/decide/", {}, format="json").status_code in (
        400,
        404,
    )


@pytest.mark.parametrize("value", [0, -1, BIGINT_MAX + 1, 10**40, "abc", 1.5, None, [], {}])
def test_garbage_ids_in_bodies_are_400(cast, value):
    case = register(cast["reception"]).case
    client = client_for(cast["triage"])
    response = client.post(
        f"/api/v1/cases/{case.pk}/transfer/",
        {"to_center": value, "reason": "x", "expected_version": value},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]


def test_a_datetime_filter_offset_check_covers_the_whole_range():
    field = SafeDateTimeField()
    assert field.clean("2026-03-26T04:54:40+15:59")
    for bad in ("2026-03-26T04:54:40+16:00", "2026-03-26T04:54:40-23:59"):
        with pytest.raises(Exception, match="15:59"):
            field.clean(bad)
    recent = timezone.now() - timedelta(days=1)
    assert field.clean(recent.isoformat()) == recent


def _filtersets() -> list[type[django_filters.FilterSet]]:
    """Every FilterSet that an API view uses (the URLconf is loaded, so all views are imported)."""
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    found: list[type[django_filters.FilterSet]] = []
    stack = list(django_filters.FilterSet.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {
            "petitions",
            "routing",
            "supervision",
            "clocks",
            "closure",
            "reports",
            "intake",
            "appeals",
            "core",
        }:
            found.append(cls)
    return found


def test_every_api_filterset_uses_the_safe_date_and_number_filters():
    """A new FilterSet with a plain DateTimeFilter or NumberFilter would bring the 500 back."""
    filtersets = _filtersets()
    assert filtersets, "no FilterSet found"
    for filterset in filtersets:
        for name, flt in filterset.base_filters.items():
            where = f"{filterset.__module__}.{filterset.__name__}.{name}"
            if isinstance(flt, django_filters.DateTimeFilter | django_filters.IsoDateTimeFilter):
                assert issubclass(flt.field_class, SafeDateTimeField), where
            if isinstance(flt, django_filters.NumberFilter):
                assert isinstance(flt, IdFilter) or flt.extra.get("max_value") is not None, where
