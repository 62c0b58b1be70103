"""What the report charts draw, beyond the figures: short axis labels (the full name stays for
the tooltip and the table beside each chart) and whether a chart has anything to draw.

Department names are "center · department", and every center is named "…涉法涉诉联合接访服务中心":
cut to one width, every bar read "石家庄市涉法涉诉联…". A bar is labelled by the part that tells
it apart: the department alone when one center appears, otherwise the center without the words
all the centers share, then the department ("井陉县 · 公安局")."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext as _


def _common_suffix(names: Sequence[str]) -> str:
    reversed_names = [n[::-1] for n in names]
    return os.path.commonprefix(reversed_names)[::-1]


def short_center_names(names: Iterable[str]) -> dict[str, str]:
    """Each center name without the ending all of them share ("…涉法涉诉联合接访服务中心"),
    or the full name when that would leave nothing."""
    distinct = sorted(set(names))
    suffix = _common_suffix(distinct) if len(distinct) > 1 else ""
    return {
        n: (n[: len(n) - len(suffix)] if suffix and len(n) > len(suffix) else n) for n in distinct
    }


def department_labels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with a ``label``: the department's name alone when the chart shows one center,
    the short center name and the department when it shows several. A label two rows would
    share falls back to the full name, so bars are always told apart."""
    centers = {r["center_name"] for r in rows if r.get("center_name")}
    short = short_center_names(centers)
    for r in rows:
        if not r.get("center_name"):
            r["label"] = r.get("department_name") or r["name"]
        elif len(centers) == 1:
            r["label"] = r["department_name"]
        else:
            r["label"] = f"{short[r['center_name']]} · {r['department_name']}"
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["label"]] = seen.get(r["label"], 0) + 1
    for r in rows:
        if seen[r["label"]] > 1:
            r["label"] = r["name"]
    return rows


def month_labels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trend's rows with a short ``label`` ("3月"); the first month and every January also
    carry the year ("2026年1月"). ``month`` stays "YYYY-MM" for the tooltip and the table."""
    for i, r in enumerate(rows):
        month = date.fromisoformat(r["month"] + "-01")
        if i == 0 or month.month == 1:
            r["label"] = _("%(month)s/%(year)s") % {"month": month.month, "year": month.year}
        else:
            r["label"] = _("Month %(month)s") % {"month": month.month}
    return rows


def is_empty(rows: Sequence[dict[str, Any]], *keys: str) -> bool:
    """True when no row has a non-zero figure under any of ``keys``: the chart would draw
    only its frame, so the page says there is nothing to show instead."""
    return not any(r.get(k) for r in rows for k in keys)
