"""The outreach card of the case page (petitions.hooks.register_case_section).

One card, four parts: tours (带案巡视), visits and appointments (下访 / 约访), judicial aid and
messages. Each part owns ``templates/outreach/<part>/_case_panel.html`` and, when it needs data,
a function ``case_panel_context(user, case, page) -> dict`` in ``outreach/selectors_<part>.py``;
its result is in the part's template as ``outreach.<part>`` (the whole case page context is
there too: ``case``, ``case_page``, ``can_act``, ``user``). A part whose module or function is
missing adds nothing; a missing template falls back to an empty one, so one part cannot break the
card. Keep each part to a few narrow queries: the case page's query count is tested.
"""

from __future__ import annotations

import importlib
from typing import Any

from petitions.hooks import CaseSection

PARTS = ("visits", "tours", "aid", "messages")


def _part_context(part: str, user: Any, case: Any, page: Any) -> dict[str, Any]:
    module_name = f"outreach.selectors_{part}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:  # a broken import inside the module is a bug: show it
            raise
        return {}
    load = getattr(module, "case_panel_context", None)
    if load is None:
        return {}
    return dict(load(user, case, page))


def outreach_case_section(user: Any, case: Any, page: Any) -> CaseSection:
    context = {part: _part_context(part, user, case, page) for part in PARTS}
    templates = [
        # include picks the first that exists (select_template): the part's, else an empty one
        [f"outreach/{part}/_case_panel.html", "outreach/_empty.html"]
        for part in PARTS
    ]
    return CaseSection("outreach/_case_section.html", {"parts": context, "templates": templates})


__all__ = ["PARTS", "outreach_case_section"]
