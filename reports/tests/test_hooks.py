"""reports.hooks: sections of the reports page and ledger columns given by the apps above.

The providers and columns here are the tests' own (reports imports no app above it); outreach's
real ones are tested against a hand count in outreach/tests/test_report_sections.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from petitions.models import Case, CaseEvent
from reports import hooks
from reports.filters import ReportFilters
from reports.hooks import ReportSection, SectionRow, SectionTable, SectionTableRow
from reports.ledger import Column, all_columns, ledger_cases, ledger_values
from reports.services import open_export, start_export

from .conftest import NOW, PERIOD

pytestmark = pytest.mark.django_db
QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"
MARKER = "test_hook_marker"


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _own_registry() -> Iterator[None]:
    """Each test registers its own providers and columns; the apps' ones are put back after."""
    sections, columns = list(hooks._section_providers), list(hooks._ledger_columns)
    yield
    hooks._section_providers[:] = sections
    hooks._ledger_columns[:] = columns


def marker_count() -> Coalesce:
    counted = (
        CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=MARKER)
        .order_by()
        .values("case_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


MARKER_COLUMN = Column(
    "test_markers", "标记次数", "test_markers", 8, annotation=marker_count, screen=True
)


def mark(case: Case, times: int) -> None:
    for _ in range(times):
        CaseEvent.objects.create(case=case, kind=MARKER, at=NOW)


class Provider:
    """A section giving the number of scoped centers, with text that must come out escaped."""

    def __init__(self) -> None:
        self.calls: list[ReportFilters] = []

    def __call__(self, f: ReportFilters) -> ReportSection:
        self.calls.append(f)
        return ReportSection(
            code="test_section",
            title="测试<b>栏目</b>",
            rows=(
                SectionRow("centers", "中心数", len(f.center_ids), str(len(f.center_ids)), "<i>"),
            ),
            tables=(
                SectionTable(
                    code="by_center",
                    caption="按中心",
                    label_header="中心",
                    headers=("数",),
                    rows=(SectionTableRow("<script>alert(1)</script>", ("1",)),),
                ),
            ),
        )


def test_a_section_is_rendered_escaped_with_the_viewers_scope(
    org: Any, cast: Any, client: Any
) -> None:
    provider = Provider()
    hooks.register_report_section(provider)
    hooks.register_report_section(provider)  # once only
    client.force_login(cast["supervisor"])
    html = client.get(f"/reports/?{QUERY}").content.decode()
    assert html.count('data-section="test_section"') == 1
    # the city with its two counties
    assert 'data-code="centers" data-value="3"' in html
    assert "测试&lt;b&gt;栏目&lt;/b&gt;" in html and "<b>栏目" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;i&gt;" in html
    assert set(provider.calls[0].center_ids) == {
        org.city.pk,
        org.county_a.pk,
        org.county_b.pk,
    }


def test_a_provider_returning_none_adds_nothing(cast: Any, client: Any) -> None:
    hooks._section_providers[:] = [lambda f: None]
    client.force_login(cast["supervisor"])
    html = client.get(f"/reports/?{QUERY}").content.decode()
    assert 'data-testid="report-section"' not in html


def test_sections_are_cached_by_the_filters(cast: Any, client: Any, settings: Any) -> None:
    settings.REPORTS_CACHE_SECONDS = 300
    provider = Provider()
    hooks._section_providers[:] = [provider]
    client.force_login(cast["supervisor"])
    client.get(f"/reports/?{QUERY}")
    client.get(f"/reports/?{QUERY}")
    assert len(provider.calls) == 1
    client.get("/reports/?from=2026-03-01&to=2026-03-30&cessation_days=30")
    assert len(provider.calls) == 2


def test_a_column_code_is_taken_once() -> None:
    with pytest.raises(ValueError, match="taken"):
        hooks.register_ledger_columns([Column("number", "x", "x", 8, annotation=marker_count)])
    with pytest.raises(ValueError, match="annotation"):
        hooks.register_ledger_columns([Column("test_plain", "x", "x", 8)])
    hooks.register_ledger_columns([MARKER_COLUMN])
    hooks.register_ledger_columns([MARKER_COLUMN])  # the same column again: nothing
    assert [c.code for c in all_columns()].count("test_markers") == 1
    clash = Column("test_markers", "y", "y", 8, annotation=marker_count)
    with pytest.raises(ValueError, match="taken"):
        hooks.register_ledger_columns([clash])


def test_a_registered_column_is_one_query_and_counts_per_case(scenario: Any, cast: Any) -> None:
    hooks.register_ledger_columns([MARKER_COLUMN])
    c = scenario.cases
    mark(c["c1"], 2)
    mark(c["c3"], 1)
    from reports.filters import parse_filters

    filters, _form = parse_filters(
        {"from": "2026-03-01", "to": "2026-03-31"}, user=cast["supervisor"]
    )
    assert filters is not None
    qs = ledger_cases(viewer=cast["supervisor"], filters=filters)
    with CaptureQueriesContext(connection) as queries:
        rows = {r[2]: r[3] for r in ledger_values(qs, ["number", "test_markers"])}
    assert len(queries) == 1
    assert rows[c["c1"].number] == 2 and rows[c["c3"].number] == 1
    assert sum(rows.values()) == 3 and len(rows) == 13


def test_a_registered_column_is_on_the_ledger_page_and_in_the_files(
    scenario: Any, cast: Any, client: Any
) -> None:
    hooks.register_ledger_columns([MARKER_COLUMN])
    mark(scenario.cases["c1"], 2)
    client.force_login(cast["supervisor"])
    page = client.get(f"/reports/ledger/?{QUERY}").content.decode()
    assert '<th scope="col">标记次数</th>' in page
    assert 'value="test_markers"' in page  # a choice of the export form
    job = start_export(
        actor=cast["supervisor"], filters=PERIOD, columns=["number", "test_markers"], fmt="csv"
    )
    assert job.state == "done", job.error
    with open_export(job) as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert rows[0] == ["信访件编号", "标记次数"]
    counts = dict(rows[1:])
    assert counts[scenario.cases["c1"].number] == "2"
    assert sum(int(n) for n in counts.values()) == 2


def test_the_api_accepts_a_registered_column(scenario: Any, cast: Any) -> None:
    from rest_framework.test import APIClient

    hooks.register_ledger_columns([MARKER_COLUMN])
    client = APIClient()
    client.force_authenticate(cast["supervisor"])
    body = {"filters": PERIOD, "format": "csv", "columns": ["number", "test_markers"]}
    response = client.post("/api/v1/reports/exports/", body, format="json")
    assert response.status_code == 202, response.json()
    body["columns"] = ["number", "test_unknown"]
    response = client.post("/api/v1/reports/exports/", body, format="json")
    assert response.status_code == 400 and "test_unknown" in str(response.json()["columns"])
