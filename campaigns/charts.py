"""The campaign page's charts, drawn on the server as SVG (templates/campaigns/_bar_chart.html):
the geometry is computed here, the markup lives in the template, and the page needs no script
(the Content-Security-Policy allows none inline, and nothing is fetched from outside).

A chart is horizontal grouped bars, one group per row of a breakdown (center, department,
leader, week) and one bar per figure (handed down, resolved, ceased). Labels are shortened as
the reports' charts do (reports.charts); the full name is the bar's tooltip and stays in the
table beside the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.charts import short_center_names

WIDTH = 560
LABEL_WIDTH = 150
VALUE_GAP = 34  # room right of the longest bar for its number
BAR_HEIGHT = 9
BAR_GAP = 2
ROW_GAP = 12
TOP = 26  # the legend's line
LABEL_CHARS = 10


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str  # the bar's class in campaigns.css (its fill)


@dataclass(frozen=True)
class Bar:
    series: Series
    value: int
    x: int
    y: int
    width: int
    height: int
    text_x: int
    text_y: int


@dataclass(frozen=True)
class ChartRow:
    label: str
    title: str
    label_y: int
    bars: list[Bar]


@dataclass
class Chart:
    width: int
    height: int
    label_width: int
    rows: list[ChartRow] = field(default_factory=list)
    legend: list[tuple[Series, int]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(b.value for r in self.rows for b in r.bars)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def bar_chart(
    rows: Sequence[dict[str, Any]], series: Sequence[Series], *, labels: Sequence[str]
) -> Chart:
    """Grouped horizontal bars for ``rows`` (each a breakdown row with the series' keys),
    labelled by ``labels`` (one per row, already short where they can be)."""
    top = max((int(r.get(s.key) or 0) for r in rows for s in series), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_GAP
    group = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    chart = Chart(
        width=WIDTH,
        height=TOP + len(rows) * (group + ROW_GAP) + 4,
        label_width=LABEL_WIDTH - 8,
    )
    x = 0
    for s in series:
        chart.legend.append((s, x))
        x += 24 + 14 * len(s.label) + 16
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y0 = TOP + i * (group + ROW_GAP)
        bars = []
        for j, s in enumerate(series):
            value = int(row.get(s.key) or 0)
            width = round(span * value / top)
            y = y0 + j * (BAR_HEIGHT + BAR_GAP)
            bars.append(
                Bar(
                    series=s,
                    value=value,
                    x=LABEL_WIDTH,
                    y=y,
                    width=width,
                    height=BAR_HEIGHT,
                    text_x=LABEL_WIDTH + width + 4,
                    text_y=y + BAR_HEIGHT - 1,
                )
            )
        chart.rows.append(
            ChartRow(
                label=_short(label),
                title=str(row.get("name") or label),
                label_y=y0 + group // 2 + 5,
                bars=bars,
            )
        )
    return chart


def center_labels(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Center names without the ending every center shares ("…涉法涉诉联合接访服务中心")."""
    short = short_center_names(str(r["name"] or "") for r in rows)
    return [short.get(str(r["name"] or ""), str(r["name"] or "")) for r in rows]
