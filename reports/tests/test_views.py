"""The report pages in Chinese: indicators and charts, ledger export, league table, staff record,
bulletin and notice (HTML and PDF), and law-enforcement suggestions with responses."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from core.models import DepartmentKind
from reports.models import EnforcementSuggestion, ExportJob

from .conftest import NOW, build_scenario

pytestmark = pytest.mark.django_db
QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def login(client):
    def as_(user):
        client.force_login(user)
        return client

    return as_


def test_reports_page_shows_indicators_with_definitions_and_chart_data(scenario, login, cast):
    response = login(cast["supervisor"]).get(f"/reports/?{QUERY}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "及时受理率" in html and "75.0%" in html and "分子" in html
    assert 'id="report-data"' in html and "<script>" not in html
    start = html.index('id="report-data"')
    payload = html[html.index(">", start) + 1 : html.index("</script>", start)]
    data = json.loads(payload)
    assert {r["month"] for r in data["trend"]} == {"2026-03"}
    assert data["trend"][0]["registered"] == 13
    assert sum(b["count"] for b in data["aging"]) > 0
    assert any(r["count"] for r in data["overdue"])
    assert "vendor/echarts/echarts-5.6.0.common.min.js" in html


def test_reports_page_query_count_is_constant(org, cast, login):
    client = login(cast["supervisor"])
    build_scenario(org, cast)
    client.get(f"/reports/?{QUERY}")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/reports/?{QUERY}")
    build_scenario(org, cast)
    build_scenario(org, cast)
    with CaptureQueriesContext(connection) as big:
        assert client.get(f"/reports/?{QUERY}").status_code == 200
    assert len(big) == len(small)


@pytest.mark.parametrize("name", ["police", "reception", "triage", "head"])
def test_other_roles_may_not_open_reports(login, cast, name):
    assert login(cast[name]).get("/reports/").status_code == 403


def test_bad_filters_show_a_message_not_an_error(login, cast, org):
    client = login(cast["supervisor"])
    response = client.get("/reports/?from=2026-04-01&to=2026-03-01")
    assert response.status_code == 200
    assert "截止日期早于起始日期" in response.content.decode()
    assert client.get(f"/reports/?center={org.other_province.pk}").status_code == 404


def test_ledger_page_exports_and_downloads(scenario, login, cast):
    client = login(cast["archivist"])
    page = client.get(f"/reports/ledger/?{QUERY}")
    assert page.status_code == 200 and 'data-count="13"' in page.content.decode()
    response = client.post(
        f"/reports/ledger/?{QUERY}", {"columns": ["number", "id_number"], "format": "xlsx"}
    )
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{job.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "data-export-status-url" in detail
    download = client.get(f"/reports/exports/{job.pk}/download/")
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    assert len(rows) == 14
    assert login(cast["supervisor"]).get(f"/reports/exports/{job.pk}/").status_code == 404


def test_ledger_page_refuses_full_ids_for_an_archivist(scenario, login, cast):
    client = login(cast["archivist"])
    html = client.get(f"/reports/ledger/?{QUERY}").content.decode()
    assert "id_number_full" not in html
    client.post(f"/reports/ledger/?{QUERY}", {"columns": ["id_number_full"], "format": "csv"})
    assert not ExportJob.objects.exists()


def test_league_table_ranks_departments(scenario, login, cast):
    html = login(cast["leader"]).get(f"/reports/league/?{QUERY}").content.decode()
    police = scenario.police.pk
    assert f'data-department="{police}" data-rank="1"' in html


def test_staff_record_is_printable(scenario, login, cast):
    client = login(cast["supervisor"])
    html = client.get(f"/reports/staff/?{QUERY}").content.decode()
    assert f'data-user="{cast["police"].pk}"' in html
    record = client.get(f"/reports/staff/{cast['police'].pk}/?{QUERY}")
    assert record.status_code == 200
    text = record.content.decode()
    assert 'data-testid="handled">4<' in text and scenario.cases["c1"].number in text
    assert client.get(f"/reports/staff/{cast['supervisor'].pk}/?{QUERY}").status_code == 404


def test_staff_record_prints_as_pdf_and_exports_as_csv(scenario, login, cast):
    """The staff record has a PDF and a CSV with the page's own facts and cases (issue 17 §4),
    in the same scope: another center's supervisor gets the same 404 as for a stranger."""
    client = login(cast["supervisor"])
    url = f"/reports/staff/{cast['police'].pk}/?{QUERY}"
    html = client.get(url).content.decode()
    assert 'data-testid="staff-pdf"' in html and 'data-testid="staff-csv"' in html
    pdf = client.get(url + "&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "人员工作记录" in text
    assert scenario.cases["c1"].number in text and "：4" in text.replace(" ", "")
    csv = client.get(url + "&format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert "承办件数,4" in rows
    assert sum(scenario.cases["c1"].number in r for r in rows) == 1
    outsider = login(cast["outsider"])
    assert outsider.get(url + "&format=csv").status_code in (403, 404)


def test_bulletin_and_notice_pages_and_pdfs(scenario, login, cast):
    client = login(cast["supervisor"])
    html = client.get("/reports/bulletin/?month=2026-03").content.decode()
    assert "信访工作简报（2026-03）" in html and scenario.cases["c2"].number in html
    notice = client.get("/reports/notice/?month=2026-03").content.decode()
    assert "现予通报" in notice and scenario.police.name in notice
    pdf = client.get("/reports/bulletin/?month=2026-03&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "信访工作简报" in text and "及时受理率" in text
    pdf = client.get("/reports/notice/?month=2026-03&format=pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "信访工作通报" in text
    assert client.get("/reports/bulletin/?month=2026-13").status_code == 404


def test_suggestion_sent_answered_by_the_head_only(org, cast, login):
    client = login(cast["supervisor"])
    police = org.dept(org.city, DepartmentKind.POLICE)
    due = (date(2026, 6, 15) + timedelta(days=15)).isoformat()
    response = client.post(
        "/reports/suggestions/",
        {
            "department": police.pk,
            "title": "关于规范执法告知的建议",
            "problems": "多件信访反映未告知救济途径。",
            "suggestions": "建议统一告知书格式。",
            "response_due": due,
        },
    )
    item = EnforcementSuggestion.objects.get()
    assert response.status_code == 302
    assert item.number == "执法建议〔2026〕1号"
    # another department's head cannot see it; the police head answers it
    assert login(cast["police"]).get(f"/reports/suggestions/{item.pk}/").status_code == 200
    other_head = __import__("conftest").make_user(
        "court_head", org.city, ["head"], org.dept(org.city, DepartmentKind.COURT)
    )
    assert login(other_head).get(f"/reports/suggestions/{item.pk}/").status_code == 404
    police_officer = login(cast["police"])
    assert (
        police_officer.post(f"/reports/suggestions/{item.pk}/", {"response": "x"}).status_code
        == 403
    )
    head = login(cast["head"])
    head.post(f"/reports/suggestions/{item.pk}/", {"response": "已统一告知书格式并培训。"})
    item.refresh_from_db()
    assert item.state == "responded" and item.responded_by == cast["head"]
    from clocks.models import Notification

    notes = Notification.objects.filter(title__startswith=item.number)
    assert {(n.audience_role, n.audience_department_id) for n in notes} == {
        ("head", police.pk),
        ("supervisor", None),
    }
    listing = login(cast["supervisor"]).get("/reports/suggestions/").content.decode()
    assert 'class="state-responded"' in listing


def test_suggestion_bad_input_keeps_nothing(org, cast, login):
    client = login(cast["supervisor"])
    response = client.post(
        "/reports/suggestions/",
        {
            "department": org.dept(org.county_a, DepartmentKind.POLICE).pk,
            "title": "",
            "problems": "",
            "suggestions": "",
            "response_due": "2020-01-01",
        },
    )
    assert response.status_code == 200
    assert not EnforcementSuggestion.objects.exists()
