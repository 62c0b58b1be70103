"""The reports API: indicators, export jobs, bad input and scoping."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.models import PiiAccessLog
from reports.models import ExportJob

from .conftest import EXPECTED, EXPECTED_COUNTS, NOW, PERIOD

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/indicators/"
EXPORTS = "/api/v1/reports/exports/"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(cast):
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def test_indicators_endpoint_returns_the_documented_shape(scenario, api, cast):
    response = api(cast["supervisor"]).get(URL, PERIOD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"period", "indicators", "counts"}
    assert body["period"]["from"] == "2026-03-01" and body["period"]["to"] == "2026-03-31"
    assert body["counts"] == EXPECTED_COUNTS
    got = {i["code"]: (i["numerator"], i["denominator"]) for i in body["indicators"]}
    assert got == EXPECTED
    acceptance = body["indicators"][0]
    assert acceptance["code"] == "timely_acceptance" and acceptance["value"] == 0.75
    assert "分子" in acceptance["definition"]  # the definition text is Chinese


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to"),
        ({"from": "2010-01-01", "to": "2026-03-01"}, "to"),
        ({"from": "2026-13-01"}, "from"),
        ({"center": "abc"}, "center"),
        ({"law_related": "maybe"}, "law_related"),
        ({"department": "999999"}, "department"),
        ({"cessation_days": "0"}, "cessation_days"),
    ],
)
def test_bad_input_is_a_400_with_the_field(api, cast, params, field):
    response = api(cast["supervisor"]).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_ten_years_exactly_is_refused_but_just_under_is_fine(api, cast):
    client = api(cast["supervisor"])
    assert client.get(URL, {"from": "2016-01-01", "to": "2025-12-31"}).status_code == 200
    assert client.get(URL, {"from": "2016-01-01", "to": "2026-01-01"}).status_code == 400


def test_a_center_outside_the_scope_is_404(api, cast, org, county_supervisor):
    assert api(cast["supervisor"]).get(URL, {"center": org.other_province.pk}).status_code == 404
    assert api(county_supervisor).get(URL, {"center": org.city.pk}).status_code == 404
    assert api(county_supervisor).get(URL, {"center": org.county_b.pk}).status_code == 404
    assert api(county_supervisor).get(URL, {"center": 99999999}).status_code == 404
    assert api(county_supervisor).get(URL, {"center": org.county_a.pk}).status_code == 200


def test_only_report_roles_may_read(api, cast):
    assert api(cast["police"]).get(URL).status_code == 403
    assert api(cast["reception"]).get(URL).status_code == 403
    assert api(cast["archivist"]).get(URL).status_code == 200
    assert api(cast["leader"]).get(URL).status_code == 200
    assert APIClient().get(URL).status_code in (401, 403)


# --- exports -----------------------------------------------------------------------------------


def export(client, **body):
    payload = {"filters": PERIOD, "format": "xlsx"} | body
    return client.post(EXPORTS, payload, format="json")


def download(client, job_id):
    status = client.get(f"{EXPORTS}{job_id}/").json()
    assert status["status"] == "done", status
    response = client.get(status["download_url"])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_small_export_is_written_at_once_with_masked_ids(scenario, api, cast):
    client = api(cast["archivist"])
    response = export(
        client, columns=["number", "petitioner", "id_number", "state", "registered_at"]
    )
    assert response.status_code == 202
    job = response.json()
    assert set(job) >= {"id", "status"}
    status = client.get(f"{EXPORTS}{job['id']}/").json()
    assert status["status"] == "done" and status["progress"] == 1.0
    assert status["download_url"].endswith(f"/reports/exports/{job['id']}/download/")
    workbook = load_workbook(io.BytesIO(download(client, job["id"])))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("信访件编号", "信访人", "证件号码", "状态", "登记时间")
    assert len(rows) == 1 + EXPECTED_COUNTS["cases"]
    assert sheet.freeze_panes == "A2"
    numbers = {r[0] for r in rows[1:]}
    assert scenario.cases["c1"].number in numbers and scenario.cases["c7"].number not in numbers
    assert all("*" in r[2] for r in rows[1:])
    assert sheet.column_dimensions["A"].width == 20


def test_csv_export_has_a_bom_and_chinese_headers(scenario, api, cast):
    client = api(cast["supervisor"])
    job = export(client, format="csv", columns=["number", "state"]).json()
    raw = download(client, job["id"])
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["信访件编号", "状态"]
    assert len(rows) == 14


def test_full_id_numbers_need_the_role_and_are_logged(scenario, api, cast):
    archivist = export(api(cast["archivist"]), columns=["number", "id_number_full"])
    assert archivist.status_code == 400
    assert "columns" in archivist.json()
    client = api(cast["supervisor"])
    job = export(client, columns=["number", "id_number_full"]).json()
    rows = list(load_workbook(io.BytesIO(download(client, job["id"]))).active.values)
    assert all(len(r[1]) == 18 and "*" not in r[1] for r in rows[1:])
    assert PiiAccessLog.objects.filter(user=cast["supervisor"], field="id_number").count() == 13


def test_unknown_column_and_bad_filters_are_400_and_nothing_is_saved(scenario, api, cast):
    client = api(cast["supervisor"])
    response = export(client, columns=["number", "password"])
    assert response.status_code == 400
    assert "password" in str(response.json()["columns"])
    response = export(client, filters={"from": "2026-04-01", "to": "2026-03-01"})
    assert response.status_code == 400 and "to" in response.json()["filters"]
    assert export(client, format="pdf").status_code == 400
    assert export(client, filters={"state": ["nonsense"]}).status_code == 400
    assert not ExportJob.objects.exists()


def test_export_of_a_center_outside_the_scope_is_404(scenario, api, org, county_supervisor):
    response = export(api(county_supervisor), filters={**PERIOD, "center": org.city.pk})
    assert response.status_code == 404


def test_another_users_export_is_404(scenario, api, cast):
    job = export(api(cast["supervisor"]), columns=["number"]).json()
    other = api(cast["archivist"])
    assert other.get(f"{EXPORTS}{job['id']}/").status_code == 404
    assert other.get(f"{EXPORTS}{job['id']}/download/").status_code == 404
    assert other.get(f"/reports/exports/{job['id']}/download/").status_code in (302, 404)


def test_state_filter_narrows_the_ledger(scenario, api, cast):
    client = api(cast["supervisor"])
    job = export(client, columns=["number"], filters={**PERIOD, "state": ["replied"]}).json()
    rows = list(load_workbook(io.BytesIO(download(client, job["id"]))).active.values)
    assert len(rows) == 1 + 3  # c8, c9, c10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colums": ["number"]}, "colums"),  # a typo must not export the default columns
        ({"fromat": "csv"}, "fromat"),
        ({"owner": 1}, "owner"),
    ],
)
def test_unknown_body_keys_are_refused_with_the_field_named(scenario, api, cast, body, field):
    response = export(api(cast["supervisor"]), **body)
    assert response.status_code == 400
    assert field in response.json()
    assert "未知" in str(response.json()[field])  # the message is in the user's language
    assert not ExportJob.objects.exists()


def test_unknown_filter_keys_are_refused_with_the_field_named(scenario, api, cast):
    response = export(api(cast["supervisor"]), filters={**PERIOD, "centre": 1})
    assert response.status_code == 400
    assert "centre" in response.json()["filters"]
    assert not ExportJob.objects.exists()
