"""Reassignment of a case in handling to other departments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from petitions.selectors import get_case_for
from petitions.states import TRANSITIONS

from ..forms import ReassignForm
from ..models import AssignmentRole
from ..selectors import active_assignments
from ..services import reassign_case
from ._common import (
    REASSIGN_ROLES,
    _case_at_own_center,
    _require_roles,
    _service_call,
    _user,
    focus_first_error,
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
