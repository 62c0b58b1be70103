"""The dashboard writes its breakdown tables in Python (issue 10): the same markup as
supervision/_count_table.html."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

from supervision.selectors import AT_RISK_LEVELS
from supervision.views import LEVEL_LABELS, Cell, TableRow, count_table_html


def _same(html: str) -> str:
    """Markup with the template's layout whitespace taken out."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("rows", [0, 2])
def test_count_table_is_the_count_table_partial(rows):
    table = [
        TableRow(
            key=str(i),
            label=f"<部门 {i}>",
            detail="上级 & 下级" if i else "",
            cells=[
                Cell(level, i * n, f"/supervision/cases/?level={level}&x={i}" if n % 2 else "")
                for n, level in enumerate([*AT_RISK_LEVELS, "total"])
            ],
        )
        for i in range(rows)
    ]
    expected = render_to_string(
        "supervision/_count_table.html",
        {
            "rows": table,
            "testid": "by-x",
            "caption": "标题",
            "name_header": "名称",
            "levels": [(level, LEVEL_LABELS[level]) for level in AT_RISK_LEVELS],
        },
    )
    written = count_table_html(table, testid="by-x", caption="标题", name_header="名称")
    assert _same(written) == _same(expected)
