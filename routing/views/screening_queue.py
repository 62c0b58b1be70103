"""The screening queue (审查分流): the center's cases awaiting a decision, by tab."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.jinja2 import render_fragment
from core.listing import choice_labels
from petitions.models import Case
from petitions.states import CaseState

from ..forms import QueueFilterForm
from ..selectors import (
    QUEUE_TABS,
    QueueFilters,
    clock_for,
    page_slice,
    triage_queue,
    triage_queue_counts,
)
from ._common import (
    PAGE_SIZE,
    QUEUE_ROLES,
    Tab,
    _pager,
    _pop_issued_notice,
    _query,
    _require_roles,
    _user,
)

QUEUE_TAB_LABELS = {
    "new": gettext_lazy("New"),
    "returned": gettext_lazy("Returned"),
    "open": gettext_lazy("All open at my center"),
}

# --- the screening queue ------------------------------------------------------------------------------


def _queue_rows(cases: list[Case], now: datetime) -> SafeString:
    """The queue's rows, one Jinja2 render per page (templates/jinja2/routing/_queue_rows.html),
    with every label, url and date computed once per page (core.listing)."""
    return render_fragment(
        "routing/_queue_rows.html",
        {
            "rows": [(case, clock_for(case.screening_due_at, now)) for case in cases],  # type: ignore[attr-defined]
            "states": choice_labels(CaseState),
            "screenable": (CaseState.REGISTERED, CaseState.RETURNED),
        },
    )


@never_cache
@login_required
@require_GET
def triage_queue_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_roles(user, QUEUE_ROLES, _("The screening queue is for triage staff and supervisors."))
    form = QueueFilterForm(request.GET)
    filters = QueueFilters()
    if form.is_valid():
        channel = form.cleaned_data.get("channel")
        filters = QueueFilters(
            category=form.cleaned_data.get("category"),
            channel_id=channel.pk if channel else None,
            flags=tuple(form.cleaned_data.get("flags") or ()),
        )
    tab = request.GET.get("tab", "new")
    if tab not in QUEUE_TABS:
        tab = "new"
    counts = triage_queue_counts(user, filters)
    number, offset, pages = page_slice(counts[tab], request.GET.get("page"), PAGE_SIZE)
    now = timezone.now()
    rows = _queue_rows(list(triage_queue(user, tab, filters)[offset : offset + PAGE_SIZE]), now)
    tabs = [
        Tab(key, QUEUE_TAB_LABELS[key], counts[key], _query(request, tab=key), key == tab)
        for key in QUEUE_TABS
    ]
    return render(
        request,
        "routing/triage_queue.html",
        {
            "form": form,
            "tab": tab,
            "tabs": tabs,
            "rows": rows,
            "pager": _pager(request, number, pages),
            "issued_notice": _pop_issued_notice(request, user),
        },
    )
