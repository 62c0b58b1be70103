"""Mass assignment and workflow bypass (issue 11), over every API write endpoint of a case.

Every case-level POST of the API is called by each working role of the city center on cases in
several states (registered, in handling, replied, under review), with a body full of fields that
no client may set (state, center, version, due dates, created_by, registered_by, is_archived,
number, ...) next to the right ``expected_version``. Whatever the endpoint does with the rest:
- never a 5xx;
- the protected columns of the case keep their values (the extra fields are refused or ignored);
- a state change is always one edge of ``petitions.states.TRANSITIONS``: no action skips a state.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from closure.testing import bring_to_handling, bring_to_replied
from petitions.models import Case
from petitions.states import TRANSITIONS
from petitions.testing import register

from .conftest import World
from .test_security_matrix import CASE, ENTRIES

pytestmark = pytest.mark.django_db

EDGES = {(source, t.target) for t in TRANSITIONS.values() for source in t.sources}
ACTORS = ("reception", "triage", "police", "head", "supervisor", "archivist")
PROTECTED = ("center_id", "number", "registered_by_id", "registered_at", "origin_center_id")
# Every API endpoint addressed by a case id (the matrix's CASE entries).
CASE_WRITES = sorted(
    name for name, entry in ENTRIES.items() if name.startswith("api:") and entry is CASE
)


def smuggled(world: World, case: Case) -> dict[str, Any]:
    other = world.org.other_province.pk
    outsider = world.cast["outsider"].pk
    return {
        "expected_version": case.version,
        "state": "archived",
        "center": other,
        "center_id": other,
        "origin_center": other,
        "version": 999,
        "due_at": "2030-01-01T00:00:00Z",
        "next_due_at": "2030-01-01T00:00:00Z",
        "closed_at": "2020-01-01T00:00:00Z",
        "registered_at": "2020-01-01T00:00:00Z",
        "created_by": outsider,
        "registered_by": outsider,
        "is_archived": True,
        "number": "伪造-0001",
        "id": 1,
    }


def protected(case: Case) -> tuple[Any, ...]:
    return tuple(getattr(case, f) for f in PROTECTED)


def test_write_endpoints_ignore_protected_fields_and_never_skip_a_state(world: World):
    c = world.cast
    cases = [
        register(c["reception"]).case,
        bring_to_handling(reception=c["reception"], triage=c["triage"], officer=c["police"]),
        bring_to_replied(
            reception=c["reception"], triage=c["triage"], officer=c["police"], head=c["head"]
        ).case,
        world.city.case,  # under review
    ]
    assert {k.state for k in cases} >= {"registered", "handling", "replied", "review"}
    clients = {}
    for name in ACTORS:
        clients[name] = Client()
        clients[name].force_login(c[name])
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    for case in cases:
        for name in CASE_WRITES:
            url = reverse(name, kwargs={"pk": case.pk})
            for actor, client in clients.items():
                before = Case.objects.get(pk=case.pk)
                response = client.post(
                    url, smuggled(world, before), content_type="application/json"
                )
                statuses[response.status_code] += 1
                after = Case.objects.get(pk=case.pk)
                where = f"{actor} POST {url} ({name}) in {before.state}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                if after.state != before.state and (before.state, after.state) not in EDGES:
                    problems.append(f"{where}: skipped from {before.state} to {after.state}")
                if protected(after) != protected(before) and name != "api:routing-transfer":
                    problems.append(f"{where}: protected fields changed")
                if after.version == 999 or after.number == "伪造-0001":
                    problems.append(f"{where}: took the smuggled version or number")
    assert not problems, "\n".join(problems)
    # The guards were exercised: state and version conflicts, role refusals, field errors.
    assert statuses[409] and statuses[403] and statuses[400], statuses
