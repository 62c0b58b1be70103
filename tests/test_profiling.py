"""core.profiling: per-request CPU by phase, off by default (issue 21 §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from core.models import User
from core.profiling import PHASES, summarize
from core.services import issue_token

pytestmark = pytest.mark.django_db


def _token_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {issue_token(user=user).key}")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_off_by_default_and_then_not_in_the_chain(cast: dict[str, User], tmp_path: Path) -> None:
    assert settings.PROFILE_REQUESTS is False
    out = tmp_path / "requests.jsonl"
    with override_settings(PROFILE_REQUESTS_FILE=str(out)):
        client = _token_client(cast["police"])
        assert client.get("/api/v1/me/").status_code == 200
        chain = client.handler._middleware_chain  # type: ignore[attr-defined]  # built on first use
    assert not out.exists()
    # MiddlewareNotUsed took both out of the chain: nothing of core.profiling runs per request.
    names = _chain_names(chain)
    assert not any("profiling" in name for name in names)
    assert any("SessionMiddleware" in name for name in names)


def _chain_names(handler: object) -> list[str]:
    """Class names of the middleware instances in a built chain (closures of Django's wrappers)."""
    names: list[str] = []
    seen: set[int] = set()
    todo = [handler]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        names.append(type(item).__module__ + "." + type(item).__name__)
        for cell in getattr(item, "__closure__", None) or ():
            todo.append(cell.cell_contents)
        get_response = getattr(item, "get_response", None)
        if get_response is not None:
            todo.append(get_response)
    return names


def test_api_call_is_recorded_with_its_phases_and_queries(
    cast: dict[str, User], tmp_path: Path
) -> None:
    out = tmp_path / "requests.jsonl"
    with override_settings(PROFILE_REQUESTS=True, PROFILE_REQUESTS_FILE=str(out)):
        client = _token_client(cast["police"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/inbox/?page_size=5&id_number=110101199003070011")
        counted = len(queries)
    assert response.status_code == 200
    [line] = _lines(out)
    assert line["method"] == "GET"
    assert line["route"] == "api:routing-inbox"
    assert line["status"] == 200
    assert line["auth"] == "token"
    assert line["queries"] == counted and counted > 0
    phases = line["phases"]
    assert isinstance(phases, dict) and set(phases) == set(PHASES)
    # Exclusive phases add up to the request's CPU (each rounded to a microsecond).
    assert abs(sum(phases.values()) - line["cpu_ms"]) < 0.01
    assert phases["serialization"] > 0 and phases["db"] > 0 and phases["middleware"] > 0
    assert phases["template"] == 0  # an API call renders no template
    assert line["db_wall_ms"] > 0
    # The route is the pattern's name: no path, no query string (the searched ID number).
    assert "110101199003070011" not in out.read_text(encoding="utf-8")


def test_page_request_counts_its_template_rendering(cast: dict[str, User], tmp_path: Path) -> None:
    out = tmp_path / "requests.jsonl"
    with override_settings(PROFILE_REQUESTS=True, PROFILE_REQUESTS_FILE=str(out)):
        client = Client()
        assert client.get("/accounts/login/").status_code == 200
        client.force_login(cast["police"])
        assert client.get("/inbox/").status_code == 200
    login, inbox = _lines(out)
    assert (login["route"], login["auth"]) == ("login", "none")
    assert login["phases"]["template"] > 0
    assert login["phases"]["serialization"] == 0
    assert (inbox["route"], inbox["auth"]) == ("routing:inbox", "session")
    assert inbox["status"] == 200


def test_summary_means_per_route() -> None:
    def line(route: str, cpu: float, view: float, queries: int, server: float | None) -> str:
        phases = dict.fromkeys(PHASES, 0.0)
        phases["view"], phases["middleware"] = view, cpu - view
        return json.dumps(
            {
                "method": "GET",
                "route": route,
                "cpu_ms": cpu,
                "wall_ms": cpu * 2,
                "phases": phases,
                "queries": queries,
                "db_wall_ms": 1.0,
                "db_server_cpu_ms": server,
            }
        )

    rows = summarize(
        [
            line("api:me", 4.0, 3.0, 5, 10.0),
            line("api:me", 6.0, 4.0, 3, None),
            "",
            line("api:routing-inbox", 20.0, 15.0, 4, 0.0),
        ]
    )
    assert [r["route"] for r in rows] == ["api:routing-inbox", "api:me"]  # 20 ms total before 10
    me = rows[1]
    assert me["n"] == 2
    assert me["cpu_ms"] == 5.0
    assert me["wall_ms"] == 10.0
    assert me["phases"]["view"] == 3.5 and me["phases"]["middleware"] == 1.5
    assert me["queries"] == 4.0
    assert me["db_server_cpu_ms"] == 10.0  # the mean of the requests that had a reading


def test_celery_workers_reuse_their_database_connections() -> None:
    """Celery's Django fixup closes the connections after every task unless CELERY_DB_REUSE_MAX
    is set: each notification task after a registration then opened a PostgreSQL backend."""
    from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # stubs lag

    from config.celery import app

    assert settings.CELERY_DB_REUSE_MAX == 100
    assert DjangoWorkerFixup(app).db_reuse_max == 100
