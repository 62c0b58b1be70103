"""The screening page: the decisions on one case (assign, not accept, refer out, legal procedure,
transfer, confirm a return)."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.models import User
from petitions.models import Case
from petitions.selectors import get_case_for
from petitions.states import TRANSITIONS, CaseState

from ..forms import (
    AssignForm,
    ConfirmReturnForm,
    LegalProcedureForm,
    NotAcceptForm,
    ReferOutForm,
    TransferForm,
    VersionedForm,
)
from ..models import NoticeKind, WrittenNotice
from ..selectors import (
    active_assignments,
    clock_for,
    latest_notice,
    notices_of,
    open_screening_deadline,
    returned_assignments,
)
from ..services import (
    assign_case,
    confirm_return,
    not_accept,
    refer_out,
    route_to_legal_procedure,
    screening_flags,
    suggest_lead_department,
    transfer_case,
)
from ._common import (
    QUEUE_ROLES,
    REASSIGN_ROLES,
    SCREENING_ROLES,
    _case_at_own_center,
    _flash_notice,
    _require_roles,
    _service_call,
    _user,
    focus_first_error,
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
