"""Screening (审查分流), the department inbox (签收 / 退回 / 受理) and written notices.

Reads go through routing.selectors and petitions.selectors (the viewer decides what exists: another
department's assignment or another center's case is the same 404 as a missing one); every write
goes through routing.services or petitions.services. Service errors become form errors
(ValidationError), a 409 page with the service's message (DomainError, including StaleState when
someone else changed the case first) or a 403 page with its message (PermissionDenied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, PermissionDenied, StaleState
from core.listing import (
    choice_labels,
    csrf_input,
    esc,
    local_date,
    local_iso,
    local_minute,
    url_maker,
)
from core.models import User
from core.roles import Role
from petitions.actions import Action, CasePage, case_actions
from petitions.models import Case
from petitions.selectors import can_act_on, get_case_for
from petitions.services import add_attachment
from petitions.states import TRANSITIONS, CaseState

from .forms import (
    AssignForm,
    AssignmentAttachmentForm,
    ConfirmReturnForm,
    ContributionForm,
    InboxFilterForm,
    LegalProcedureForm,
    NotAcceptForm,
    NoteForm,
    QueueFilterForm,
    ReassignForm,
    ReferOutForm,
    ReturnForm,
    TransferForm,
    VersionedForm,
)
from .models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRole,
    AssignmentState,
    NoticeKind,
    WrittenNotice,
)
from .notices import notice_pdf
from .selectors import (
    INBOX_SORTS,
    INBOX_TABS,
    QUEUE_TABS,
    Clock,
    InboxFilters,
    QueueFilters,
    active_assignments,
    assisting_contributions,
    clock_for,
    get_assignment_for,
    get_notice_for,
    inbox,
    inbox_counts,
    latest_notice,
    notes_visible_to,
    notices_of,
    objection_deadline,
    open_screening_deadline,
    page_slice,
    returned_assignments,
    triage_queue,
    triage_queue_counts,
)
from .services import (
    accept_assignment,
    add_progress_note,
    assign_case,
    confirm_return,
    not_accept,
    reassign_case,
    refer_out,
    return_assignment,
    route_to_legal_procedure,
    screening_flags,
    sign_for_assignment,
    submit_contribution,
    suggest_lead_department,
    transfer_case,
)

PAGE_SIZE = 50
QUEUE_ROLES = (Role.TRIAGE, Role.SUPERVISOR)
SCREENING_ROLES = (Role.TRIAGE,)
REASSIGN_ROLES = (Role.TRIAGE, Role.SUPERVISOR)
INBOX_ROLES = (Role.OFFICER, Role.HEAD)
ISSUED_NOTICE_SESSION_KEY = "routing_issued_notice"

QUEUE_TAB_LABELS = {
    "new": gettext_lazy("New"),
    "returned": gettext_lazy("Returned"),
    "open": gettext_lazy("All open at my center"),
}
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


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _require_roles(user: User, roles: tuple[str, ...], message: str) -> None:
    if not (user.is_superuser or user.has_role(*roles)):
        raise DjangoPermissionDenied(message)


def _case_at_own_center(user: User, pk: int) -> Case:
    """A case the user's center holds. Subordinate centers screen their own cases, so a case the
    user can only read is not offered here: 404, as for a case that does not exist."""
    case = get_case_for(user, pk)
    if not can_act_on(user, case):
        raise Http404("Not at your center")
    return case


def add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """A service's ValidationError onto the form: its keys onto the fields of the same name (or an
    alias), anything else as a form-wide error."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def focus_first_error(form: forms.Form) -> bool:
    """Put the keyboard focus on the first field with an error (instead of the page's default
    first field), so a user who submitted a form lands where the correction is needed."""
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    for name in form.errors:
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return True
    return False


def _flash_notice(request: HttpRequest, notice: WrittenNotice) -> None:
    """Offer the notice just issued on the next page (a link to print it and its PDF)."""
    request.session[ISSUED_NOTICE_SESSION_KEY] = notice.pk


def _pop_issued_notice(request: HttpRequest, user: User) -> WrittenNotice | None:
    pk = request.session.pop(ISSUED_NOTICE_SESSION_KEY, None)
    if pk is None:
        return None
    try:
        return get_notice_for(user, pk)
    except Http404:
        return None


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@dataclass
class Tab:
    key: str
    label: Any
    count: int
    url: str
    active: bool


def _query(request: HttpRequest, **changes: str | None) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()


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


# --- the screening queue ------------------------------------------------------------------------------


def clock_html(clock: Clock | None) -> str:
    """routing/_clock.html written in Python for the list pages (no template include per row):
    the due date and the days left or overdue, coloured by warning level. Returns escaped HTML."""
    if clock is None:
        return '<span class="muted">—</span>'
    if clock.overdue:
        n = clock.days_overdue
        text = ngettext("%(n)s day overdue", "%(n)s days overdue", n) % {"n": n}
    elif clock.days == 0:
        text = _("due today")
    else:
        text = ngettext("%(n)s day left", "%(n)s days left", clock.days) % {"n": clock.days}
    level = esc(clock.level)
    return (
        f'<span class="clock clock-{level}" data-testid="clock" data-level="{level}"'
        f' data-days="{clock.days}"><time datetime="{local_iso(clock.due_at)}">'
        f'{local_date(clock.due_at)}</time> <span class="days">{esc(text)}</span></span>'
    )


def flags_html(case: Case) -> str:
    """routing/_flags.html written in Python for the screening queue. Returns escaped HTML."""
    parts = []
    if case.is_group:
        parts.append(("warn", "group", _("Group visit")))
    if case.is_major_urgent:
        parts.append(("danger", "major_urgent", _("Major and urgent")))
    if case.is_safety_risk:
        parts.append(("danger", "safety_risk", _("Safety risk")))
    if case.is_skip_level:
        parts.append(("warn", "skip_level", _("Skip-level")))
    if case.visit_count > 1:
        n = case.visit_count
        parts.append(("warn", "repeat", ngettext("%(n)s visit", "%(n)s visits", n) % {"n": n}))
    return "\n".join(
        f'<span class="tag {tone} flag" data-flag="{key}">{esc(label)}</span>'
        for tone, key, label in parts
    )


def _queue_rows(cases: list[Case], now: datetime) -> list[SafeString]:
    """The queue's rows as HTML, written in Python with every label, url and date computed once
    per page (core.listing): a row template render per case was most of the page's time."""
    screen_url = url_maker("routing:screen")
    case_url = url_maker("petitions:case_detail")
    states = choice_labels(CaseState)
    screenable = (CaseState.REGISTERED, CaseState.RETURNED)
    rows = []
    for case in cases:
        clock = clock_for(case.screening_due_at, now)  # type: ignore[attr-defined]
        overdue = ' class="row-overdue"' if clock is not None and clock.overdue else ""
        number = esc(case.number)
        if case.state in screenable:
            link = f'<a href="{screen_url(case.pk)}" data-testid="screen-link">{number}</a>'
        else:
            link = f'<a href="{case_url(case.pk)}">{number}</a>'
        rows.append(
            SafeString(
                f'<tr data-testid="queue-row" data-case="{case.pk}" data-state="{esc(case.state)}"'
                f"{overdue}>\n"
                f'  <td class="nowrap">{link}</td>\n'
                f'  <td class="nowrap"><time datetime="{local_iso(case.registered_at)}">'
                f"{local_minute(case.registered_at)}</time></td>\n"
                f'  <td class="nowrap">{clock_html(clock)}</td>\n'
                f"  <td>{esc(case.main_petitioner.name)}</td>\n"
                f"  <td>{esc(case.category)}</td>\n"
                f"  <td>{esc(case.channel.name)}</td>\n"
                f"  <td>{esc(states.get(case.state, case.state))}</td>\n"
                f"  <td>{flags_html(case)}</td>\n"
                "</tr>\n"
            )
        )
    return rows


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


# --- the screening page -------------------------------------------------------------------------------

SCREENING_FORMS: dict[str, type[VersionedForm]] = {
    "assign": AssignForm,
    "not_accept": NotAcceptForm,
    "refer": ReferOutForm,
    "legal": LegalProcedureForm,
    "transfer": TransferForm,
    "confirm": ConfirmReturnForm,
}


def _decisions_for(case: Case) -> list[str]:
    """The screening decisions the case's state allows. A returned case is first confirmed (which
    cancels what is left of the old assignment) and then assigned afresh, so "assign" is not
    offered on it directly."""
    if case.state == CaseState.REGISTERED:
        return ["assign", "not_accept", "refer", "legal", "transfer"]
    if case.state == CaseState.RETURNED:
        return ["confirm", "not_accept", "refer", "legal", "transfer"]
    return []


def _render_screen(
    request: HttpRequest,
    case: Case,
    *,
    bound: Mapping[str, VersionedForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    can_screen = user.is_superuser or user.has_role(*SCREENING_ROLES)
    suggested = suggest_lead_department(case)
    decisions = _decisions_for(case) if can_screen else []
    decision_forms: dict[str, VersionedForm] = {}
    for name in decisions:
        if bound and name in bound:
            decision_forms[name] = bound[name]
        elif name == "assign":
            decision_forms[name] = AssignForm(case=case, suggested=suggested)
        else:
            decision_forms[name] = SCREENING_FORMS[name](case=case)
    errored = next((f for f in decision_forms.values() if f.is_bound and f.errors), None)
    if errored is not None and focus_first_error(errored):
        assign_form = decision_forms.get("assign")
        if assign_form is not None and assign_form is not errored:
            assign_form.fields["lead"].widget.attrs.pop("autofocus", None)
    screening = open_screening_deadline(case)
    reassign_allowed = case.state in TRANSITIONS["reassign"].sources and (
        user.is_superuser or user.has_role(*REASSIGN_ROLES)
    )
    context = {
        "case": case,
        "flags": screening_flags(case),
        "suggested": suggested,
        "forms": decision_forms,
        "can_screen": can_screen,
        "screening_clock": clock_for(screening.due_at) if screening else None,
        "returned": returned_assignments(case) if case.state == CaseState.RETURNED else [],
        "assignments": active_assignments(case),
        "notices": notices_of(case),
        "reassign_allowed": reassign_allowed,
        "organ_suggestions": LegalProcedureForm.organ_suggestions() if "legal" in decisions else [],
        "procedure_suggestions": LegalProcedureForm.procedure_suggestions(),
    }
    return render(request, "routing/screen.html", context, status=status)


def _apply_decision(
    request: HttpRequest, user: User, case: Case, name: str, form: VersionedForm
) -> HttpResponse:
    data = form.cleaned_data
    version = data["expected_version"]
    notice: WrittenNotice | None = None
    if name == "assign":
        assert isinstance(form, AssignForm)
        lead, assisting = form.targets()
        assign_case(
            actor=user,
            case=case,
            lead=lead,
            assisting=assisting,
            instructions=data.get("instructions", ""),
            expected_version=version,
        )
        messages.success(
            request,
            _("Case %(number)s assigned to %(departments)s.")
            % {
                "number": case.number,
                "departments": ", ".join(
                    [lead.department.name, *(a.department.name for a in assisting)]
                ),
            },
        )
        return redirect("petitions:case_detail", pk=case.pk)
    if name == "confirm":
        confirm_return(actor=user, case=case, note=data.get("note", ""), expected_version=version)
        messages.success(
            request,
            _("Return of case %(number)s confirmed: it is back in screening.")
            % {"number": case.number},
        )
        return redirect("routing:screen", pk=case.pk)
    if name == "not_accept":
        notice = not_accept(actor=user, case=case, reason=data["reason"], expected_version=version)
        text = _("Case %(number)s not accepted.") % {"number": case.number}
    elif name == "refer":
        notice = refer_out(
            actor=user,
            case=case,
            competent_organ=data["competent_organ"],
            reason=data["reason"],
            expected_version=version,
        )
        text = _("Case %(number)s referred to the competent organ.") % {"number": case.number}
    elif name == "legal":
        notice = route_to_legal_procedure(
            actor=user,
            case=case,
            organ=data["organ"],
            procedure=data["procedure"],
            legal_case_number=data["legal_case_number"],
            expected_version=version,
        )
        text = _("Case %(number)s routed into legal procedure.") % {"number": case.number}
    elif name == "transfer":
        transfer = transfer_case(
            actor=user,
            case=case,
            to_center=data["to_center"],
            reason=data["reason"],
            expected_version=version,
        )
        notice = latest_notice(case, NoticeKind.TRANSFER)
        text = _("Case %(number)s transferred to %(center)s.") % {
            "number": case.number,
            "center": transfer.to_center.name,
        }
    else:  # pragma: no cover - names come from SCREENING_FORMS
        raise Http404
    messages.success(request, text)
    if notice is not None:
        _flash_notice(request, notice)
    return redirect("routing:triage_queue")


def _service_call(
    request: HttpRequest,
    call: Callable[[], HttpResponse],
    *,
    form: forms.Form,
    on_error: Callable[[int], HttpResponse],
    aliases: Mapping[str, str] | None = None,
) -> HttpResponse:
    """Run a service call; map its errors onto the form (400), a message (409) or a 403."""
    try:
        return call()
    except ValidationError as exc:
        add_service_errors(form, exc, aliases)
        return on_error(400)
    except StaleState as exc:
        messages.error(request, str(exc), extra_tags="stale")
        return on_error(409)
    except DomainError as exc:
        messages.error(request, str(exc))
        return on_error(409)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return on_error(403)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_roles(user, QUEUE_ROLES, _("Screening is for triage staff."))
    case = _case_at_own_center(user, pk)
    if request.method == "GET":
        return _render_screen(request, case)
    name = request.POST.get("decision", "")
    if name not in SCREENING_FORMS:
        return HttpResponseBadRequest(_("Unknown decision."))
    form_class = SCREENING_FORMS[name]
    form: VersionedForm
    if form_class is AssignForm:
        form = AssignForm(request.POST, case=case, suggested=suggest_lead_department(case))
    else:
        form = form_class(request.POST, case=case)
    if not form.is_valid():
        return _render_screen(request, case, bound={name: form}, status=400)

    def on_error(status: int) -> HttpResponse:
        # After a conflict the page shows the case as it is now, with fresh forms (new version).
        fresh = get_case_for(user, case.pk)
        return _render_screen(
            request, fresh, bound={name: form} if status == 400 else None, status=status
        )

    return _service_call(
        request,
        lambda: _apply_decision(request, user, case, name, form),
        form=form,
        on_error=on_error,
        aliases=getattr(form, "service_error_fields", None),
    )


# --- reassignment -------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_roles(user, REASSIGN_ROLES, _("Reassignment is for triage staff and supervisors."))
    case = _case_at_own_center(user, pk)
    current = active_assignments(case)
    lead = next((a.department for a in current if a.role == AssignmentRole.LEAD), None)
    allowed = case.state in TRANSITIONS["reassign"].sources
    form = ReassignForm(
        request.POST if request.method == "POST" else None, case=case, suggested=lead
    )

    def page(status: int = 200, form: ReassignForm = form) -> HttpResponse:
        return render(
            request,
            "routing/reassign.html",
            {"case": case, "form": form, "current": current, "allowed": allowed},
            status=status,
        )

    if request.method == "GET":
        return page()
    if not form.is_valid():
        focus_first_error(form)
        return page(400)

    def call() -> HttpResponse:
        new_lead, assisting = form.targets()
        reassign_case(
            actor=user,
            case=case,
            lead=new_lead,
            assisting=assisting,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["expected_version"],
        )
        messages.success(
            request,
            _("Case %(number)s reassigned to %(department)s.")
            % {"number": case.number, "department": new_lead.department.name},
        )
        return redirect("petitions:case_detail", pk=case.pk)

    def on_error(status: int) -> HttpResponse:
        if status == 400:
            focus_first_error(form)
            return page(400)
        fresh = get_case_for(user, case.pk)
        return render(
            request,
            "routing/reassign.html",
            {
                "case": fresh,
                "form": ReassignForm(case=fresh, suggested=lead),
                "current": active_assignments(fresh),
                "allowed": fresh.state in TRANSITIONS["reassign"].sources,
            },
            status=status,
        )

    return _service_call(
        request, call, form=form, on_error=on_error, aliases=ReassignForm.service_error_fields
    )


# --- the department inbox -----------------------------------------------------------------------------


def _inbox_rows(
    request: HttpRequest, assignments: list[Assignment], now: datetime
) -> list[SafeString]:
    """The inbox's rows as HTML, written in Python with every label, url and date computed once
    per page (core.listing): a row template render per assignment was most of the page's time."""
    case_url = url_maker("petitions:case_detail")
    open_url = url_maker("routing:assignment_detail")
    sign_url = url_maker("routing:assignment_sign")
    accept_url = url_maker("routing:assignment_accept")
    roles = choice_labels(AssignmentRole)
    states = choice_labels(AssignmentState)
    case_states = choice_labels(CaseState)
    open_label, sign_label, accept_label = esc(_("Open")), esc(_("Sign for")), esc(_("Accept"))
    csrf = csrf_input(request)
    next_input = f'<input type="hidden" name="next" value="{esc(request.get_full_path())}">'
    rows = []
    for a in assignments:
        case = a.case
        clock = clock_for(a.due_at, now) if a.state in ACTIVE_ASSIGNMENT_STATES else None
        number = esc(case.number)
        hidden_number = f'<span class="visually-hidden"> {number}</span>'
        if a.state == AssignmentState.PENDING:
            action = (
                f'\n    <form method="post" action="{sign_url(a.pk)}" class="inline">{csrf}'
                f"{next_input}"
                f'<button type="submit" class="primary small" data-testid="sign-for">'
                f"{sign_label}{hidden_number}</button></form>"
            )
        elif a.state == AssignmentState.SIGNED and a.role == AssignmentRole.LEAD:
            action = (
                f'\n    <form method="post" action="{accept_url(a.pk)}" class="inline">{csrf}'
                f'<button type="submit" class="primary small" data-testid="accept">'
                f"{accept_label}{hidden_number}</button></form>"
            )
        else:
            action = ""
        is_lead = a.role == AssignmentRole.LEAD
        returned = (
            f' <span class="tag">{esc(states[a.state])}</span>'
            if a.state == AssignmentState.RETURNED
            else ""
        )
        rows.append(
            SafeString(
                f'<tr data-testid="inbox-row" data-case="{a.case_id}" data-assignment="{a.pk}"'
                f' data-state="{esc(a.state)}"'
                f"{' class="row-overdue"' if clock is not None and clock.overdue else ''}>\n"
                f'  <td class="nowrap"><a href="{case_url(a.case_id)}" data-testid="case-link">'
                f"{number}</a></td>\n"
                f'  <td><span class="tag{" lead" if is_lead else ""}" data-role="{esc(a.role)}">'
                f"{esc(roles.get(a.role, a.role))}</span></td>\n"
                f'  <td class="nowrap"><time datetime="{local_iso(a.assigned_at)}">'
                f"{local_date(a.assigned_at)}</time></td>\n"
                f'  <td class="nowrap">'
                f"{clock_html(clock) if clock is not None else local_date(a.due_at)}</td>\n"
                f"  <td>{esc(case_states.get(case.state, case.state))}{returned}</td>\n"
                f"  <td>{esc(case.main_petitioner.name)}</td>\n"
                f"  <td>{esc(case.category)}</td>\n"
                f'  <td class="row-actions">\n'
                f'    <a href="{open_url(a.pk)}" data-testid="open-assignment">{open_label}'
                f"{hidden_number}</a>{action}\n"
                "  </td>\n"
                "</tr>\n"
            )
        )
    return rows


@dataclass
class SortLink:
    key: str
    label: Any
    url: str
    aria_sort: str  # "ascending" / "descending" / "" (not sorted by this column)


def _require_department(user: User) -> None:
    _require_roles(user, INBOX_ROLES, _("The inbox is for department officers and heads."))
    if not user.department_id:
        raise DjangoPermissionDenied(_("You are not attached to a department."))


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


# --- one assignment -----------------------------------------------------------------------------------


def _render_assignment(
    request: HttpRequest,
    assignment: Assignment,
    *,
    forms_override: Mapping[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    case = assignment.case
    objection = objection_deadline(assignment)
    forms_override = forms_override or {}
    focus_error = any(focus_first_error(f) for f in forms_override.values() if f.errors)
    state = assignment.state
    is_lead = assignment.role == AssignmentRole.LEAD
    now = timezone.now()
    context = {
        "next_steps": _next_steps(user, case),
        "assignment": assignment,
        "case": case,
        "is_lead": is_lead,
        "focus_error": focus_error,
        "due_clock": clock_for(assignment.due_at, now)
        if state in ACTIVE_ASSIGNMENT_STATES
        else None,
        "objection": objection,
        "objection_clock": clock_for(objection.due_at, now)
        if objection is not None and objection.met_at is None
        else None,
        "objection_passed": objection is not None and now > objection.due_at,
        "contributions": assisting_contributions(assignment),
        "notes": list(notes_visible_to(user, case)),
        "notices": notices_of(case),
        "attachments": list(
            case.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
        ),
        "issued_notice": _pop_issued_notice(request, user),
        "can_sign": state == AssignmentState.PENDING,
        "can_return": state in (AssignmentState.PENDING, AssignmentState.SIGNED),
        "can_accept": is_lead and state == AssignmentState.SIGNED,
        "can_contribute": not is_lead
        and state in (AssignmentState.SIGNED, AssignmentState.ACCEPTED),
        # notes and attachments: refused by the services on an archived (read-only) file
        "can_note": state != AssignmentState.CANCELLED and case.state != CaseState.ARCHIVED,
        "return_form": forms_override.get("return") or ReturnForm(),
        "note_form": forms_override.get("note") or NoteForm(),
        "contribution_form": forms_override.get("contribution")
        or ContributionForm(initial={"text": assignment.contribution}),
        "attachment_form": forms_override.get("attachment") or AssignmentAttachmentForm(),
    }
    return render(request, "routing/assignment_detail.html", context, status=status)


def _next_steps(user: User, case: Case) -> list[Action]:
    """What the officer can do next on the case, offered where the officer is (after 签收 and
    受理 the work moves on to the reply and, when needed, an extension): the case page's own
    actions (petitions.actions), so both pages offer the same steps under the same conditions.
    Routing's actions are this page's forms and are left out."""
    return [
        a
        for a in case_actions(user, case, CasePage(user, case))
        if not a.name.startswith("routing.")
    ]


@never_cache
@login_required
@require_GET
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_department(user)
    return _render_assignment(request, get_assignment_for(user, pk))


def _assignment_post(
    request: HttpRequest,
    pk: int,
    *,
    form_name: str | None,
    make_form: Callable[[], forms.Form] | None,
    act: Callable[[User, Assignment, forms.Form | None], str],
    anchor: str = "",
) -> HttpResponse:
    """The shape of every receiving-side action: find the assignment (404 if not the user's
    department's), validate the form, call the service, then redirect with a message or render
    the assignment page with the errors."""
    user = _user(request)
    _require_department(user)
    assignment = get_assignment_for(user, pk)
    form = make_form() if make_form else None
    detail_url = reverse("routing:assignment_detail", args=[assignment.pk])

    def on_error(status: int) -> HttpResponse:
        fresh = get_assignment_for(user, pk)
        overrides = {form_name: form} if form_name and form is not None else None
        return _render_assignment(request, fresh, forms_override=overrides, status=status)

    if form is not None and not form.is_valid():
        return on_error(400)

    def call() -> HttpResponse:
        messages.success(request, act(user, assignment, form))
        return redirect(_safe_next(request, detail_url + anchor))

    return _service_call(request, call, form=form or forms.Form(), on_error=on_error)


@login_required
@require_POST
def assignment_sign(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        sign_for_assignment(actor=user, assignment=assignment)
        return _("Signed for case %(number)s.") % {"number": assignment.case.number}

    return _assignment_post(request, pk, form_name=None, make_form=None, act=act)


@login_required
@require_POST
def assignment_return(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        assert form is not None
        return_assignment(actor=user, assignment=assignment, reason=form.cleaned_data["reason"])
        return _("Case %(number)s returned to the center with your objection.") % {
            "number": assignment.case.number
        }

    return _assignment_post(
        request, pk, form_name="return", make_form=lambda: ReturnForm(request.POST), act=act
    )


@login_required
@require_POST
def assignment_accept(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        notice = accept_assignment(actor=user, assignment=assignment)
        _flash_notice(request, notice)
        return _("Case %(number)s accepted; the 60-day handling period has started.") % {
            "number": assignment.case.number
        }

    return _assignment_post(request, pk, form_name=None, make_form=None, act=act)


@login_required
@require_POST
def assignment_note(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        assert form is not None
        add_progress_note(
            actor=user,
            case=assignment.case,
            text=form.cleaned_data["text"],
            shared_with_center=form.cleaned_data["shared_with_center"],
        )
        return _("Progress note added.")

    return _assignment_post(
        request,
        pk,
        form_name="note",
        make_form=lambda: NoteForm(request.POST),
        act=act,
        anchor="#notes",
    )


@login_required
@require_POST
def assignment_contribute(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        assert form is not None
        submit_contribution(actor=user, assignment=assignment, text=form.cleaned_data["text"])
        return _("Contribution submitted to the lead department.")

    return _assignment_post(
        request,
        pk,
        form_name="contribution",
        make_form=lambda: ContributionForm(request.POST),
        act=act,
    )


@login_required
@require_POST
def assignment_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, assignment: Assignment, form: forms.Form | None) -> str:
        assert form is not None
        try:
            attachment = add_attachment(
                actor=user,
                case=assignment.case,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            # The file checks (type, size) are about the file field whatever key they carry.
            raise ValidationError({"file": exc.messages}) from exc
        return _("Attachment added: %(name)s") % {"name": attachment.original_name}

    return _assignment_post(
        request,
        pk,
        form_name="attachment",
        make_form=lambda: AssignmentAttachmentForm(request.POST, request.FILES),
        act=act,
        anchor="#attachments",
    )


# --- written notices ----------------------------------------------------------------------------------


@login_required
@require_GET
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_notice_for(_user(request), pk)
    return render(request, "routing/notice.html", {"notice": found, "case": found.case})


@login_required
@require_GET
def notice_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_notice_for(_user(request), pk)
    response = HttpResponse(notice_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{found.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
