"""List endpoints never bring out-of-scope rows (issue 11), whatever their filters, search,
ordering, page size, cursor or export parameters.

The query parameters of every GET list operation are taken from the OpenAPI schema and filled with
values that point at other people's cases (their centers' ids, their case numbers, their
petitioners' names, every enum value, a huge page size); each list page of the site gets the same
values under the usual parameter names. Cursor pages are followed. For each out-of-scope viewer no
response carries another target's secrets, and the case ids in the API's case list are always
within the viewer's visible set."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from petitions.selectors import cases_visible_to

from .conftest import Target, World, viewers
from .test_security_matrix import ENTRIES

pytestmark = pytest.mark.django_db

# (viewer, targets outside the viewer's scope)
SCOPES = {
    "justice": ("city", "county"),  # another department
    "county_b_supervisor": ("city", "county"),  # a lower center, and one at the same level
    "outsider": ("city", "county"),  # another province
    "supervisor": ("other",),
}


def _values(world: World, targets: list[Target], param: dict[str, Any]) -> list[Any]:
    schema = param.get("schema", {})
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    name = param["name"]
    if "enum" in schema:
        return list(schema["enum"])
    if schema.get("type") == "boolean":
        return ["true", "false"]
    if name in {"page_size", "limit"}:
        return [100000]
    if schema.get("type") == "integer":
        return [t.case.center_id for t in targets]
    if schema.get("format") in {"date", "date-time"}:
        return ["2000-01-01"]
    return [t.secrets[i] for t in targets for i in (1, 2)]


def _get_all_pages(client: Client, url: str, params: dict[str, Any]) -> list[Any]:
    responses = [client.get(url, params)]
    for _ in range(2):  # follow the cursor
        last = responses[-1]
        if last.status_code != 200 or "json" not in last.get("Content-Type", ""):
            break
        data = last.json()
        nxt = data.get("next") if isinstance(data, dict) else None
        if not nxt:
            break
        responses.append(client.get(nxt))
    return responses


def _case_ids(response: Any) -> set[int]:
    data = response.json()
    rows = data.get("results", []) if isinstance(data, dict) else data
    return {row["id"] for row in rows if isinstance(row, dict) and "id" in row}


def test_list_filters_never_bring_out_of_scope_rows(world: World):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lists = {
        path: op["parameters"]
        for path, ops in schema["paths"].items()
        if "{" not in path and "get" in ops
        for op in [ops["get"]]
        if op.get("parameters")
    }
    assert "/api/v1/cases/" in lists and "/api/v1/petitioners/" in lists
    pages = [
        reverse(name)
        for name, entry in ENTRIES.items()
        # list pages without path arguments (a center's schedule takes its center: probed by the
        # matrix, it carries no case data)
        if entry.kind == "list"
        and entry.kwargs is None
        and not name.startswith("api")
        and name not in {"logout", "home"}
    ]
    page_params = ["q", "center"]
    clients = viewers(world)
    problems: list[str] = []
    for viewer, outside in SCOPES.items():
        client = clients[viewer]
        targets = [getattr(world, t) for t in outside]
        secrets = [s for t in targets for s in t.secrets]
        visible = set(cases_visible_to(_user(world, viewer)).values_list("pk", flat=True))
        calls: list[tuple[str, dict[str, Any]]] = []
        for path, params in lists.items():
            calls.append((path, {"page_size": 1}))
            for param in params:
                if param.get("in") != "query":
                    continue
                for value in _values(world, targets, param):
                    calls.append((path, {param["name"]: value, "page_size": 1}))
        for page in pages:
            for name in page_params:
                for value in [t.case.center_id for t in targets] + [t.secrets[1] for t in targets]:
                    calls.append((page, {name: value}))
        for url, params in calls:
            for response in _get_all_pages(client, url, params):
                where = f"{viewer} GET {url} {params}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                    continue
                body = response.content if not response.streaming else b""
                # A value the viewer typed may be echoed back in the form; anything else is a leak.
                typed = " ".join(map(str, params.values()))
                leaked = [s for s in secrets if s.encode() in body and s not in typed]
                if leaked:
                    problems.append(f"{where}: carries {leaked}")
                if url == "/api/v1/cases/" and response.status_code == 200:
                    extra = _case_ids(response) - visible
                    if extra:
                        problems.append(f"{where}: case ids {extra} outside the visible set")
    assert not problems, f"{len(problems)} findings:\n" + "\n".join(problems[:100])


def _user(world: World, name: str) -> Any:
    return world.cast.get(name) or world.extra_users[name]
