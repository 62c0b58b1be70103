"""No HTML is built in Python in views or list helpers (issue 21): markup lives in templates
(Django's, or the Jinja2 fragments of templates/jinja2/ for the hot rows), escaped by the engine.
This scans the apps' Python source, tests and migrations aside, for the marks of markup written
in strings, so that it does not creep back."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "core",
    "petitions",
    "intake",
    "clocks",
    "routing",
    "supervision",
    "closure",
    "appeals",
    "reports",
    "campaigns",
    "outreach",
    "config",
]
# Table rows and cells, options, and the ways a string is declared safe markup.
MARKS = re.compile(
    r"<t[drh][\s>]|<tbody|<option[\s>]|<select[\s>]|<span[\s>]|<a href"
    r"|SafeString\(f[\"']|mark_safe\(f[\"']|format_html\(|SafeString\([\"']<|mark_safe\([\"']<"
)


def _sources() -> list[Path]:
    files = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"tests", "migrations"} or path.name.startswith("test"):
                continue
            files.append(path)
    return files


def test_the_scan_sees_the_apps():
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert {"routing/views/inbox.py", "petitions/views.py", "core/listing.py"} <= names
    assert not any("/tests/" in n for n in names)


def test_the_scan_finds_markup_written_in_python():
    for line in [
        "return SafeString(f'<tr data-case=\"{pk}\">')",
        "cells.append(f'<td class=\"num\">{n}</td>')",
        'return mark_safe(f"<b>{x}</b>")',
        "format_html('<option value=\"{}\">', v)",
    ]:
        assert MARKS.search(line), line
    assert not MARKS.search('render_fragment("routing/_inbox_rows.html", {"rows": rows})')


def test_no_html_is_built_in_python():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if MARKS.search(line)
    ]
    assert found == []
