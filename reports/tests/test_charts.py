"""The charts of the reports page (issue 17 §4): axis labels that tell bars apart and read as
months, and a message instead of an empty frame."""

from __future__ import annotations

import json

import pytest
import time_machine

from reports.charts import department_labels, month_labels

from .conftest import NOW

pytestmark = pytest.mark.django_db
QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"
HEBEI = "涉法涉诉联合接访服务中心"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def chart_data(html: str) -> dict:
    start = html.index('id="report-data"')
    return json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])


def row(center: str, department: str) -> dict:
    return {
        "name": f"{center} · {department}",
        "center_name": center,
        "department_name": department,
    }


def test_departments_of_one_center_are_labelled_by_their_own_name():
    rows = department_labels(
        [row(f"石家庄市{HEBEI}", "公安局"), row(f"石家庄市{HEBEI}", "人民法院")]
    )
    assert [r["label"] for r in rows] == ["公安局", "人民法院"]
    assert rows[0]["name"] == f"石家庄市{HEBEI} · 公安局"  # the full name stays for the hover


def test_departments_of_several_centers_are_labelled_without_the_shared_words():
    rows = department_labels(
        [
            row(f"石家庄市{HEBEI}", "公安局"),
            row(f"井陉县{HEBEI}", "公安局"),
            row(f"正定县{HEBEI}", "人民法院"),
            {"name": "未交办", "center_name": "", "department_name": "未交办"},
        ]
    )
    assert [r["label"] for r in rows] == [
        "石家庄市 · 公安局",
        "井陉县 · 公安局",
        "正定县 · 人民法院",
        "未交办",
    ]


def test_a_label_two_departments_would_share_falls_back_to_the_full_name():
    rows = department_labels([row("甲中心", "公安局"), row("甲中心", "公安局")])
    assert [r["label"] for r in rows] == [r["name"] for r in rows]


def test_reports_page_labels_department_bars_by_what_tells_them_apart(scenario, client, cast):
    client.force_login(cast["supervisor"])
    data = chart_data(client.get(f"/reports/?{QUERY}").content.decode())
    labels = [r["label"] for r in data["by_department"]]
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    for r in data["by_department"] + [r for r in data["overdue"] if r["department"]]:
        assert r["label"] == r["department_name"]  # one center: the department's own name
        assert r["name"] == f"{scenario.org.city.name} · {r['department_name']}"


def test_month_labels_are_short_with_the_year_where_it_changes():
    rows = [{"month": m} for m in ("2025-11", "2025-12", "2026-01", "2026-02")]
    with pytest.MonkeyPatch.context():
        from django.utils import translation

        with translation.override("zh-hans"):
            labels = [r["label"] for r in month_labels(rows)]
    assert labels == ["2025年11月", "12月", "2026年1月", "2月"]


def test_reports_page_trend_carries_short_month_labels(scenario, client, cast):
    client.force_login(cast["supervisor"])
    html = client.get("/reports/?from=2026-01-01&to=2026-04-30").content.decode()
    data = chart_data(html)
    assert [r["label"] for r in data["trend"]] == ["2026年1月", "2月", "3月", "4月"]
    assert [r["month"] for r in data["trend"]][0] == "2026-01"  # the tooltip and table keep it


def test_an_empty_chart_says_so_instead_of_drawing_its_frame(scenario, client, cast):
    client.force_login(cast["supervisor"])
    html = client.get("/reports/?from=2020-01-01&to=2020-03-31").content.decode()
    for key in ("trend", "by_department", "by_center"):
        assert f'data-empty-chart="{key}"' in html
        assert f'data-chart="{key}"' not in html
    assert "本期无数据" in html
    # open cases today are a stock, not a figure of the period: that chart is still drawn
    assert 'data-chart="aging"' in html


def test_charts_with_figures_are_drawn(scenario, client, cast):
    client.force_login(cast["supervisor"])
    html = client.get(f"/reports/?{QUERY}").content.decode()
    for key in ("trend", "by_department", "aging", "by_center", "overdue"):
        assert f'data-chart="{key}"' in html
    assert "data-empty-chart" not in html
