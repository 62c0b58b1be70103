"""带案巡视 pages: the list, the plan form, the tour page (carried cases with the forms for
receptions, meetings and findings with the instruction), the report (printable) and its PDF.

Reads go through outreach.selectors_tours (not-yours and not-found are the same 404); every write
through outreach.services.tours. A POST redirects back with a message (PRG), or renders the page
again with the form's errors (400), the service's message (409 for a DomainError or a stale
version, nothing saved) or 403 (PermissionDenied).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clocks.deadlines import CHINA_TZ
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from petitions.models import Case
from petitions.selectors import cases_visible_to

from . import selectors_tours as selectors
from .forms_tours import (
    AddCasesForm,
    FindingForm,
    MeetingForm,
    ReceptionForm,
    ReportForm,
    TourForm,
    VersionForm,
)
from .models import Tour, TourCase, TourState
from .services import tours as services

LIST_LIMIT = 200


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def stale_message() -> str:
    return _("Changed by someone else in the meantime; please reload.")


def _add_service_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str]) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = aliases.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


# --- list and plan ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def tour_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tours = list(
        selectors.with_figures(
            selectors.tours_visible_to(user).select_related("center", "target_center", "leader")
        ).order_by("-starts_on", "-pk")[:LIST_LIMIT]
    )
    rows = [
        {
            "tour": t,
            "live": t.state != TourState.REPORTED or t.has_open_order,  # type: ignore[attr-defined]
        }
        for t in tours
    ]
    return render(
        request,
        "outreach/tours/list.html",
        {"rows": rows, "may_plan": selectors.may_plan_tours(user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tour_plan(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not selectors.may_plan_tours(user):
        raise DjangoPermissionDenied(_("Tours are planned by supervisors and leaders."))
    if request.method != "POST":
        return render(request, "outreach/tours/plan.html", {"form": TourForm(actor=user)})
    form = TourForm(request.POST, actor=user)
    status = 400
    if form.is_valid():
        try:
            tour = services.plan_tour(actor=user, **form.service_fields())
        except ValidationError as exc:
            _add_service_errors(form, exc, {"cases": "case_numbers"})
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, _("The tour was planned."))
            return redirect("outreach:tour", pk=tour.pk)
    return render(request, "outreach/tours/plan.html", {"form": form}, status=status)


# --- the tour page ----------------------------------------------------------------------------------


def _render_tour(
    request: HttpRequest,
    tour: Tour,
    *,
    status: int = 200,
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    user = _user(request)
    bound = bound or {}
    report = selectors.tour_report(tour)
    manage = selectors.can_manage_tour(user, tour)
    team = selectors.is_on_team(user, tour)
    open_tour = tour.state != TourState.REPORTED
    visible = set(
        cases_visible_to(user)
        .filter(pk__in=[r.case.pk for r in report.rows])
        .values_list("pk", flat=True)
    )
    finding_case = bound.get("finding_case")
    rows = []
    for r in report.rows:
        form = None
        if team and open_tour:
            form = (
                bound["finding"]
                if finding_case == r.case.pk
                else FindingForm(
                    initial={
                        "findings": r.carried.findings,
                        "decision": r.carried.decision,
                        "instruction": r.carried.instruction,
                        "instruction_due": r.carried.instruction_due,
                        "expected_version": r.carried.version,
                    },
                    prefix=f"f{r.case.pk}",
                )
            )
        rows.append(
            {
                "r": r,
                "case_url": reverse("petitions:case_detail", args=[r.case.pk])
                if r.case.pk in visible
                else "",
                "finding_form": form,
                "removable": manage
                and open_tour
                and _today() <= tour.ends_on
                and not (r.receptions or r.meetings or r.carried.order_id or r.carried.findings),
            }
        )
    context = {
        "tour": tour,
        "report": report,
        "rows": rows,
        "manage": manage,
        "team": team,
        "open_tour": open_tour,
        "members": list(tour.members.order_by("pk")),
        "version_form": VersionForm(initial={"expected_version": tour.version}),
        "reception_form": bound.get("reception")
        or (ReceptionForm(tour=tour) if team and open_tour else None),
        "meeting_form": bound.get("meeting")
        or (MeetingForm(tour=tour) if team and open_tour else None),
        "add_form": bound.get("add")
        or (
            AddCasesForm(actor=user, tour=tour, initial={"expected_version": tour.version})
            if manage and open_tour and _today() <= tour.ends_on
            else None
        ),
        "report_form": bound.get("report")
        or (
            ReportForm(initial={"expected_version": tour.version}) if manage and open_tour else None
        ),
        "receptions": list(
            tour.receptions.select_related(
                "visit__case", "visit__petitioner", "visit__received_by_leader"
            ).order_by("visit__at")
        ),
        "meetings": list(
            tour.meetings.select_related("consultation__case")
            .prefetch_related("consultation__departments")
            .order_by("consultation__held_at")
        ),
        "history": list(tour.history.select_related("history_user").order_by("-history_date")[:30]),
    }
    return render(request, "outreach/tours/detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def tour_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_tour(request, selectors.get_tour_for(_user(request), pk))


def _write(
    request: HttpRequest,
    tour: Tour,
    form: forms.Form,
    write: Callable[[], Any],
    done: str,
    key: str,
    *,
    aliases: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Run a service write for a valid form: PRG on success, else the page with the errors."""
    status = 400
    if form.is_valid():
        try:
            write()
        except ValidationError as exc:
            _add_service_errors(form, exc, aliases or {})
        except StaleState:
            form.add_error(None, stale_message())
            status = 409
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, done)
            return redirect(reverse("outreach:tour", args=[tour.pk]) + f"#{key}")
    messages.error(request, _("Please correct the errors below."))
    return _render_tour(request, tour, status=status, bound={key: form, **(extra or {})})


def _tour(request: HttpRequest, pk: int) -> tuple[User, Tour]:
    user = _user(request)
    return user, selectors.get_tour_for(user, pk)


def _carried_case(tour: Tour, case_id: int) -> TourCase:
    tc = TourCase.objects.select_related("tour", "case").filter(tour=tour, case_id=case_id).first()
    if tc is None:
        raise Http404("Not carried")
    return tc


@login_required
@require_POST
def tour_add_cases(request: HttpRequest, pk: int) -> HttpResponse:
    user, tour = _tour(request, pk)
    if not selectors.can_manage_tour(user, tour):
        raise DjangoPermissionDenied(
            _("Only the supervisors and leaders of the touring center may do this.")
        )
    form = AddCasesForm(request.POST, actor=user, tour=tour)
    return _write(
        request,
        tour,
        form,
        lambda: services.add_tour_cases(
            actor=user,
            tour=tour,
            cases=form.cleaned_data.get("case_numbers") or [],
            matters=list(form.cleaned_data.get("matters") or []),
            expected_version=form.cleaned_data.get("expected_version"),
        ),
        _("The cases were added."),
        "add",
        aliases={"cases": "case_numbers"},
    )


@login_required
@require_POST
def tour_remove_case(request: HttpRequest, pk: int, case_id: int) -> HttpResponse:
    user, tour = _tour(request, pk)
    tc = _carried_case(tour, case_id)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("expected_version") if form.is_valid() else None
    try:
        services.remove_tour_case(actor=user, tour_case=tc, expected_version=version)
    except StaleState:
        messages.error(request, stale_message())
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The case is no longer carried."))
    return redirect("outreach:tour", pk=tour.pk)


@login_required
@require_POST
def tour_reception(request: HttpRequest, pk: int) -> HttpResponse:
    user, tour = _tour(request, pk)
    form = ReceptionForm(request.POST, tour=tour)

    def write() -> Any:
        d = form.cleaned_data
        case = Case.objects.get(pk=d["case"])
        return services.record_reception(
            actor=user,
            tour=tour,
            case=case,
            at=d["at"],
            notes=d.get("notes") or "",
            headcount=d["headcount"],
            expected_version=d.get("expected_version"),
            submission_key=d.get("submission_key") or "",
        )

    return _write(request, tour, form, write, _("The reception was recorded."), "reception")


@login_required
@require_POST
def tour_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    user, tour = _tour(request, pk)
    form = MeetingForm(request.POST, tour=tour)

    def write() -> Any:
        d = form.cleaned_data
        return services.record_meeting(
            actor=user,
            tour=tour,
            case=Case.objects.get(pk=d["case"]),
            held_at=d["held_at"],
            departments=list(d["departments"]),
            participants=d.get("participants") or "",
            decisions=d.get("decisions") or "",
        )

    return _write(request, tour, form, write, _("The meeting was recorded."), "meeting")


@login_required
@require_POST
def tour_finding(request: HttpRequest, pk: int, case_id: int) -> HttpResponse:
    user, tour = _tour(request, pk)
    tc = _carried_case(tour, case_id)
    form = FindingForm(request.POST, prefix=f"f{case_id}")

    def write() -> Any:
        d = form.cleaned_data
        return services.record_finding(
            actor=user,
            tour_case=tc,
            findings=d.get("findings") or "",
            decision=d.get("decision") or "",
            instruction=d.get("instruction") or "",
            instruction_due=d.get("instruction_due"),
            expected_version=d.get("expected_version"),
        )

    return _write(
        request,
        tour,
        form,
        write,
        _("The findings were saved."),
        "finding",
        extra={"finding_case": case_id},
    )


# --- the report -------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tour_report(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the printable report. POST: file it (the tour's managers)."""
    user, tour = _tour(request, pk)
    if request.method == "POST":
        form = ReportForm(request.POST)
        return _write(
            request,
            tour,
            form,
            lambda: services.file_report(
                actor=user,
                tour=tour,
                summary=form.cleaned_data.get("summary") or "",
                expected_version=form.cleaned_data.get("expected_version"),
            ),
            _("The report was filed."),
            "report",
        )
    return render(
        request,
        "outreach/tours/report.html",
        {
            "tour": tour,
            "report": selectors.tour_report(tour),
            "members": list(tour.members.order_by("pk")),
            "now": timezone.now(),
        },
    )


@login_required
@require_GET
def tour_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .exports_tours import report_document

    user, tour = _tour(request, pk)
    now: datetime = timezone.now()
    pdf = report_document(
        tour,
        selectors.tour_report(tour),
        list(tour.members.order_by("pk")),
        now=now,
        author=str(user),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tour-{tour.pk}-report.pdf"'
    return response
