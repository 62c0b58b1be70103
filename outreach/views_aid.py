"""Judicial aid pages (司法救助): the application form, the application's page with a form for
each step its state allows, the refusal notice (page and PDF), and the aid ledger (filters,
Excel export).

Reads go through outreach.selectors_aid (a case the viewer may not see, or an application not on
it, is the same 404); every write through outreach.services.aid. A POST redirects back with a
message (PRG), or renders the page again with the form's errors (400), the service's message
(409 for a DomainError, a stale version included, with nothing saved) or 403.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clocks.deadlines import CHINA_TZ
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import DepartmentKind, User
from petitions.selectors import get_case_for
from reports.ledger import is_formula_like

from . import selectors_aid as selectors
from .aid_notice import notice_number, refusal_notice, refusal_notice_pdf
from .forms_aid import (
    ApplyForm,
    ApproveForm,
    DecideForm,
    EligibilityForm,
    LedgerFilterForm,
    PayForm,
)
from .models import AidApplication, AidState, EligibilityQuestion
from .services import aid as services

LEDGER_PAGE_SIZE = 100


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        form.add_error(key if key in form.fields else None, errors)


def _refuse(form: forms.Form, exc: Exception) -> int:
    """Put a service refusal on the form; the status to answer with."""
    if isinstance(exc, StaleState):
        form.add_error(None, _("Changed by someone else in the meantime; please reload."))
        return 409
    if isinstance(exc, DomainError):
        form.add_error(None, str(exc))
        return 409
    form.add_error(None, str(exc))
    return 403


def _detail_url(application: AidApplication) -> str:
    return reverse("outreach:aid_detail", args=[application.case_id, application.pk])


# --- apply ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def aid_apply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    if not (
        services.may_apply(user, case)
        and (user.is_superuser or user.has_role(*services.APPLYING_ROLES))
    ):
        raise DjangoPermissionDenied(_("You may not apply for judicial aid on this case."))
    kwargs: dict[str, Any] = {
        "applicants": services.applicant_choices(case),
        "departments": services.deciding_departments(case),
    }
    status = 200
    if request.method == "POST":
        form = ApplyForm(request.POST, request.FILES, **kwargs)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                application = services.apply_for_aid(
                    actor=user,
                    case=case,
                    applicant=d["applicant"],
                    circumstance=d["circumstance"],
                    circumstances=d["circumstances"],
                    requested_amount=d["requested_amount"],
                    department=d["department"],
                    expected_version=d.get("expected_version"),
                    submission_key=d.get("submission_key") or "",
                    files=d.get("evidence") or [],
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            except (DomainError, PermissionDenied) as exc:
                status = _refuse(form, exc)
            else:
                messages.success(request, _("The application for judicial aid is recorded."))
                return redirect(_detail_url(application))
    else:
        form = ApplyForm(initial={"expected_version": case.version}, **kwargs)
    return render(request, "outreach/aid/apply.html", {"case": case, "form": form}, status=status)


# --- the application's page -------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    application: AidApplication,
    *,
    status: int = 200,
    **forms_given: forms.Form,
) -> HttpResponse:
    user = _user(request)
    version = {"expected_version": application.version}
    questions = list(EligibilityQuestion.objects.filter(is_active=True))
    checks = {c.question_id: c for c in application.eligibility.all()}
    state = application.state
    context: dict[str, Any] = {
        "case": application.case,
        "application": application,
        "checks": sorted(checks.values(), key=lambda c: (c.question.sort_order, c.question_id)),
        "unanswered": [q for q in questions if q.pk not in checks],
        "history": application.history.select_related("history_user").order_by("-history_date")[
            :20
        ],
    }
    if state == AidState.APPLIED and services.may_prepare(user, application):
        context["complete_form"] = forms_given.get("complete_form") or forms.Form(initial=version)
    if state in (AidState.APPLIED, AidState.COMPLETE) and (
        services.may_prepare(user, application) or services.may_decide(user, application)
    ):
        initial: dict[str, Any] = dict(version)
        for qid, check in checks.items():
            initial[f"answer_{qid}"] = check.answer
            initial[f"reason_{qid}"] = check.reason
        context["eligibility_form"] = forms_given.get("eligibility_form") or EligibilityForm(
            initial=initial, questions=questions
        )
    if state == AidState.COMPLETE and services.may_decide(user, application):
        context["decide_form"] = forms_given.get("decide_form") or DecideForm(initial=version)
        year = timezone.now().astimezone(CHINA_TZ).year
        context["cap_rule"] = services.cap_rule_for(application.case, year)
        context["cap_year"] = year
        context["province"] = services.province_code(application.case)
    if state == AidState.AWAITING_LEADER and services.may_approve(user, application):
        context["approve_form"] = forms_given.get("approve_form") or ApproveForm(initial=version)
    if state == AidState.GRANTED and services.may_pay(user, application):
        context["pay_form"] = forms_given.get("pay_form") or PayForm(
            initial={**version, "amount": application.amount}
        )
    return render(request, "outreach/aid/detail.html", context, status=status)


@login_required
@require_GET
def aid_detail(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    return _page(request, selectors.get_aid_for(_user(request), pk, aid))


class _VersionOnly(forms.Form):
    expected_version = forms.IntegerField(required=False)


def _version(request: HttpRequest) -> int | None:
    form = _VersionOnly(request.POST)
    return form.cleaned_data.get("expected_version") if form.is_valid() else None


@login_required
@require_POST
def aid_complete(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_aid_for(user, pk, aid)
    form = forms.Form(request.POST)
    try:
        services.mark_complete(
            actor=user, application=application, expected_version=_version(request)
        )
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _page(request, application, status=400, complete_form=form)
    except (DomainError, PermissionDenied) as exc:
        status = _refuse(form, exc)
        return _page(request, application, status=status, complete_form=form)
    messages.success(request, _("The materials are complete: the decision is due in time."))
    return redirect(_detail_url(application))


@login_required
@require_POST
def aid_eligibility(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_aid_for(user, pk, aid)
    questions = list(EligibilityQuestion.objects.filter(is_active=True))
    form = EligibilityForm(request.POST, questions=questions)
    status = 400
    if form.is_valid():
        try:
            services.answer_eligibility(
                actor=user,
                application=application,
                answers=form.answers(),
                expected_version=form.cleaned_data.get("expected_version"),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            status = _refuse(form, exc)
        else:
            messages.success(request, _("The eligibility checklist is saved."))
            return redirect(_detail_url(application) + "#eligibility")
    return _page(request, application, status=status, eligibility_form=form)


@login_required
@require_POST
def aid_decide(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_aid_for(user, pk, aid)
    form = DecideForm(request.POST)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.decide_aid(
                actor=user,
                application=application,
                decision=d["decision"],
                amount=d.get("amount"),
                reasons=d.get("reasons") or "",
                expected_version=d.get("expected_version"),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            status = _refuse(form, exc)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect(_detail_url(application))
    return _page(request, application, status=status, decide_form=form)


@login_required
@require_POST
def aid_approve(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_aid_for(user, pk, aid)
    form = ApproveForm(request.POST)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.approve_aid(
                actor=user,
                application=application,
                approve=bool(d["approve"]),
                reasons=d.get("reasons") or "",
                expected_version=d.get("expected_version"),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            status = _refuse(form, exc)
        else:
            messages.success(request, _("The leader's decision is recorded."))
            return redirect(_detail_url(application))
    return _page(request, application, status=status, approve_form=form)


@login_required
@require_POST
def aid_pay(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_aid_for(user, pk, aid)
    form = PayForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.pay_aid(
                actor=user,
                application=application,
                paid_on=d["paid_on"],
                method=d["method"],
                amount=d["amount"],
                voucher=d["voucher"],
                expected_version=d.get("expected_version"),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            status = _refuse(form, exc)
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect(_detail_url(application))
    return _page(request, application, status=status, pay_form=form)


# --- the refusal notice -----------------------------------------------------------------------------


def _refused(request: HttpRequest, pk: int, aid: int) -> AidApplication:
    application = selectors.get_aid_for(_user(request), pk, aid)
    if application.state != AidState.REFUSED:
        raise Http404("No notice: the application was not refused")
    return application


@login_required
@require_GET
def aid_notice(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    application = _refused(request, pk, aid)
    title, text, issuer = refusal_notice(application)
    return render(
        request,
        "outreach/aid/notice.html",
        {
            "application": application,
            "case": application.case,
            "title": title,
            "number": notice_number(application),
            "paragraphs": text.split("\n"),
        },
    )


@login_required
@require_GET
def aid_notice_pdf(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    application = _refused(request, pk, aid)
    response = HttpResponse(refusal_notice_pdf(application), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="aid-{application.pk}-notice.pdf"'
    return response


# --- the ledger -------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[LedgerFilterForm, selectors.LedgerFilters]:
    form = LedgerFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        return form, selectors.LedgerFilters(
            since=d.get("since"),
            until=d.get("until"),
            organ=d.get("organ") or "",
            state=d.get("state") or "",
        )
    return form, selectors.LedgerFilters()


def ledger_columns() -> list[tuple[str, int]]:
    return [
        (_("Case number"), 20),
        (_("Applicant"), 10),
        (_("ID number"), 22),
        (_("Center"), 16),
        (_("Deciding organ"), 22),
        (_("Circumstances"), 24),
        (_("Applied at"), 18),
        (_("Materials complete at"), 18),
        (_("Amount requested (yuan)"), 14),
        (_("State"), 16),
        (_("Amount granted (yuan)"), 14),
        (_("Decided at"), 18),
        (_("Approved by the leader at"), 18),
        (_("Amount paid (yuan)"), 14),
        (_("Paid on"), 12),
        (_("Reasons"), 40),
    ]


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: Beijing wall time without tzinfo
    return value.astimezone(CHINA_TZ).replace(tzinfo=None) if value else None


def ledger_cells(a: AidApplication) -> list[Any]:
    """One ledger row, as the export writes it (masked ID number only)."""
    department = a.department
    return [
        a.case.number,
        a.applicant.name,
        a.applicant.id_number_masked,
        department.center.name,
        f"{department.name}",
        a.get_circumstance_display(),
        _local(a.applied_at),
        _local(a.completed_at),
        a.requested_amount,
        a.get_state_display(),
        a.amount if a.state in selectors.GRANTED_STATES else None,
        _local(a.decided_at),
        _local(a.approved_at),
        a.paid_amount,
        a.paid_on,
        a.reasons,
    ]


@login_required
@require_GET
def aid_ledger(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form, filters = _filters(request)
    qs = selectors.ledger_for(user, filters)
    rows = list(qs[: LEDGER_PAGE_SIZE + 1])
    more = len(rows) > LEDGER_PAGE_SIZE
    rows = rows[:LEDGER_PAGE_SIZE]
    return render(
        request,
        "outreach/aid/ledger.html",
        {
            "form": form,
            "rows": rows,
            "more": more,
            "query": request.GET.urlencode(),
            "organ_kinds": dict(DepartmentKind.choices),
        },
    )


@login_required
@require_GET
def aid_ledger_export(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    user = _user(request)
    _form, filters = _filters(request)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Judicial aid ledger")[:31])
    columns = ledger_columns()
    for i, (_label, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label, _width in columns:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for application in selectors.ledger_for(user, filters).iterator(chunk_size=500):
        out: list[Any] = []
        for value in ledger_cells(application):
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                out.append(cell)
            elif is_formula_like(value):
                # a string cell with Excel's quote prefix stays text, as typed
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cell.quotePrefix = True
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.now().astimezone(CHINA_TZ).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="judicial-aid-{stamp}.xlsx"'
    return response
