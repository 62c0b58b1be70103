"""The read replica router (core.dbrouter, issue 21 §5).

The ``replica`` alias of the test settings is Django's test mirror of ``default``: the same test
database over a second connection. A mirror is not in the test's transaction, so these tests are
transactional (their rows are committed where the replica connection sees them), and they switch
the router on themselves: the rest of the suite runs without it, as a deployment without
DATABASE_REPLICA_URL does.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from campaigns.tests.conftest import (  # noqa: F401 - fixtures
    _seeded_calendar_and_rules,
    at_now,
    make_campaign,
    make_case,
    make_matter,
)
from core.dbrouter import (
    REPLICA,
    ReplicaRouter,
    replica_configured,
    use_primary,
    use_replica,
)
from petitions.models import Case
from petitions.testing import register
from reports.models import ExportJob
from reports.services import open_export, run_export
from reports.tests.conftest import NOW, PERIOD, build_scenario

ROOT = Path(__file__).resolve().parent.parent
QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"
# Read before the view's scope opens (session, user, roles) or by the in-process caches
# (core.codecache: the organisation tree, code tables): these stay on the primary.
FRAME_TABLES = ("django_session", "core_user", "core_userrole", "authtoken_token", "core_center")

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def router(settings):
    settings.DATABASE_ROUTERS = ["core.dbrouter.ReplicaRouter"]


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


class Both:
    """Queries of one block on each connection."""

    def __enter__(self) -> Both:
        self.primary = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections[REPLICA])
        self.primary.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    def primary_sql(self) -> list[str]:
        return [q["sql"] for q in self.primary.captured_queries]

    def replica_sql(self) -> list[str]:
        return [q["sql"] for q in self.replica.captured_queries]


def reads_cases(sql: list[str]) -> int:
    return sum('"petitions_case"' in s for s in sql)


# --- (a) the marked screens read on the replica -------------------------------------------------


def test_the_reports_page_reads_on_the_replica(router, now, org, cast, client):
    build_scenario(org, cast)
    client.force_login(cast["supervisor"])
    with Both() as q:
        response = client.get(f"/reports/?{QUERY}")
    assert response.status_code == 200
    # The hand-computed figure of the scenario (reports/tests/conftest.py): read on the replica.
    assert "75.0%" in response.content.decode()
    assert reads_cases(q.replica_sql()) >= 1
    assert reads_cases(q.primary_sql()) == 0


def test_the_indicators_api_reads_on_the_replica_after_authenticating_on_the_primary(
    router, now, org, cast, client
):
    build_scenario(org, cast)
    client.force_login(cast["supervisor"])
    with Both() as q:
        response = client.get(f"/api/v1/reports/indicators/?{QUERY}")
    assert response.status_code == 200
    (timely,) = [i for i in response.json()["indicators"] if i["code"] == "timely_acceptance"]
    assert (timely["numerator"], timely["denominator"]) == (3, 4)
    assert reads_cases(q.replica_sql()) >= 1 and reads_cases(q.primary_sql()) == 0
    # The session and the user: on the primary, before the scope (a fresh login may not have
    # reached the replica yet).
    assert q.primary_sql()[0].startswith('SELECT "core_user"')
    assert not any(t in s for s in q.replica_sql() for t in ("django_session", '"core_user"'))
    # The organisation tree is an in-process cache (core.orgcache): loaded on the primary.
    assert any(s.startswith('SELECT "core_center"') for s in q.primary_sql())


def test_the_supervisor_dashboard_reads_on_the_replica(router, now, org, cast, client):
    build_scenario(org, cast)
    client.force_login(cast["supervisor"])
    with Both() as q:
        response = client.get("/supervision/")
    assert response.status_code == 200
    assert len(q.replica_sql()) >= 1
    touched = [s for s in q.primary_sql() if not any(t in s for t in FRAME_TABLES)]
    assert touched == []


@pytest.mark.usefixtures("at_now")
def test_the_campaign_summary_api_and_its_pdf_read_on_the_replica(router, cast, client, request):
    new_campaign = request.getfixturevalue("make_campaign")
    new_matter = request.getfixturevalue("make_matter")
    campaign = new_campaign()
    for _ in range(3):
        new_matter(campaign)
    client.force_login(cast["supervisor"])
    with Both() as q:
        response = client.get(f"/api/v1/campaigns/{campaign.pk}/summary/")
    assert response.status_code == 200 and response.json()["handed_down"] == 3
    assert any('"campaigns_matter"' in s for s in q.replica_sql())
    assert not any('"campaigns_matter"' in s for s in q.primary_sql())
    with Both() as q:
        pdf = client.get(f"/campaigns/{campaign.pk}/summary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert any('"campaigns_matter"' in s for s in q.replica_sql())
    assert not any('"campaigns_matter"' in s for s in q.primary_sql())


def test_a_ledger_export_streams_its_rows_from_the_replica_and_writes_on_the_primary(
    router, now, org, cast
):
    build_scenario(org, cast)
    job = ExportJob.objects.create(
        owner=cast["supervisor"], format="xlsx", columns=["number", "petitioner"], filters=PERIOD
    )
    with Both() as q:
        run_export(job.pk)
    job.refresh_from_db()
    assert job.state == "done" and job.rows_written == 13
    with open_export(job) as handle:
        rows = list(load_workbook(io.BytesIO(handle.read())).active.values)
    assert len(rows) == 14  # the header and the scenario's 13 cases of March
    # The rows: one server-side cursor on the replica (the visibility subquery of the job's
    # selector is built on the primary before the stream starts).
    assert [s.startswith("DECLARE") and '"petitions_case"' in s for s in q.replica_sql()] == [True]
    assert not any(s.startswith("DECLARE") for s in q.primary_sql())
    # the claim and the result: guarded UPDATEs of the job, on the primary only
    assert sum(s.startswith('UPDATE "reports_exportjob"') for s in q.primary_sql()) == 2
    assert not any(s.startswith(("UPDATE", "INSERT", "DELETE")) for s in q.replica_sql())


# --- (b) write paths never read on the replica ----------------------------------------------------


def test_registering_a_case_inside_a_replica_scope_reads_nothing_there(router, cast):
    register(cast["reception"])  # warm the code caches (their loads are on the primary anyway)
    with use_replica(), Both() as q:
        case = register(cast["reception"]).case
    assert q.replica_sql() == []
    assert sum('INSERT INTO "petitions_case"' in s for s in q.primary_sql()) == 1
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.usefixtures("at_now")
def test_a_service_inside_a_replica_scope_reads_and_locks_on_the_primary(router, cast, request):
    new_campaign = request.getfixturevalue("make_campaign")
    new_matter = request.getfixturevalue("make_matter")
    campaign = new_campaign()
    with use_replica(), Both() as q:
        new_matter(campaign)  # hand_down_matter: locks, history, the case event
    assert q.replica_sql() == []
    assert any("FOR UPDATE" in s for s in q.primary_sql())


def test_reads_after_a_write_in_the_scope_and_inside_atomic_stay_on_the_primary(router, cast):
    register(cast["reception"])
    with use_replica():
        with Both() as q:
            assert Case.objects.count() == 1
        assert len(q.replica_sql()) == 1 and q.primary_sql() == []
        with Both() as q, transaction.atomic():
            assert Case.objects.count() == 1
        assert q.replica_sql() == []
        with Both() as q, use_primary():
            assert Case.objects.count() == 1
        assert q.replica_sql() == []
        cast["reception"].save(update_fields=["full_name"])  # a write of the scope
        with Both() as q:
            assert Case.objects.count() == 1
        assert q.replica_sql() == [] and len(q.primary_sql()) == 1


def test_a_post_to_a_marked_view_is_a_write_path_on_the_primary(router, now, org, cast, client):
    build_scenario(org, cast)
    client.force_login(cast["archivist"])
    with Both() as q:
        response = client.post(
            f"/reports/ledger/?{QUERY}", {"columns": ["number"], "format": "csv"}
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.state == "done" and job.rows_written == 13
    # The job and its checks on the primary; only the small export written inline streamed its
    # rows from the replica (reports.services.run_export).
    assert sum(s.startswith('INSERT INTO "reports_exportjob"') for s in q.primary_sql()) == 1
    assert not any("reports_exportjob" in s for s in q.replica_sql())


# --- (c) no replica configured: everything on the primary -------------------------------------------


def test_without_the_router_every_query_runs_on_the_primary(now, org, cast, client):
    build_scenario(org, cast)
    client.force_login(cast["supervisor"])
    with Both() as q:
        assert client.get(f"/reports/?{QUERY}").status_code == 200
        assert client.get("/supervision/").status_code == 200
    assert q.replica_sql() == [] and reads_cases(q.primary_sql()) >= 1


def test_the_router_without_a_replica_alias_answers_default():
    class Unconfigured(ReplicaRouter):
        replica_alias = "absent"

    with use_replica():
        assert Unconfigured().db_for_read(Case) == "default"
        assert ReplicaRouter().db_for_read(Case) == REPLICA
    assert ReplicaRouter().db_for_read(Case) == "default"
    assert ReplicaRouter().db_for_write(Case) == "default"
    assert ReplicaRouter().allow_migrate(REPLICA, "petitions") is False
    assert ReplicaRouter().allow_migrate("default", "petitions") is True
    assert replica_configured()


def _settings_from_env(**extra: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 60,
        PII_KEY="y" * 60,
        ALLOWED_HOSTS="petition.example",
        DATABASE_URL="postgres://petition:pw@db:5432/petition",
        REDIS_URL="redis://redis:6379/0",
        **extra,
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'aliases': sorted(s.DATABASES), 'routers': s.DATABASE_ROUTERS,"
        " 'replica': s.DATABASES.get('replica')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_replica_and_its_router_come_from_database_replica_url():
    without = _settings_from_env()
    assert without == {"aliases": ["default"], "routers": [], "replica": None}
    with_replica = _settings_from_env(
        DATABASE_REPLICA_URL="postgres://petition_ro:pw@db-replica:5432/petition"
    )
    assert with_replica["aliases"] == ["default", "replica"]
    assert with_replica["routers"] == ["core.dbrouter.ReplicaRouter"]
    replica = with_replica["replica"]
    assert isinstance(replica, dict)
    assert (replica["HOST"], replica["USER"], replica["TEST"]["MIRROR"]) == (
        "db-replica",
        "petition_ro",
        "default",
    )
