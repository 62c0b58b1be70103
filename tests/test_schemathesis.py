"""API fuzzing (issue 11): schemathesis generates requests from the OpenAPI schema (/api/schema/,
drf-spectacular) for every operation, as a triage user and as a department officer, against the
WSGI app in the test's transaction (a world of conftest cases, path ids filled with real objects of
the viewer's center). Every response: no 5xx, and a documented response conforms to its schema.
Bounded: a few examples per operation and role (FUZZ_EXAMPLES, default 4), no deadline, so the
whole run takes a few minutes inside `make test`."""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.security.conftest import World, build_world
from tests.security.test_security_matrix import ENTRIES

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Operations that log the caller out, or that only answer for someone without a session.
SKIP = {("POST", "/api/v1/auth/token/"), ("DELETE", "/api/v1/auth/token/")}


@pytest.fixture
def fuzz_world(org, cast) -> World:
    return build_world(org, cast)


@pytest.fixture
def keep_connection():
    """Like django.test.Client: the WSGI handler must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


def _path_ids(world: World, path: str) -> dict[str, Any]:
    if "{" not in path:
        return {}
    # Any path parameter ({id}, {mid}, {case_id}...) stands for an id: 1 resolves to the pattern.
    match = resolve(re.sub(r"\{\w+\}", "1", path))
    name = ":".join(filter(None, [match.namespace, match.url_name]))
    entry = ENTRIES[name]
    assert entry.kwargs is not None
    # The schema names the path parameter {id}; the URL pattern names it pk.
    return {"id" if k == "pk" else k: v for k, v in entry.kwargs(world.city).items()}


@pytest.mark.parametrize("role", ["triage", "police"])
def test_fuzz_the_api(fuzz_world: World, role: str, keep_connection: None):
    user = fuzz_world.cast[role]
    key = Token.objects.get_or_create(user=user)[0].key
    headers = {"Authorization": f"Token {key}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [r.ok() for r in _schema().get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        strategy = operation.as_strategy(
            path_parameters=_path_ids(fuzz_world, operation.path), headers=headers
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call()
            statuses[response.status_code] += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    # The run reached the handlers: successes as well as refusals (not only 401s or 404s).
    assert statuses[200] + statuses[201] > 20, statuses
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)
