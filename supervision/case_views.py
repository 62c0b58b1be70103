"""The supervision page of one case: its clocks, extensions, orders, reminders, 包案,
consultations, findings and bulletins, with the forms the viewer's roles allow.

Reads go through petitions.selectors.get_case_for (not-yours and not-found are the same 404) and
the overlay lookups of supervision.services (which start from the visible cases); every write
goes through supervision.services. Each action is a POST endpoint that redirects back to the page
with a message, or renders the page with the form's errors (400), the service's message (409 for
a DomainError) or 403 (PermissionDenied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clocks.models import Deadline
from core.errors import DomainError, PermissionDenied
from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import get_case_for
from petitions.states import CaseState
from routing.selectors import Clock, clock_for, notices_of

from . import services
from .forms import (
    BulletinForm,
    CloseOrderForm,
    ConsultationForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    FindingForm,
    LeaderResponsibilityForm,
    OrderResponseForm,
    ReminderForm,
    ResolveResponsibilityForm,
    SupervisionOrderForm,
)
from .models import (
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
    SupervisionOrder,
)

# Service field names that differ from the form's.
DUE_ALIASES = {"due_at": "due"}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _get_or_404(qs: Any, pk: int) -> Any:
    try:
        return qs.get(pk=pk)
    except (ValueError, TypeError, qs.model.DoesNotExist):
        raise Http404("Not found") from None


# --- what the page shows --------------------------------------------------------------------------


@dataclass
class DeadlineRow:
    deadline: Deadline
    clock: Clock | None


@dataclass
class ExtensionRow:
    request: ExtensionRequest
    decide_form: ExtensionDecisionForm | None


@dataclass
class OrderRow:
    order: SupervisionOrder
    clock: Clock | None
    respond_form: OrderResponseForm | None
    close_form: CloseOrderForm | None


@dataclass
class ResponsibilityRow:
    responsibility: LeaderResponsibility
    clock: Clock | None
    resolve_form: ResolveResponsibilityForm | None


@dataclass
class Permissions:
    lead_department_id: int | None = None
    supervise: bool = False
    close_orders: bool = False
    lead_department: bool = False
    head_of_lead: bool = False


def _permissions(user: User, case: Case) -> Permissions:
    lead = services.lead_assignment(case)
    in_lead = user.is_superuser or (
        lead is not None
        and user.department_id == lead.department_id
        and user.has_role(Role.OFFICER, Role.HEAD)
    )
    supervise = services.can_supervise(user, case)
    return Permissions(
        lead_department_id=lead.department_id if lead is not None else None,
        supervise=supervise,
        close_orders=supervise and (user.is_superuser or user.has_role(Role.SUPERVISOR)),
        lead_department=in_lead,
        head_of_lead=in_lead and (user.is_superuser or user.has_role(Role.HEAD)),
    )


def _extension_allowed(
    case: Case, deadlines: list[Deadline], requests: list[ExtensionRequest]
) -> Deadline | None:
    """The open handling clock when an extension may still be asked for, else None (the service
    checks again; this only decides whether to offer the form)."""
    if case.state != CaseState.HANDLING:
        return None
    handling = next(
        (d for d in deadlines if d.kind == "handling" and d.assignment_id is None), None
    )
    if handling is None or handling.extended_days or timezone.now() > handling.due_at:
        return None
    if any(r.deadline_id == handling.pk and r.state != ExtensionState.REJECTED for r in requests):
        return None
    return handling


@dataclass
class Bound:
    """Forms submitted in this request, by name (shown with their errors instead of fresh ones)."""

    by_name: Mapping[str, forms.Form] = field(default_factory=dict)

    def get(self, name: str, make: Callable[[], forms.Form]) -> Any:
        return self.by_name[name] if name in self.by_name else make()


def focus_first_error(form: forms.Form) -> bool:
    for f in form.fields.values():
        f.widget.attrs.pop("autofocus", None)
    for name in form.errors:
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return True
    return False


def _render_page(
    request: HttpRequest, case: Case, *, bound: Bound | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    bound = bound or Bound()
    allowed = _permissions(user, case)
    overlays = services.case_overlays(case)
    now = timezone.now()
    is_open = case.state in CaseState.open_states()
    # Forms in page order: the first gets the keyboard focus, unless one came back with errors.
    ordered: list[forms.Form] = []

    def offer(form: Any) -> Any:
        ordered.append(form)
        return form

    extension_rows = [
        ExtensionRow(
            request=r,
            decide_form=offer(
                bound.get(f"decide-{r.pk}", partial(ExtensionDecisionForm, prefix=f"decide-{r.pk}"))
            )
            if allowed.head_of_lead
            and r.state == ExtensionState.PENDING
            and r.deadline.met_at is None
            else None,
        )
        for r in overlays.extension_requests
    ]
    extension_form = None
    if allowed.lead_department and _extension_allowed(
        case, overlays.deadlines, overlays.extension_requests
    ):
        extension_form = offer(
            bound.get("extension", lambda: ExtensionRequestForm(case=case, actor=user))
        )
    order_rows = []
    for order in overlays.orders:
        is_open_order = order.state == OrderState.OPEN
        can_respond = is_open_order and services.can_respond_to_order(
            user, order, allowed.lead_department_id
        )
        order_rows.append(
            OrderRow(
                order=order,
                clock=clock_for(order.due_at, now) if is_open_order else None,
                respond_form=offer(
                    bound.get(
                        f"respond-{order.pk}",
                        partial(OrderResponseForm, prefix=f"respond-{order.pk}"),
                    )
                )
                if can_respond
                else None,
                close_form=offer(
                    bound.get(
                        f"close-{order.pk}", partial(CloseOrderForm, prefix=f"close-{order.pk}")
                    )
                )
                if allowed.close_orders and order.state != OrderState.CLOSED
                else None,
            )
        )
    supervise_open = allowed.supervise and is_open
    order_form = (
        offer(bound.get("order", lambda: SupervisionOrderForm(case=case, actor=user)))
        if supervise_open
        else None
    )
    reminder_form = (
        offer(bound.get("reminder", lambda: ReminderForm(case=case, actor=user)))
        if supervise_open
        else None
    )
    responsibility_rows = [
        ResponsibilityRow(
            responsibility=r,
            clock=None if r.is_resolved else clock_for(r.due_at, now),
            resolve_form=offer(
                bound.get(
                    f"resolve-{r.pk}",
                    partial(ResolveResponsibilityForm, prefix=f"resolve-{r.pk}"),
                )
            )
            if not r.is_resolved and (allowed.supervise or r.leader_id == user.pk)
            else None,
        )
        for r in overlays.responsibilities
    ]
    responsibility_form = (
        offer(bound.get("responsibility", lambda: LeaderResponsibilityForm(case=case, actor=user)))
        if supervise_open and not any(not r.is_resolved for r in overlays.responsibilities)
        else None
    )
    consultation_form = (
        offer(bound.get("consultation", lambda: ConsultationForm(case=case, actor=user)))
        if supervise_open
        else None
    )
    finding_form = (
        offer(bound.get("finding", lambda: FindingForm(case=case, actor=user)))
        if allowed.supervise
        else None
    )
    bulletin_form = (
        offer(bound.get("bulletin", lambda: BulletinForm(case=case, actor=user)))
        if allowed.supervise
        else None
    )
    errored = [f for f in ordered if f.is_bound and f.errors]
    focused = any(focus_first_error(f) for f in errored[:1])
    if not focused and ordered and not errored:
        first = next((f for f in ordered[0].fields.values() if not f.widget.is_hidden), None)
        if first is not None:
            first.widget.attrs["autofocus"] = True
    context = {
        "case": case,
        "allowed": allowed,
        "is_open": is_open,
        "deadlines": [DeadlineRow(d, clock_for(d.due_at, now)) for d in overlays.deadlines],
        "extension_rows": extension_rows,
        "extension_form": extension_form,
        "order_rows": order_rows,
        "order_form": order_form,
        "reminders": overlays.reminders,
        "reminder_form": reminder_form,
        "responsibility_rows": responsibility_rows,
        "responsibility_form": responsibility_form,
        "consultations": overlays.consultations,
        "consultation_form": consultation_form,
        "findings": overlays.findings,
        "finding_form": finding_form,
        "bulletins": overlays.bulletins,
        "bulletin_form": bulletin_form,
        "notices": notices_of(case),
    }
    return render(request, "supervision/case/detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def case_supervision(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_page(request, get_case_for(_user(request), pk))


# --- actions ----------------------------------------------------------------------------------------


def _add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def _act(
    request: HttpRequest,
    case: Case,
    *,
    name: str,
    form: forms.Form,
    call: Callable[[], str],
    anchor: str,
    aliases: Mapping[str, str] | None = None,
) -> HttpResponse:
    """Validate, call the service, then redirect with its message or render the page with the
    errors: field errors 400, a DomainError's message 409, a PermissionDenied's message 403."""
    user = _user(request)

    def page(status: int, keep_form: bool = True) -> HttpResponse:
        fresh = get_case_for(user, case.pk)
        return _render_page(
            request, fresh, bound=Bound({name: form} if keep_form else {}), status=status
        )

    if not form.is_valid():
        return page(400)
    try:
        text = call()
    except ValidationError as exc:
        _add_service_errors(form, exc, aliases)
        return page(400)
    except DomainError as exc:
        messages.error(request, str(exc))
        return page(409)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return page(403, keep_form=False)
    messages.success(request, text)
    return redirect(reverse("supervision_case:detail", args=[case.pk]) + anchor)


def _case_post(request: HttpRequest, pk: int) -> tuple[User, Case]:
    user = _user(request)
    return user, get_case_for(user, pk)


def _overlay_case(user: User, obj: Model) -> Case:
    return get_case_for(user, obj.case_id)  # type: ignore[attr-defined]


@login_required
@require_POST
def request_extension(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = ExtensionRequestForm(request.POST, case=case, actor=user)

    def call() -> str:
        data = form.cleaned_data
        services.request_extension(actor=user, case=case, days=data["days"], reason=data["reason"])
        return _("Extension of %(days)d days requested; the department head decides.") % {
            "days": data["days"]
        }

    return _act(request, case, name="extension", form=form, call=call, anchor="#extensions")


@login_required
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = _get_or_404(services.extension_requests_visible_to(user), pk)
    case = _overlay_case(user, found)
    form = ExtensionDecisionForm(request.POST, prefix=f"decide-{found.pk}")

    def call() -> str:
        result = services.decide_extension(
            actor=user, request=found, approve=form.approve, note=form.cleaned_data["note"]
        )
        if result.notice is not None:
            return _(
                "Extension approved: handling is now due %(due)s. Notice %(notice)s issued."
            ) % {
                "due": timezone.localtime(result.deadline.due_at).strftime("%Y-%m-%d"),
                "notice": result.notice.number,
            }
        return _("Extension rejected.")

    return _act(
        request, case, name=f"decide-{found.pk}", form=form, call=call, anchor="#extensions"
    )


@login_required
@require_POST
def issue_order(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = SupervisionOrderForm(request.POST, case=case, actor=user)

    def call() -> str:
        order = services.issue_supervision_order(
            actor=user,
            case=case,
            requirement=form.cleaned_data["requirement"],
            due_at=form.due_at,
            department=form.cleaned_data.get("department"),
        )
        return _("Supervision order %(number)s issued.") % {"number": order.number}

    return _act(
        request, case, name="order", form=form, call=call, anchor="#orders", aliases=DUE_ALIASES
    )


@login_required
@require_POST
def respond_to_order(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = _get_or_404(services.orders_visible_to(user).select_related("case"), pk)
    case = _overlay_case(user, order)
    form = OrderResponseForm(request.POST, prefix=f"respond-{order.pk}")

    def call() -> str:
        services.respond_to_order(actor=user, order=order, response=form.cleaned_data["response"])
        return _("Response to supervision order %(number)s recorded.") % {"number": order.number}

    return _act(request, case, name=f"respond-{order.pk}", form=form, call=call, anchor="#orders")


@login_required
@require_POST
def close_order(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = _get_or_404(services.orders_visible_to(user).select_related("case"), pk)
    case = _overlay_case(user, order)
    form = CloseOrderForm(request.POST, prefix=f"close-{order.pk}")

    def call() -> str:
        services.close_order(actor=user, order=order, note=form.cleaned_data["note"])
        return _("Supervision order %(number)s closed.") % {"number": order.number}

    return _act(request, case, name=f"close-{order.pk}", form=form, call=call, anchor="#orders")


@login_required
@require_POST
def send_reminder(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = ReminderForm(request.POST, case=case, actor=user)

    def call() -> str:
        result = services.send_reminder(actor=user, case=case, message=form.cleaned_data["message"])
        if not result.sent:
            return _("Your reminder was already sent a moment ago; it was not sent twice.")
        return _("Reminder sent.")

    return _act(request, case, name="reminder", form=form, call=call, anchor="#reminders")


@login_required
@require_POST
def assign_responsibility(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = LeaderResponsibilityForm(request.POST, case=case, actor=user)

    def call() -> str:
        data = form.cleaned_data
        services.assign_leader_responsibility(
            actor=user,
            case=case,
            leader=data["leader"],
            handler=data.get("handler"),
            due_at=form.due_at,
            target_result=data["target_result"],
        )
        return _("%(leader)s now answers for this case.") % {"leader": data["leader"]}

    return _act(
        request,
        case,
        name="responsibility",
        form=form,
        call=call,
        anchor="#responsibility",
        aliases=DUE_ALIASES,
    )


@login_required
@require_POST
def resolve_responsibility(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = _get_or_404(services.responsibilities_visible_to(user).select_related("case"), pk)
    case = _overlay_case(user, found)
    form = ResolveResponsibilityForm(request.POST, prefix=f"resolve-{found.pk}")

    def call() -> str:
        services.resolve_leader_responsibility(
            actor=user, responsibility=found, result=form.cleaned_data["result"]
        )
        return _("Leader responsibility resolved.")

    return _act(
        request, case, name=f"resolve-{found.pk}", form=form, call=call, anchor="#responsibility"
    )


@login_required
@require_POST
def record_consultation(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = ConsultationForm(request.POST, case=case, actor=user)

    def call() -> str:
        data = form.cleaned_data
        services.record_consultation(
            actor=user,
            case=case,
            held_at=data["held_at"],
            departments=list(data["departments"]),
            participants=data["participants"],
            decisions=data["decisions"],
        )
        return _("Consultation recorded.")

    return _act(request, case, name="consultation", form=form, call=call, anchor="#consultations")


@login_required
@require_POST
def record_finding(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = FindingForm(request.POST, case=case, actor=user)

    def call() -> str:
        data = form.cleaned_data
        services.record_accountability_finding(
            actor=user,
            case=case,
            department=data.get("department"),
            officer=data.get("officer"),
            finding=data["finding"],
            measures=data["measures"],
        )
        return _("Accountability finding recorded.")

    return _act(request, case, name="finding", form=form, call=call, anchor="#findings")


@login_required
@require_POST
def issue_bulletin(request: HttpRequest, pk: int) -> HttpResponse:
    user, case = _case_post(request, pk)
    form = BulletinForm(request.POST, case=case, actor=user)

    def call() -> str:
        data = form.cleaned_data
        bulletin = services.issue_bulletin(
            actor=user,
            title=data["title"],
            body=data["body"],
            departments=list(data["departments"]),
            cases=[case],
        )
        return _("Bulletin “%(title)s” issued.") % {"title": bulletin.title}

    return _act(request, case, name="bulletin", form=form, call=call, anchor="#bulletins")
