"""The list pages write their cells with Jinja2 macros (issue 21, templates/jinja2/routing/
_cells.html): the same markup as the Django partials the other pages still include
(routing/_clock.html, routing/_flags.html)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from core.jinja2 import engine
from routing.selectors import clock_for


def clock_html(clock):
    return str(engine().env.get_template("routing/_cells.html").module.clock(clock))  # type: ignore[attr-defined]


def flags_html(case):
    return str(engine().env.get_template("routing/_cells.html").module.flags(case))  # type: ignore[attr-defined]


def _same(html: str) -> str:
    """Markup with the template's layout whitespace taken out."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("offset", [None, -3, -0.1, 0.2, 1, 2, 9])
def test_clock_cell_is_the_clock_partial(offset, language):
    clock = None if offset is None else clock_for(NOW + timedelta(days=offset), NOW)
    with translation.override(language):
        expected = render_to_string("routing/_clock.html", {"clock": clock})
        assert _same(clock_html(clock)) == _same(expected)


@pytest.mark.parametrize("visits", [1, 2, 5])
@pytest.mark.parametrize(
    "flags", [(), ("is_group",), ("is_major_urgent", "is_safety_risk", "is_skip_level")]
)
def test_flags_cell_is_the_flags_partial(flags, visits):
    names = ("is_group", "is_major_urgent", "is_safety_risk", "is_skip_level")
    case = SimpleNamespace(visit_count=visits, **{n: n in flags for n in names})
    expected = render_to_string("routing/_flags.html", {"case": case})
    assert _same(flags_html(case)) == _same(expected)  # type: ignore[arg-type]
