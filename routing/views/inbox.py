"""The department inbox (签收 / 退回 / 受理): the assignments of the officer's department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.backends.utils import csrf_input
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.jinja2 import render_fragment
from core.listing import choice_labels
from petitions.states import CaseState

from ..forms import InboxFilterForm
from ..models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole, AssignmentState
from ..selectors import (
    INBOX_SORTS,
    INBOX_TABS,
    InboxFilters,
    clock_for,
    inbox,
    inbox_counts,
    page_slice,
)
from ._common import PAGE_SIZE, Tab, _pager, _query, _require_department, _user

INBOX_TAB_LABELS = {
    "new": gettext_lazy("New assignments to sign for"),
    "mine": gettext_lazy("My cases"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "returned": gettext_lazy("Returned"),
}
INBOX_SORT_LABELS = {
    "due": gettext_lazy("Due"),
    "assigned": gettext_lazy("Assigned"),
    "number": gettext_lazy("Case number"),
}


# --- the department inbox -----------------------------------------------------------------------------


def _inbox_rows(request: HttpRequest, assignments: list[Assignment], now: datetime) -> SafeString:
    """The inbox's rows, one Jinja2 render per page (templates/jinja2/routing/_inbox_rows.html),
    with every label, url and date computed once per page (core.listing)."""
    return render_fragment(
        "routing/_inbox_rows.html",
        {
            "rows": [
                (a, clock_for(a.due_at, now) if a.state in ACTIVE_ASSIGNMENT_STATES else None)
                for a in assignments
            ],
            "roles": choice_labels(AssignmentRole),
            "states": choice_labels(AssignmentState),
            "case_states": choice_labels(CaseState),
            "lead": AssignmentRole.LEAD,
            "pending": AssignmentState.PENDING,
            "signed": AssignmentState.SIGNED,
            "returned": AssignmentState.RETURNED,
            "csrf": csrf_input(request),
            "next": request.get_full_path(),
        },
    )


@dataclass
class SortLink:
    key: str
    label: Any
    url: str
    aria_sort: str  # "ascending" / "descending" / "" (not sorted by this column)


@never_cache
@login_required
@require_GET
def inbox_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_department(user)
    form = InboxFilterForm(request.GET)
    filters = InboxFilters()
    if form.is_valid():
        filters = InboxFilters(
            role=form.cleaned_data.get("role") or "", category=form.cleaned_data.get("category")
        )
    tab = request.GET.get("tab", "new")
    if tab not in INBOX_TABS:
        tab = "new"
    sort = request.GET.get("sort", "due")
    if sort not in INBOX_SORTS:
        sort = "due"
    now = timezone.now()
    counts = inbox_counts(user, filters, now)
    number, offset, pages = page_slice(counts[tab], request.GET.get("page"), PAGE_SIZE)
    rows = _inbox_rows(
        request, list(inbox(user, tab, filters, sort, now)[offset : offset + PAGE_SIZE]), now
    )
    sort_links = {}
    for key, label in INBOX_SORT_LABELS.items():
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        sort_links[key] = SortLink(
            key=key,
            label=label,
            url=_query(request, sort=target),
            aria_sort=("descending" if descending else "ascending") if current else "",
        )
    tabs = [
        Tab(key, INBOX_TAB_LABELS[key], counts[key], _query(request, tab=key), key == tab)
        for key in INBOX_TABS
    ]
    return render(
        request,
        "routing/inbox.html",
        {
            "form": form,
            "tab": tab,
            "tabs": tabs,
            "sort": sort,
            "sort_links": sort_links,
            "rows": rows,
            "pager": _pager(request, number, pages),
            "next": request.get_full_path(),
        },
    )
