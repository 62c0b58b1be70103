"""One assignment and what the receiving department does with it: sign for, return, accept, notes,
contributions and attachments."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.models import User
from petitions.actions import Action, CasePage, case_actions
from petitions.models import Case
from petitions.services import add_attachment
from petitions.states import CaseState

from ..forms import AssignmentAttachmentForm, ContributionForm, NoteForm, ReturnForm
from ..models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole, AssignmentState
from ..selectors import (
    assisting_contributions,
    clock_for,
    get_assignment_for,
    notes_visible_to,
    notices_of,
    objection_deadline,
)
from ..services import (
    accept_assignment,
    add_progress_note,
    return_assignment,
    sign_for_assignment,
    submit_contribution,
)
from ._common import (
    _flash_notice,
    _pop_issued_notice,
    _require_department,
    _safe_next,
    _service_call,
    _user,
    focus_first_error,
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
