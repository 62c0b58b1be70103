"""Pages of 下访 / 约访 (the forms of the case page's outreach card) and of the leaders' reception
days (the schedule of a center with the office's form, the 公告 print page and its PDF).

The case page's forms post here and come back to the case page (#outreach) with a message: the
service's field errors are shown as messages, as the case page's one-click actions do. Every
write goes through outreach.services; the case through petitions.selectors.get_case_for."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clocks.deadlines import CHINA_TZ
from core.errors import DomainError, PermissionDenied
from core.models import Center, User
from core.pdf import Signature, build_document
from core.roles import Role
from core.selectors import centers_visible_to
from intake.models import LeaderDuty
from petitions.models import Case
from petitions.selectors import get_case_for

from .models import OutreachKind, PlaceKind
from .selectors_visits import PLACE_LABELS, get_appointment_for, public_row, reception_days
from .services import reception_days as day_services
from .services import visits as services


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _back(case: Case) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("petitions:case_detail", args=[case.pk]) + "#outreach")


def _report_errors(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc))


# --- forms (shape only; the services check the rules) ------------------------------------------------


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def leader_choices(case: Case) -> list[tuple[str, str]]:
    """Leaders and department heads of the case's center and of the centers above it."""
    ancestors = [int(p) for p in case.center.path.strip("/").split("/") if p]
    users = (
        User.objects.filter(
            is_active=True,
            center_id__in=ancestors,
            roles__role__in=[Role.LEADER, Role.HEAD],
        )
        .distinct()
        .order_by("center_id", "username")
    )
    return [("", _("— none (staff only) —"))] + [(str(u.pk), str(u)) for u in users]


class OutreachForm(forms.Form):
    at = forms.DateTimeField(label=gettext_lazy("Time"), widget=LocalDateTimeInput())
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200)
    place_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of place"),
        choices=[(value, PLACE_LABELS[value]) for value in PlaceKind.values],
    )
    leader = forms.ChoiceField(label=gettext_lazy("Leader"), required=False)
    participants = forms.CharField(label=gettext_lazy("With whom"), required=False)
    notes = forms.CharField(
        label=gettext_lazy("What the petitioner said"), required=False, widget=forms.Textarea
    )
    agreed = forms.CharField(
        label=gettext_lazy("What was agreed"), required=False, widget=forms.Textarea
    )
    next_step = forms.CharField(label=gettext_lazy("Next step"), required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(
        self,
        *args: Any,
        case: Case,
        kind: str,
        leaders: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        leader = self.fields["leader"]
        assert isinstance(leader, forms.ChoiceField)
        leader.choices = leaders if leaders is not None else leader_choices(case)
        if kind == OutreachKind.APPOINTMENT:
            for name in ("participants", "agreed", "next_step"):
                del self.fields[name]
            self.fields["notes"].label = gettext_lazy("Notes")
            self.fields["place_kind"].initial = PlaceKind.CENTER


PREFIXES = {OutreachKind.HOME_VISIT: "hv", OutreachKind.APPOINTMENT: "ap"}


def panel_forms(case: Case) -> dict[str, OutreachForm]:
    """The case card's two empty forms, each with a fresh one-time key and the case's version."""
    import secrets

    leaders = leader_choices(case)  # one query for both forms
    return {
        f"{'home' if kind == OutreachKind.HOME_VISIT else 'appointment'}_form": OutreachForm(
            case=case,
            kind=kind,
            leaders=leaders,
            prefix=prefix,
            initial={
                "expected_version": case.version,
                "submission_key": secrets.token_urlsafe(16),
            },
        )
        for kind, prefix in PREFIXES.items()
    }


@login_required
@require_POST
def record_outreach(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    if kind not in OutreachKind.values:
        raise Http404
    form = OutreachForm(request.POST, case=case, kind=kind, prefix=PREFIXES[OutreachKind(kind)])
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return _back(case)
    d = form.cleaned_data
    leader = User.objects.filter(pk=d["leader"]).first() if d.get("leader") else None
    try:
        if kind == OutreachKind.HOME_VISIT:
            services.record_home_visit(
                actor=user,
                case=case,
                at=d["at"],
                place=d["place"],
                place_kind=d["place_kind"],
                leader=leader,
                participants=d.get("participants", ""),
                notes=d.get("notes", ""),
                agreed=d.get("agreed", ""),
                next_step=d.get("next_step", ""),
                expected_version=d["expected_version"],
                submission_key=d.get("submission_key") or "",
            )
            messages.success(request, _("The visit to the petitioner is recorded."))
        else:
            services.schedule_appointment(
                actor=user,
                case=case,
                at=d["at"],
                place=d["place"],
                place_kind=d["place_kind"],
                leader=leader,
                notes=d.get("notes", ""),
                expected_version=d["expected_version"],
                submission_key=d.get("submission_key") or "",
            )
            messages.success(request, _("The appointment is set; the petitioner will be told."))
    except (ValidationError, PermissionDenied, DomainError) as exc:
        _report_errors(request, exc)
    return _back(case)


@login_required
@require_POST
def appointment_step(request: HttpRequest, pk: int, oid: int, step: str) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    row = get_appointment_for(user, case, oid)
    if row is None or step not in ("kept", "missed", "cancel"):
        raise Http404
    text = request.POST.get("text", "")
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = None
    try:
        if step == "kept":
            services.record_appointment_kept(
                actor=user, appointment=row, notes=text, expected_version=version
            )
            messages.success(request, _("The visit is recorded against the appointment."))
        elif step == "missed":
            services.mark_appointment_missed(
                actor=user, appointment=row, reason=text, expected_version=version
            )
            messages.success(request, _("The appointment is marked as missed."))
        else:
            services.cancel_appointment(
                actor=user, appointment=row, reason=text, expected_version=version
            )
            messages.success(request, _("The appointment is cancelled."))
    except (ValidationError, PermissionDenied, DomainError) as exc:
        _report_errors(request, exc)
    return _back(case)


# --- reception days ---------------------------------------------------------------------------------


class ReceptionDayForm(forms.Form):
    leader = forms.ChoiceField(label=gettext_lazy("Leader"))
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    starts_at = forms.TimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    ends_at = forms.TimeField(
        label=gettext_lazy("Ends at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200, required=False)

    def __init__(self, *args: Any, center: Center, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leaders = (
            User.objects.filter(
                is_active=True, center=center, roles__role__in=[Role.LEADER, Role.HEAD]
            )
            .distinct()
            .order_by("username")
        )
        field = self.fields["leader"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [(str(u.pk), str(u)) for u in leaders]


def _center_for(user: User, cid: int) -> Center:
    center = centers_visible_to(user).filter(pk=cid).first()
    if center is None:
        raise Http404
    return center


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


@login_required
@require_GET
def my_schedule(request: HttpRequest) -> HttpResponse:
    """The navigation's entry: the schedule of the user's own center."""
    user = _user(request)
    if user.center_id is None:
        raise Http404
    return HttpResponseRedirect(reverse("outreach:reception_days", args=[user.center_id]))


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest, cid: int) -> HttpResponse:
    """A center's reception days from today on (and the office's form to add one)."""
    user = _user(request)
    center = _center_for(user, cid)
    may_keep = day_services.may_keep_schedule(user, center)
    form = ReceptionDayForm(center=center)
    status = 200
    if request.method == "POST":
        if not may_keep:
            raise DjangoPermissionDenied(
                _("Only the office of this center keeps its reception days.")
            )
        form = ReceptionDayForm(request.POST, center=center)
        if form.is_valid():
            d = form.cleaned_data
            try:
                day_services.schedule_reception_day(
                    actor=user,
                    center=center,
                    leader=User.objects.filter(pk=d["leader"]).first(),
                    date=d["date"],
                    starts_at=d["starts_at"],
                    ends_at=d["ends_at"],
                    place=d["place"],
                    subject=d["subject"],
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            except DomainError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("The reception day is scheduled."))
                return HttpResponseRedirect(reverse("outreach:reception_days", args=[center.pk]))
        if status == 200:
            status = 400
    today = _today()
    context = {
        "center": center,
        "days": list(reception_days([center.pk], today, None)),
        "form": form,
        "may_keep": may_keep,
        "today": today,
    }
    return render(request, "outreach/visits/reception_days.html", context, status=status)


@login_required
@require_POST
def cancel_day(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    duty = get_object_or_404(
        LeaderDuty.objects.select_related("center"),
        pk=pk,
        center__in=centers_visible_to(user),
    )
    if not day_services.may_keep_schedule(user, duty.center):
        raise DjangoPermissionDenied(_("Only the office of this center keeps its reception days."))
    try:
        day_services.cancel_reception_day(actor=user, duty=duty)
    except (PermissionDenied, DomainError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The reception day is cancelled."))
    return HttpResponseRedirect(reverse("outreach:reception_days", args=[duty.center_id]))


def _month_rows(center: Center, year: int, month: int) -> list[dict[str, Any]]:
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise Http404
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return [public_row(d) for d in reception_days([center.pk], first, last)]


@login_required
@require_GET
def notice(request: HttpRequest, cid: int, year: int, month: int) -> HttpResponse:
    """The month's 公告 of a center, to print (the public's view: no personal data beyond the
    leader's name and title)."""
    center = _center_for(_user(request), cid)
    rows = _month_rows(center, year, month)
    context = {"center": center, "rows": rows, "year": year, "month": month}
    return render(request, "outreach/visits/notice.html", context)


@login_required
@require_GET
def notice_pdf(request: HttpRequest, cid: int, year: int, month: int) -> HttpResponse:
    center = _center_for(_user(request), cid)
    rows = _month_rows(center, year, month)
    title = _("%(center)s: leaders' reception days, %(year)d-%(month)02d") % {
        "center": center.name,
        "year": year,
        "month": month,
    }
    lines = [
        "\u3000\u3000"
        + _(
            "The leaders below receive visitors in person on the days shown. Please bring your "
            "identity document and the materials of your matter."
        ),
        "",
    ]
    for r in rows:
        time_range = (
            f"{r['starts_at']:%H:%M}–{r['ends_at']:%H:%M}"
            if r["starts_at"] and r["ends_at"]
            else ""
        )
        lines.append(
            f"{r['date']:%Y-%m-%d} {time_range} {r['leader']}（{r['title']}） "
            f"{r['place']} {r['subject']}".strip()
        )
    if not rows:
        lines.append(_("No reception day is scheduled this month."))
    pdf = build_document(
        title=title,
        lines=lines,
        signature=Signature(issuer=center.name, date=f"{_today():%Y-%m-%d}"),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="reception-days-{center.pk}-{year}-{month:02d}.pdf"'
    )
    return response
