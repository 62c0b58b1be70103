"""Staff case pages: the case list, the case page, personal-number reveal and attachments.

Reads go through petitions.selectors (visibility), writes through petitions.services. Not-yours and
not-found are the same 404 everywhere, including for a case's attachments and petitioners.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, PermissionDenied
from core.jinja2 import render_fragment
from core.listing import choice_labels
from core.models import User
from core.orgcache import user_center
from core.roles import PII_REVEAL_ROLES, Role

from .actions import Action, CasePage, case_actions
from .events import event_label
from .forms import AttachmentForm, CaseFilterForm
from .hooks import case_sections
from .models import Attachment, Case, CasePetitioner, Channel, ContentCategory, PetitionerRole
from .selectors import (
    attach_cached_relations,
    can_act_on,
    case_list_for,
    get_case_for,
    get_case_page_for,
)
from .services import add_attachment, reveal_pii
from .states import CaseState

PAGE_SIZE = 50
REVEALABLE_FIELDS = {"id_number": "id_number_masked", "phone": "phone_masked"}
# Case columns that are internal bookkeeping, not facts of the matter.
HIDDEN_CASE_FIELDS = {"id", "query_code_hash", "submission_key", "version"}
# Case.origin_center and Case.registered_at share the verbose name "registered at"; on one page
# they need telling apart.
FIELD_LABELS = {"origin_center": gettext_lazy("Registering center")}
ATTACHMENT_ROLES = {Role.RECEPTION, Role.TRIAGE, Role.OFFICER, Role.HEAD}
ROLE_ORDER: dict[str, int] = {PetitionerRole.MAIN: 0, PetitionerRole.REPRESENTATIVE: 1}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


# --- case list: keyset pagination ----------------------------------------------------------------
#
# The list is ordered by (-registered_at, -id) and paged by position rather than by OFFSET, and no
# total is counted: on a province's million cases both OFFSET and COUNT(*) read every row before
# the page, while "the 50 rows after this (registered_at, id)" is one index range scan.


@dataclass
class KeysetPage:
    rows: list[Case]
    has_next: bool
    has_previous: bool
    next_query: str = ""
    previous_query: str = ""


def encode_cursor(case: Case) -> str:
    raw = f"{case.registered_at.isoformat()}|{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    """(registered_at, id) from a cursor, or None when it is missing or malformed."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, pk = raw.split("|", 1)
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            return None
        return at, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def keyset_page(qs: QuerySet[Case], params: QueryDict, size: int = PAGE_SIZE) -> KeysetPage:
    after = decode_cursor(params.get("after"))
    before = None if after else decode_cursor(params.get("before"))
    if before is not None:
        at, pk = before
        # Walk backwards from the cursor, then put the rows back in display order.
        chunk = list(
            qs.filter(Q(registered_at__gt=at) | Q(registered_at=at, pk__gt=pk)).order_by(
                "registered_at", "id"
            )[: size + 1]
        )
        has_previous, has_next = len(chunk) > size, True
        rows = list(reversed(chunk[:size]))
    else:
        if after is not None:
            at, pk = after
            qs = qs.filter(Q(registered_at__lt=at) | Q(registered_at=at, pk__lt=pk))
        chunk = list(qs.order_by("-registered_at", "-id")[: size + 1])
        has_next, has_previous = len(chunk) > size, after is not None
        rows = chunk[:size]
    page = KeysetPage(rows=rows, has_next=has_next and bool(rows), has_previous=has_previous)
    base = params.copy()
    for key in ("after", "before"):
        base.pop(key, None)
    if page.has_next:
        query = base.copy()
        query["after"] = encode_cursor(rows[-1])
        page.next_query = query.urlencode()
    if page.has_previous and rows:
        query = base.copy()
        query["before"] = encode_cursor(rows[0])
        page.previous_query = query.urlencode()
    return page


def _days_left(due: datetime, now: datetime, today: Any) -> str:
    """petition_tags.days_left with "now" taken once per page."""
    due_day = timezone.localdate(due)
    if due >= now:
        days = (due_day - today).days
        if days <= 0:
            return _("due today")
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    days = max((today - due_day).days, 1)
    return ngettext("%(n)d day overdue", "%(n)d days overdue", days) % {"n": days}


def case_rows(cases: list[Case]) -> SafeString:
    """The case list's rows, one Jinja2 render per page (templates/jinja2/petitions/
    _case_rows.html), with every label, url and date computed once per page (core.listing)."""
    now = timezone.now()
    today = timezone.localdate(now)
    return render_fragment(
        "petitions/_case_rows.html",
        {
            "cases": cases,
            "states": choice_labels(CaseState),
            "open_states": CaseState.open_states(),
            "now": now,
            "days_left": lambda due: _days_left(due, now, today),
        },
    )


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filter_data = request.GET if any(k in request.GET for k in CaseFilterForm.base_fields) else None
    form = CaseFilterForm(filter_data, user=user)
    # category__parent: the category column shows "parent / child" (ContentCategory.__str__).
    qs = form.filter(case_list_for(user).select_related("category__parent"))
    page = keyset_page(qs, request.GET, PAGE_SIZE)
    return render(
        request,
        "petitions/case_list.html",
        {
            "form": form,
            "page": page,
            "cases": page.rows,
            "rows": case_rows(page.rows),
            "page_size": PAGE_SIZE,
        },
    )


# --- case page -----------------------------------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    at: datetime
    user: User | None
    kind: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


HISTORY_TYPES = {
    "+": gettext_lazy("Created"),
    "~": gettext_lazy("Changed"),
    "-": gettext_lazy("Deleted"),
}


def _display(model_field: models.Field[Any, Any], value: object) -> object:
    """A value as a reader should see it: choice labels, yes/no, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value


def case_facts(case: Case) -> list[tuple[str, object]]:
    """Every field of the case with its verbose name (related objects are already selected)."""
    facts: list[tuple[str, object]] = []
    for f in Case._meta.concrete_fields:
        if f.name in HIDDEN_CASE_FIELDS:
            continue
        value = getattr(case, f.name) if f.is_relation else getattr(case, f.attname)
        label = FIELD_LABELS.get(f.name, f.verbose_name)
        facts.append((capfirst(str(label)), _display(f, value)))
    return facts


def _resolve_related(
    pending: Mapping[models.Field[Any, Any], set[Any]],
) -> dict[models.Field[Any, Any], dict[Any, Any]]:
    """Objects for the foreign-key ids seen in the history: one query per related model, however
    many history rows there are (simple-history's diff gives raw ids)."""
    ids_by_model: dict[type[models.Model], set[Any]] = defaultdict(set)
    for f, ids in pending.items():
        assert f.related_model is not None and not isinstance(f.related_model, str)
        ids_by_model[f.related_model] |= ids
    objects: dict[type[models.Model], dict[Any, Any]] = {}
    for model, ids in ids_by_model.items():
        manager = model._default_manager
        qs = manager.select_related("parent") if model is ContentCategory else manager.all()
        objects[model] = qs.in_bulk([i for i in ids if i is not None])
    return {f: objects[f.related_model] for f in pending}  # type: ignore[index]


def case_history(case: Case) -> list[HistoryEntry]:
    """Field-level history: each record against the one before it, newest first."""
    records = list(
        case.history.select_related("history_user").order_by("history_date", "history_id")
    )  # type: ignore[attr-defined]
    raw: list[tuple[Any, list[Any]]] = []
    pending: dict[models.Field[Any, Any], set[Any]] = defaultdict(set)
    for previous, record in zip([None, *records], records, strict=False):
        changes = list(record.diff_against(previous).changes) if previous is not None else []
        for change in changes:
            f = Case._meta.get_field(change.field)
            if f.is_relation:
                pending[f] |= {change.old, change.new}  # type: ignore[index]
        raw.append((record, changes))
    related = _resolve_related(pending)
    entries: list[HistoryEntry] = []
    for record, changes in raw:
        entry = HistoryEntry(
            at=record.history_date,
            user=record.history_user,
            kind=str(HISTORY_TYPES.get(record.history_type, record.history_type)),
            reason=record.history_change_reason or "",
        )
        for change in changes:
            f = Case._meta.get_field(change.field)
            old, new = change.old, change.new
            if f.is_relation:
                lookup = related[f]  # type: ignore[index]
                old, new = lookup.get(old, old), lookup.get(new, new)
            entry.changes.append(
                FieldChange(
                    label=capfirst(
                        str(FIELD_LABELS.get(f.name, getattr(f, "verbose_name", f.name)))
                    ),
                    old=_display(f, old),  # type: ignore[arg-type]
                    new=_display(f, new),  # type: ignore[arg-type]
                )
            )
        entries.append(entry)
    entries.reverse()
    return entries


def may_add_attachment(user: User, case: Case) -> bool:
    """Mirrors petitions.services.add_attachment, to decide whether to offer the form. An archived
    file is read-only (services.require_not_archived refuses every write): no form."""
    if case.state == CaseState.ARCHIVED:
        return False
    if user.is_superuser:
        return True
    if not user.has_role(*ATTACHMENT_ROLES):
        return False
    return can_act_on(user, case) or user.has_role(Role.OFFICER, Role.HEAD)


def allowed_actions(user: User, case: Case, page: CasePage | None = None) -> list[Action]:
    """The buttons and links of "可执行操作": what the apps above offer this user on this case
    now (petitions.actions). Only built, working actions; nothing is listed for a mere state."""
    return case_actions(user, case, page)


@dataclass
class TimelineRow:
    at: datetime
    kind: str
    label: str
    actor: str
    message: str


def timeline_rows(case: Case) -> list[TimelineRow]:
    """The case's events, oldest first, with their labels and actors ready to print (one query;
    each kind's label looked up once)."""
    labels: dict[str, str] = {}
    system = _("system")
    rows: list[TimelineRow] = []
    for event in case.events.select_related("actor").order_by("at", "id"):
        label = labels.get(event.kind)
        if label is None:
            label = labels[event.kind] = event_label(event.kind)
        rows.append(
            TimelineRow(
                at=event.at,
                kind=event.kind,
                label=label,
                actor=str(event.actor) if event.actor is not None else system,
                message=event.message,
            )
        )
    return rows


def render_case_page(
    request: HttpRequest,
    case: Case,
    *,
    attachment_form: AttachmentForm | None = None,
    revealed: Mapping[tuple[int, str], str] | None = None,
    status: int = 200,
    assignments: list[Any] | None = None,
) -> HttpResponse:
    user = _user(request)
    user_center(user)  # the header shows it: from the organisation cache, not a query
    # Main petitioner first, then the representative, then the others (each by id).
    links = sorted(
        CasePetitioner.objects.filter(case=case).select_related("petitioner"),
        key=lambda link: (ROLE_ORDER.get(link.role, 2), link.pk),
    )
    revealed = revealed or {}
    petitioners = [
        {
            "link": link,
            "petitioner": link.petitioner,
            "numbers": [
                {
                    "field": name,
                    "label": _("ID number") if name == "id_number" else _("Phone"),
                    "masked": getattr(link.petitioner, masked),
                    "revealed": revealed.get((link.petitioner_id, name)),
                }
                for name, masked in REVEALABLE_FIELDS.items()
            ],
        }
        for link in links
    ]
    visits = list(
        case.visits.select_related("petitioner", "received_by", "received_by_leader").order_by(
            "at", "id"
        )
    )
    for visit in visits:  # channel and center from the in-process caches, not joined
        attach_cached_relations(visit, {"channel": Channel}, centers=("center",))
    can_act = can_act_on(user, case)
    # What the page loads once and the action providers and fragments share (petitions.actions).
    page = CasePage(user, case, assignments=assignments)
    context = {
        "case": case,
        "facts": case_facts(case),
        "petitioners": petitioners,
        "can_reveal": user.is_superuser or user.has_role(*PII_REVEAL_ROLES),
        "attachments": list(
            case.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
        ),
        "visits": visits,
        "events": timeline_rows(case),
        "history": case_history(case),
        "assignments": page.assignments,
        "transfers": list(
            case.transfers.select_related(  # type: ignore[attr-defined]
                "from_center", "to_center", "transferred_by"
            ).order_by("transferred_at", "id")
        ),
        "can_act": can_act,
        "actions": allowed_actions(user, case, page),
        "case_page": page,
        # Cards contributed by the apps above petitions (petitions.hooks), e.g. outreach.
        "case_sections": case_sections(user, case, page),
        "may_add_attachment": may_add_attachment(user, case),
        "attachment_form": attachment_form or AttachmentForm(),
    }
    return render(request, "petitions/case_detail.html", context, status=status)


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, assignments = get_case_page_for(_user(request), pk)
    return render_case_page(request, case, assignments=assignments)


# --- personal numbers ----------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


@never_cache
@login_required
@require_POST
def reveal_pii_view(request: HttpRequest, pk: int, petitioner_pk: int, field: str) -> HttpResponse:
    """The full number for a role that needs it, logged by the service (PIPL Art 28). JavaScript
    asks for JSON; without it the case page is rendered again with the number shown. The number
    never goes into a URL, a redirect or the session."""
    user = _user(request)
    case = get_case_for(user, pk)
    if field not in REVEALABLE_FIELDS:
        raise Http404
    link = get_object_or_404(
        CasePetitioner.objects.select_related("petitioner"), case=case, petitioner_id=petitioner_pk
    )
    try:
        value = reveal_pii(
            actor=user,
            petitioner=link.petitioner,
            field_name=field,
            case=case,
            ip=request.META.get("REMOTE_ADDR") or None,
        )
    except PermissionDenied as exc:
        if _wants_json(request):
            return JsonResponse({"detail": str(exc)}, status=403)
        messages.error(request, str(exc))
        return render_case_page(request, case, status=403)
    if _wants_json(request):
        return JsonResponse({"value": value})
    return render_case_page(request, case, revealed={(link.petitioner_id, field): value})


# --- attachments ---------------------------------------------------------------------------------


@login_required
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = add_attachment(
                actor=user,
                case=case,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        except (PermissionDenied, DomainError) as exc:
            messages.error(request, str(exc))
            return redirect(reverse("petitions:case_detail", args=[case.pk]) + "#attachments")
        else:
            messages.success(
                request, _("Attachment added: %(name)s") % {"name": attachment.original_name}
            )
            return redirect(reverse("petitions:case_detail", args=[case.pk]) + "#attachments")
    return render_case_page(request, case, attachment_form=form, status=400)


def _download_type(name: str) -> str:
    # The type is taken from the (validated) extension, not from what the uploader's browser
    # claimed, so a file cannot be served as HTML or script.
    guessed, _encoding = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, att_pk: int) -> HttpResponseBase:
    case = get_case_for(_user(request), pk)
    attachment = get_object_or_404(Attachment, case=case, pk=att_pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("Missing file") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=_download_type(attachment.original_name),
    )
    response["Cache-Control"] = "private, no-store"
    return response
