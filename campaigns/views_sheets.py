"""Score sheet pages (评查评分表): the default sheet (read-only) and the center's own sheets, a
copy of the default (or of one of the center's sheets) for the user's center, and the edit page
of a center sheet (items by section, rows added and removed, the live total).

Who: the center's administrators, supervisors and leaders, as campaigns.services.review decides
(``_require_sheet_editor``, called here rather than copied). Another center's sheet, and the
default sheet at the edit address, are not found (404), as not-yours is everywhere; a user of the
center without one of those roles is refused (403). Every write goes through
copy_score_sheet / replace_score_items; a sheet scored against is frozen (the service's 409),
shown read-only with the reason and a copy button.

Stale edits: ScoreSheet carries no version, so two people saving the same sheet is last-wins
(the service locks the sheet row, so the items are never a mix of both).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError, PermissionDenied
from core.models import User

from . import services
from .forms_sheets import BaseScoreItemFormSet, ScoreItemFormSet, SheetCopyForm
from .models import ItemScore, ScoreItem, ScoreSection, ScoreSheet
from .services.review import SHEET_TOTAL, _require_sheet_editor, default_sheet

CSS = ("css/supervision.css", "css/campaigns.css")
PREFIX = "items"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def may_edit_sheets(user: User) -> bool:
    """Whether the user edits their center's score sheets (the service's own check)."""
    if user.center is None and not user.is_superuser:
        return False
    try:
        _require_sheet_editor(user, user.center)  # type: ignore[arg-type]
    except PermissionDenied:
        return False
    return True


def _require_editor(user: User) -> None:
    if not may_edit_sheets(user):
        raise DjangoPermissionDenied(
            _("Only the center's administrators, supervisors and leaders may edit its score sheet.")
        )


def _with_figures(sheets: QuerySet[ScoreSheet]) -> QuerySet[ScoreSheet]:
    return sheets.annotate(
        item_count=Count("items"),
        points_total=Sum("items__points"),
        in_use=Exists(ItemScore.objects.filter(item__sheet=OuterRef("pk"))),
    )


def editable_sheets(user: User) -> QuerySet[ScoreSheet]:
    """The centers' own sheets the user may open: their center's (every center's for a
    superuser). The default sheet is not one of them."""
    sheets = ScoreSheet.objects.filter(center__isnull=False)
    if not user.is_superuser:
        if user.center_id is None:
            return sheets.none()
        sheets = sheets.filter(center_id=user.center_id)
    return sheets.select_related("center")


def get_sheet_for(user: User, pk: int) -> ScoreSheet:
    """A center sheet the user may edit: another center's is not found (404) before the role is
    asked (403), so a sheet's existence cannot be probed."""
    sheet = _with_figures(editable_sheets(user)).filter(pk=pk).first()
    if sheet is None or sheet.center is None:
        raise Http404("Not found")
    try:
        _require_sheet_editor(user, sheet.center)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    return sheet


def _sections(items: Iterable[ScoreItem]) -> list[dict[str, Any]]:
    """Read-only items grouped by section, in the sheet's section order."""
    by_section: dict[str, list[ScoreItem]] = {value: [] for value in ScoreSection.values}
    for item in items:
        by_section.setdefault(item.section, []).append(item)
    return [
        {
            "key": value,
            "label": label,
            "items": by_section[value],
            "points": sum(i.points for i in by_section[value]),
        }
        for value, label in ScoreSection.choices
        if by_section[value]
    ]


# --- the list --------------------------------------------------------------------------------------


@never_cache
@login_required
def sheet_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, _user(request))


def _list_page(
    request: HttpRequest, user: User, *, copy_form: SheetCopyForm | None = None, status: int = 200
) -> HttpResponse:
    _require_editor(user)
    default = default_sheet()
    default_items = list(default.items.order_by("sort_order", "pk")) if default else []
    sheets = list(
        _with_figures(editable_sheets(user)).order_by("center__name", "-is_active", "-pk")
    )
    return render(
        request,
        "campaigns/sheets/list.html",
        {
            "css": CSS,
            "default": default,
            "default_sections": _sections(default_items),
            "default_total": sum(i.points for i in default_items),
            "sheets": sheets,
            "copy_form": copy_form or SheetCopyForm(),
            "center": user.center,
            "sheet_total": SHEET_TOTAL,
        },
        status=status,
    )


@login_required
@require_POST
def sheet_copy(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_editor(user)
    if user.center is None:  # a superuser without a center has no sheet of their own
        raise DjangoPermissionDenied(_("Your account belongs to no center."))
    form = SheetCopyForm(request.POST)
    if not form.is_valid():
        return _list_page(request, user, copy_form=form, status=400)
    source = None
    if form.cleaned_data.get("source"):
        # The default sheet or one of the user's center (the service refuses any other).
        source = (
            ScoreSheet.objects.filter(Q(center__isnull=True) | Q(center_id=user.center_id))
            .filter(pk=form.cleaned_data["source"])
            .first()
        )
        if source is None:
            raise Http404("Not found")
    try:
        sheet = services.copy_score_sheet(
            actor=user, center=user.center, source=source, name=form.cleaned_data["name"]
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _list_page(request, user, copy_form=form, status=400)
    except DomainError as exc:
        messages.error(request, str(exc))
        return _list_page(request, user, copy_form=form, status=409)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    messages.success(
        request,
        _("“%(name)s” is now your center's score sheet; its earlier sheets are retired.")
        % {"name": sheet.name},
    )
    return redirect("campaigns:sheet_edit", pk=sheet.pk)


# --- the edit page ---------------------------------------------------------------------------------


def _initial(items: Iterable[ScoreItem]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"id": i.pk, "section": i.section, "criterion": i.criterion, "points": i.points}
        for i in items
    ]
    # One blank row per section, to add an item without JavaScript.
    rows += [{"section": value} for value in ScoreSection.values]
    return rows


def _grouped_forms(formset: Any) -> list[dict[str, Any]]:
    """The formset's rows by the section each one shows (a row keeps its place in the page's
    order within its section)."""
    groups: dict[str, list[Any]] = {value: [] for value in ScoreSection.values}
    for form in formset.forms:
        section = form["section"].value()
        groups.get(section, groups[ScoreSection.FACTS]).append(form)
    out = []
    for value, label in ScoreSection.choices:
        points = 0
        for form in groups[value]:
            if form["DELETE"].value():
                continue
            with contextlib.suppress(TypeError, ValueError):  # a bad number: its row says so
                points += int(form["points"].value() or 0)
        out.append({"key": value, "label": label, "forms": groups[value], "points": points})
    return out


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sheet_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sheet = get_sheet_for(user, pk)
    items = list(sheet.items.order_by("sort_order", "pk"))
    if request.method != "POST":
        frozen = sheet.in_use  # type: ignore[attr-defined]  # annotated by _with_figures
        formset = None if frozen else ScoreItemFormSet(initial=_initial(items), prefix=PREFIX)
        return _edit_page(request, sheet, items, formset)
    formset = ScoreItemFormSet(request.POST, prefix=PREFIX)
    assert isinstance(formset, BaseScoreItemFormSet)
    if not formset.is_valid():
        return _edit_page(request, sheet, items, formset, status=400)
    try:
        services.replace_score_items(actor=user, sheet=sheet, items=formset.items())
    except ValidationError as exc:  # the form checks the same rules: a second line only
        return _edit_page(request, sheet, items, formset, status=400, errors=exc.messages)
    except DomainError as exc:  # scored against since the page was read: frozen now
        messages.error(request, str(exc))
        sheet.in_use = True  # type: ignore[attr-defined]
        return _edit_page(request, sheet, items, None, status=409)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    messages.success(request, _("The score sheet was saved."))
    return redirect("campaigns:sheet_edit", pk=sheet.pk)


def _edit_page(
    request: HttpRequest,
    sheet: ScoreSheet,
    items: list[ScoreItem],
    formset: Any,
    *,
    status: int = 200,
    errors: list[str] | None = None,
) -> HttpResponse:
    groups = _grouped_forms(formset) if formset is not None else []
    total = sum(g["points"] for g in groups) if formset is not None else None
    return render(
        request,
        "campaigns/sheets/edit.html",
        {
            "css": CSS,
            "sheet": sheet,
            "sections": _sections(items),
            "items_total": sum(i.points for i in items),
            "formset": formset,
            "service_errors": errors or [],
            "groups": groups,
            "total": total,
            "sheet_total": SHEET_TOTAL,
            "copy_form": SheetCopyForm(initial={"source": sheet.pk}),
        },
        status=status,
    )
