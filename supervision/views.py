"""The supervisor dashboard (督导), its drill-down case list, and the in-app notification inbox.

Figures come from supervision.selectors (a few GROUP BY queries over the scoped at-risk clocks);
every number on the dashboard links to the list of the clocks behind it, built from the same
filters, so the number and the list cannot disagree. Marking notifications read goes through
clocks.notify.mark_read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from clocks.deadlines import CHINA_TZ
from clocks.models import DUTY_KINDS, DeadlineKind, WarningLevel
from clocks.notify import describe, mark_read, notifications_for
from core.jinja2 import render_fragment
from core.listing import FastSelect
from core.models import User
from core.roles import Role
from routing.selectors import page_slice

from .hooks import dashboard_panels
from .selectors import (
    AGE_BUCKETS,
    AT_RISK_LEVELS,
    NONE,
    DashboardFilters,
    GroupRow,
    LevelCounts,
    Scope,
    dashboard_figures,
    dashboard_scope,
    drilldown,
    drilldown_rows,
    drilldown_totals,
    duty_roster,
)

DASHBOARD_ROLES = (Role.SUPERVISOR, Role.LEADER)
LIST_PAGE_SIZE = 50
INBOX_PAGE_SIZE = 25
LEVEL_LABELS: dict[str, Any] = {
    WarningLevel.OVERDUE: gettext_lazy("Overdue"),
    WarningLevel.SEVERE: gettext_lazy("Due within a day"),
    WarningLevel.APPROACHING: gettext_lazy("Approaching"),
}
LAW_RELATED_CHOICES = [
    ("", gettext_lazy("All cases")),
    ("yes", gettext_lazy("Law/litigation-related only")),
    ("no", gettext_lazy("Not law/litigation-related")),
]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _require_supervision(user: User) -> None:
    if not (user.is_superuser or user.has_role(*DASHBOARD_ROLES)):
        raise DjangoPermissionDenied(_("The supervision dashboard is for supervisors and leaders."))


# --- filters -------------------------------------------------------------------------------------


def _id_or_none(value: str) -> int | str | None:
    """A drill-down id: "12" → 12, "none" → NONE, "" → None; anything else is invalid."""
    if value in ("", None):
        return None
    if value == NONE:
        return NONE
    if value.isdigit():
        return int(value)
    raise forms.ValidationError(_("Select a valid choice."), code="invalid_choice")


class FilterForm(forms.Form):
    """The dashboard's filters. Centers and departments are the viewer's scope only; the officer
    and the aging bucket come from drill-down links and travel as hidden fields."""

    center = forms.TypedChoiceField(
        label=gettext_lazy("Center"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=FastSelect,
    )
    department = forms.ChoiceField(
        label=gettext_lazy("Department"), required=False, widget=FastSelect
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Deadline kind"),
        required=False,
        # duties only: windows (someone's right) are never at risk (clocks.models)
        choices=[
            ("", gettext_lazy("All kinds")),
            *[(k, label) for k, label in DeadlineKind.choices if k in DUTY_KINDS],
        ],
        widget=FastSelect,
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Warning level"),
        required=False,
        choices=[("", gettext_lazy("All at-risk levels")), *LEVEL_LABELS.items()],
        widget=FastSelect,
    )
    law_related = forms.ChoiceField(
        label=gettext_lazy("Law/litigation-related"),
        required=False,
        choices=LAW_RELATED_CHOICES,
        widget=FastSelect,
    )
    handler = forms.CharField(required=False, widget=forms.HiddenInput)
    age = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[("", ""), *((b.key, b.label) for b in AGE_BUCKETS)],
    )

    def __init__(self, data: QueryDict | None, *, scope: Scope) -> None:
        super().__init__(data)
        center_field = self.fields["center"]
        department_field = self.fields["department"]
        assert isinstance(center_field, forms.ChoiceField)
        assert isinstance(department_field, forms.ChoiceField)
        center_field.choices = [
            ("", _("All my centers")),
            *((c.pk, c.name) for c in scope.centers),
        ]
        department_field.choices = [
            ("", _("All departments")),
            (NONE, _("Not assigned")),
            *((str(d.pk), f"{d.center.name} · {d.name}") for d in scope.departments),
        ]
        self.fields["center"].widget.attrs["autofocus"] = True

    def clean_handler(self) -> int | str | None:
        return _id_or_none(self.cleaned_data.get("handler") or "")

    def filters(self) -> DashboardFilters:
        """The filters to apply; an invalid form applies none (its errors are shown)."""
        if not self.is_bound or not self.is_valid():
            return DashboardFilters()
        data = self.cleaned_data
        department = _id_or_none(data.get("department") or "")
        law = data.get("law_related") or ""
        return DashboardFilters(
            center_id=data.get("center"),
            department=department,  # type: ignore[arg-type]
            kind=data.get("kind") or "",
            level=data.get("level") or "",
            law_related=None if not law else law == "yes",
            handler=data.get("handler"),
            age=data.get("age") or "",
        )


def _bound_filter_form(request: HttpRequest, scope: Scope) -> FilterForm:
    has_filters = any(request.GET.get(name) for name in FilterForm.base_fields)
    return FilterForm(request.GET if has_filters else None, scope=scope)


# --- the dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    level: str  # an at-risk level, or "total"
    count: int
    url: str


@dataclass(frozen=True)
class TableRow:
    key: str
    label: str
    detail: str
    cells: list[Cell]


def _url(view: str, filters: DashboardFilters, **changes: str | None) -> str:
    params = filters.params()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    # urllib's urlencode writes what QueryDict.urlencode writes for one value per key
    encoded = urlencode(params)
    base = _reversed(view)
    return f"{base}?{encoded}" if encoded else base


def _reversed(view: str) -> str:
    """reverse(view), remembered per url configuration and script prefix: a dashboard has a
    hundred links to the same two views."""
    key = (view, get_urlconf(), get_script_prefix())
    url = _REVERSED.get(key)
    if url is None:
        url = _REVERSED[key] = reverse(view)
    return url


_REVERSED: dict[tuple[str, str | None, str], str] = {}


def _list_url(filters: DashboardFilters, **changes: str | None) -> str:
    return _url("supervision:case_list", filters, **changes)


def _drill(filters: DashboardFilters, **narrowing: str) -> str:
    """The list behind a number: the current filters narrowed further. A narrowing that
    contradicts a filter already set (another center, another level) is a structural zero with
    no list behind it: no link ("")."""
    current = filters.params()
    if any(key in current and current[key] != value for key, value in narrowing.items()):
        return ""
    return _list_url(filters, **narrowing)


def _cells(filters: DashboardFilters, counts: LevelCounts, **dimension: str) -> list[Cell]:
    cells = [
        Cell(level, counts.for_level(level), _drill(filters, level=level, **dimension))
        for level in AT_RISK_LEVELS
    ]
    cells.append(Cell("total", counts.total, _drill(filters, **dimension)))
    return cells


def _table(filters: DashboardFilters, rows: list[GroupRow], dimension: str) -> list[TableRow]:
    return [
        TableRow(r.key, r.label, r.detail, _cells(filters, r.counts, **{dimension: r.key}))
        for r in rows
    ]


def count_table_html(
    rows: list[TableRow], *, testid: str, caption: str, name_header: str
) -> SafeString:
    """A breakdown table (one linked count per level and a total per row), one Jinja2 render per
    table (templates/jinja2/supervision/_count_table.html): a hundred cells of Django template
    includes and tags were most of the dashboard's Python time."""
    return render_fragment(
        "supervision/_count_table.html",
        {
            "rows": rows,
            "testid": testid,
            "caption": caption,
            "name_header": name_header,
            "levels": [(level, LEVEL_LABELS[level]) for level in AT_RISK_LEVELS],
        },
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_supervision(user)
    scope = dashboard_scope(user)
    form = _bound_filter_form(request, scope)
    filters = form.filters()
    now = timezone.now()
    figures = dashboard_figures(user, filters, scope=scope, now=now)
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "figures": figures,
        "levels": [(level, LEVEL_LABELS[level]) for level in AT_RISK_LEVELS],
        "summary": _cells(filters, figures.totals),
        "law_summary": _cells(filters, figures.law_related, law_related="yes"),
        "aging": [
            Cell(
                a.bucket.key,
                a.count,
                # the bucket itself means "overdue"; a level filter other than overdue
                # leaves it empty, in the count and in the list alike
                _drill(filters, age=a.bucket.key),
            )
            for a in figures.aging
        ],
        "aging_labels": {b.key: b.label for b in AGE_BUCKETS},
        "overdue_clocks_url": _drill(filters, level=WarningLevel.OVERDUE),
        "by_center": _table(filters, figures.by_center, "center"),
        "by_department": _table(filters, figures.by_department, "department"),
        "by_officer": _table(filters, figures.by_officer, "handler"),
        "duty": duty_roster(user, today=now.astimezone(CHINA_TZ).date()),
        "active_filters": _active_filters(filters, figures.by_officer),
        "clear_hidden_url": _url("supervision:dashboard", filters, handler=None, age=None),
        # cards of the apps above (supervision.hooks), e.g. the running campaigns
        "panels": dashboard_panels(user, now),
    }
    context["by_center_table"] = count_table_html(
        context["by_center"],
        testid="by-center",
        caption=_("Cases at risk by center"),
        name_header=_("Center"),
    )
    context["by_department_table"] = count_table_html(
        context["by_department"],
        testid="by-department",
        caption=_("Cases at risk by the department answering for the deadline"),
        name_header=_("Department"),
    )
    context["by_officer_table"] = count_table_html(
        context["by_officer"],
        testid="by-officer",
        caption=_("Cases at risk by the officer handling them"),
        name_header=_("Officer"),
    )
    return render(request, "supervision/dashboard.html", context)


def _active_filters(filters: DashboardFilters, officers: list[GroupRow]) -> list[str]:
    """The drill-down filters that have no visible field (officer, aging), in words."""
    words = []
    if filters.handler == NONE:
        words.append(_("Officer: no handler yet"))
    elif filters.handler is not None:
        name = next((r.label for r in officers if r.key == str(filters.handler)), "")
        words.append(_("Officer: %(name)s") % {"name": name or f"#{filters.handler}"})
    if filters.age:
        label = next((b.label for b in AGE_BUCKETS if b.key == filters.age), filters.age)
        words.append(_("Overdue by %(range)s") % {"range": label})
    return words


# --- the drill-down list -------------------------------------------------------------------------


@dataclass
class Pager:
    number: int
    pages: int
    previous_url: str
    next_url: str


def _pager(request: HttpRequest, number: int, pages: int) -> Pager:
    def url(n: int) -> str:
        params = request.GET.copy()
        params["page"] = str(n)
        return "?" + params.urlencode()

    return Pager(
        number=number,
        pages=pages,
        previous_url=url(number - 1) if number > 1 else "",
        next_url=url(number + 1) if number < pages else "",
    )


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_supervision(user)
    scope = dashboard_scope(user)
    form = _bound_filter_form(request, scope)
    filters = form.filters()
    now = timezone.now()
    deadlines = drilldown(user, filters, now=now)
    totals = drilldown_totals(deadlines)
    number, offset, pages = page_slice(totals.clocks, request.GET.get("page"), LIST_PAGE_SIZE)
    rows = drilldown_rows(list(deadlines[offset : offset + LIST_PAGE_SIZE]), now=now)
    officer_rows = [
        GroupRow(str(r.handler.pk), str(r.handler), "", LevelCounts()) for r in rows if r.handler
    ]
    return render(
        request,
        "supervision/case_list.html",
        {
            "form": form,
            "filters": filters,
            "rows": rows,
            "totals": totals,
            "pager": _pager(request, number, pages),
            "dashboard_url": _url("supervision:dashboard", filters),
            "active_filters": _active_filters(filters, officer_rows),
            "clear_hidden_url": _list_url(filters, handler=None, age=None),
        },
    )


# --- the notification inbox ----------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    pk: int
    text: str
    kind: str
    created_at: Any
    unread: bool
    case_url: str


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    paginator = Paginator(notifications_for(user), INBOX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    items = [
        InboxItem(
            pk=n.pk,
            text=describe(n),
            kind=n.kind,
            created_at=n.created_at,
            unread=not n.is_read,  # type: ignore[attr-defined]  # annotated by notifications_for
            case_url=reverse("petitions:case_detail", args=[n.case_id]) if n.case_id else "",
        )
        for n in page.object_list
    ]
    return render(
        request,
        "supervision/notifications.html",
        {
            "items": items,
            "page": page,
            "pager": _pager(request, page.number, paginator.num_pages),
            "has_unread": any(i.unread for i in items),
        },
    )


@login_required
@require_POST
def mark_notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of the user's unread ones (``all``) as read.
    Someone else's notification id is silently ignored: mark_read only touches the user's inbox."""
    user = _user(request)
    if request.POST.get("all"):
        ids: list[int] = list(
            notifications_for(user).filter(is_read=False).values_list("pk", flat=True)  # type: ignore[misc]  # annotated by notifications_for
        )
    else:
        raw = request.POST.get("id", "")
        ids = [int(raw)] if raw.isdigit() else []
    marked = mark_read(user=user, ids=ids) if ids else 0
    if request.POST.get("all"):
        messages.success(
            request,
            ngettext(
                "%(n)d notification marked as read.",
                "%(n)d notifications marked as read.",
                marked,
            )
            % {"n": marked},
        )
    default = reverse("supervision:notifications")
    target = request.POST.get("next") or ""
    if not (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = default
    return redirect(target)
