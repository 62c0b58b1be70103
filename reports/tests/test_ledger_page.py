"""The ledger page shows the ledger itself, a page at a time, read by the export's selector with
the export's filters (issue 17 §4)."""

from __future__ import annotations

import csv
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from petitions.models import Case
from petitions.states import CaseState
from reports.ledger import ledger_values
from reports.models import ExportJob
from reports.services import job_queryset

from .conftest import NOW, build_scenario

pytestmark = pytest.mark.django_db
QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def shown_cases(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="ledger-row" data-case="(\d+)"', html)]


def test_ledger_page_shows_the_cases_of_the_export_in_its_order(scenario, client, cast):
    client.force_login(cast["archivist"])
    html = client.get(f"/reports/ledger/?{QUERY}").content.decode()
    assert 'data-testid="ledger-table"' in html
    shown = shown_cases(html)
    assert len(shown) == 13
    case = Case.objects.get(pk=shown[0])
    assert case.number in html and "信访件编号" in html
    assert case.main_petitioner.id_number_masked in html  # masked, as in the file

    client.post(f"/reports/ledger/?{QUERY}", {"columns": ["number"], "format": "csv"})
    job = ExportJob.objects.get()
    assert [row[0] for row in ledger_values(job_queryset(job), job.columns)] == shown


def test_the_state_filter_narrows_the_table_and_the_export_alike(scenario, client, cast):
    client.force_login(cast["archivist"])
    url = f"/reports/ledger/?{QUERY}&state=closed"
    html = client.get(url).content.decode()
    shown = shown_cases(html)
    closed = set(
        Case.objects.filter(
            pk__in=shown_cases(client.get(f"/reports/ledger/?{QUERY}").content.decode())
        )
        .filter(state=CaseState.CLOSED)
        .values_list("pk", flat=True)
    )
    assert shown and set(shown) == closed
    assert 'type="hidden" name="state" value="closed"' in html  # the export carries it

    response = client.post(url, {"columns": ["number"], "format": "csv", "state": ["closed"]})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    download = client.get(f"/reports/exports/{job.pk}/download/")
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    numbers = [r[0] for r in csv.reader(io.StringIO(content))][1:]
    assert numbers == list(
        Case.objects.filter(pk__in=shown)
        .order_by("registered_at", "pk")
        .values_list("number", flat=True)
    )


def test_ledger_page_is_paginated(scenario, client, cast, monkeypatch):
    monkeypatch.setattr("reports.views.SCREEN_PAGE_SIZE", 5)
    client.force_login(cast["archivist"])
    first = client.get(f"/reports/ledger/?{QUERY}").content.decode()
    third = client.get(f"/reports/ledger/?{QUERY}&page=3").content.decode()
    assert len(shown_cases(first)) == 5 and len(shown_cases(third)) == 3
    assert 'data-testid="ledger-pager"' in first and 'rel="next"' in first
    assert 'data-count="13"' in third  # the count is of the whole ledger


def test_ledger_page_query_count_is_constant(org, cast, client):
    client.force_login(cast["archivist"])
    build_scenario(org, cast)
    client.get(f"/reports/ledger/?{QUERY}")  # warm the process caches
    with CaptureQueriesContext(connection) as small:
        client.get(f"/reports/ledger/?{QUERY}")
    build_scenario(org, cast)
    build_scenario(org, cast)
    with CaptureQueriesContext(connection) as big:
        html = client.get(f"/reports/ledger/?{QUERY}").content.decode()
    assert len(shown_cases(html)) == 39
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]
