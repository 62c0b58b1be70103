"""Pages of 反馈 and 访结: the case's reply and closure page (every step's form, offered to the
roles that may take it), the printable reply and its PDF, the department's closure inbox, and the
public evaluation page (no login).

Reads go through petitions.selectors (not yours = 404) and closure.selectors; every write goes
through closure.services. Service errors become form errors (400), a message (409, including
StaleState) or a 403 with the service's message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clocks.deadlines import CHINA_TZ
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import can_act_on, get_case_for
from petitions.states import TRANSITIONS, CaseState
from routing.models import Assignment

from . import services
from .document import compose, qr_svg, reply_pdf
from .forms import (
    AgreementForm,
    ApproveForm,
    ArchiveForm,
    CloseForm,
    DeliveryForm,
    EvaluationForm,
    PublicEvaluationForm,
    RecordVisitForm,
    ReexaminationForm,
    ReissueLinkForm,
    ReopenForm,
    ReplyForm,
    ScheduleVisitForm,
    SendBackForm,
)
from .models import Rating, Reply, ReplyStatus, ReturnVisit
from .selectors import (
    EvaluationStatus,
    closure_inbox,
    closure_of,
    contributions,
    current_reply,
    evaluation_due_at,
    evaluation_for,
    evaluation_status,
    evaluations_of,
    first_evaluation,
    lead_assignment,
    open_assisting,
    return_visits_of,
    review_route_of,
)
from .tokens import hash_token

CENTER_EVALUATION_ROLES = services.CENTER_EVALUATION_ROLES


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _local_datetime(day: Any) -> datetime | None:
    """A date picked on a form as a moment: noon Beijing time, so it is that day everywhere;
    today means now."""
    if not day:
        return None
    if day == timezone.now().astimezone(CHINA_TZ).date():
        return timezone.now()
    return datetime.combine(day, time(12, 0), tzinfo=CHINA_TZ)


# --- what the user may do on the case --------------------------------------------------------------


_UNSET: Any = object()


class Permissions:
    def __init__(
        self, user: User, case: Case, reply: Reply | None, *, lead: Assignment | None = _UNSET
    ) -> None:
        """``lead``: the case's active lead assignment when the caller has it (the case page's
        shared assignments); read here otherwise."""
        if lead is _UNSET:
            lead = lead_assignment(case)
        self.lead = lead
        roles = user.role_codes
        superuser = user.is_superuser
        in_lead = lead is not None and (
            superuser
            or (
                bool(roles & {Role.OFFICER, Role.HEAD}) and user.department_id == lead.department_id
            )
        )
        own_center = can_act_on(user, case)
        archived = case.state == CaseState.ARCHIVED
        status = reply.status if reply else None
        self.in_lead = in_lead
        self.can_draft = (
            in_lead
            and case.state == CaseState.HANDLING
            and status in (None, ReplyStatus.DRAFT, ReplyStatus.SUBMITTED, ReplyStatus.DELIVERED)
        )
        self.is_head = superuser or Role.HEAD in roles
        self.can_approve = (
            in_lead
            and self.is_head
            and status in (ReplyStatus.DRAFT, ReplyStatus.SUBMITTED)
            and reply is not None
            and reply.drafted_by_id != user.pk
            and case.state == CaseState.HANDLING
        )
        self.own_draft = reply is not None and reply.drafted_by_id == user.pk
        self.can_deliver = (
            in_lead and status == ReplyStatus.APPROVED and case.state == CaseState.HANDLING
        )
        self.can_print = reply is not None and status in (
            ReplyStatus.APPROVED,
            ReplyStatus.DELIVERED,
        )
        delivered = status == ReplyStatus.DELIVERED and not (reply and reply.mediated)
        self.can_evaluate = (
            delivered
            and own_center
            and not archived
            and (superuser or bool(roles & set(CENTER_EVALUATION_ROLES)))
        )
        # Re-issue the evaluation link on the petitioner's request: the lead department, while
        # the reply can still be evaluated (the service checks the link and the window).
        self.can_reissue = delivered and in_lead and not archived
        self.can_visit = (
            delivered
            and not archived
            and (
                in_lead
                or (own_center and (superuser or bool(roles & set(CENTER_EVALUATION_ROLES))))
            )
        )
        # A new verdict at a return visit: the center, never the department being rated (#9).
        self.can_record_verdict = (
            self.can_visit
            and own_center
            and (superuser or bool(roles & set(CENTER_EVALUATION_ROLES)))
            and not (
                reply is not None
                and user.department_id is not None
                and user.department_id == reply.department_id
            )
        )

        def allowed(name: str) -> bool:
            t = TRANSITIONS[name]
            return own_center and case.state in t.sources and (superuser or bool(roles & t.roles))

        self.can_close = allowed("close")
        self.can_agree = in_lead and self.is_head and case.state == CaseState.HANDLING
        self.can_archive = allowed("archive")
        self.can_reopen = allowed("reopen")
        # A re-examined old case has been handled: from acceptance on (not while being screened).
        handled = case.state in {
            CaseState.HANDLING,
            CaseState.REPLIED,
            CaseState.REVIEW,
            CaseState.RE_REVIEW,
            CaseState.CLOSED,
            CaseState.TERMINATED,
        }
        self.can_reexamine = handled and (
            (own_center and (superuser or Role.SUPERVISOR in roles)) or (in_lead and self.is_head)
        )

    @property
    def anything(self) -> bool:
        return any(
            [
                self.can_draft,
                self.can_approve,
                self.can_deliver,
                self.can_evaluate,
                self.can_visit,
                self.can_close,
                self.can_agree,
                self.can_archive,
                self.can_reopen,
            ]
        )


def _reply_initial(case: Case, reply: Reply | None) -> dict[str, Any]:
    if reply is not None and reply.status != ReplyStatus.DELIVERED:
        return {
            "request_summary": reply.request_summary,
            "facts_reasons": reply.facts_reasons,
            "decision": reply.decision,
            "legal_basis": reply.legal_basis,
            "review_route": reply.review_route,
        }
    # A new draft starts from the case's request. The assisting departments' contributions are
    # internal advice between organs: shown beside the draft (read-only), never prefilled into the
    # text that is printed and handed to the petitioner (issue 18 #4).
    return {
        "request_summary": case.request,
        "review_route": services.default_review_route(case),
    }


def _render(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    reply = current_reply(case)
    perms = Permissions(user, case, reply)
    bound = bound or {}
    now = timezone.now()
    evaluation = evaluation_for(case)
    due = evaluation_due_at(reply) if reply else None

    def form(name: str, factory: Callable[[], forms.Form]) -> forms.Form:
        return bound.get(name) or factory()

    visits = list(return_visits_of(case))
    evaluation_rows = list(evaluations_of(case))
    # Each visit beside the verdict before it and the one given at it (recorded at the same
    # instant as the visit), so the earlier 不满意 stays in view (issue 18 #9).
    at_visit = {e.evaluated_at: e for e in evaluation_rows if e.channel == "return_visit"}
    for v in visits:
        v.new_verdict = at_visit.get(v.done_at) if v.done_at else None  # type: ignore[attr-defined]
    open_visit = next((v for v in visits if v.done_at is None), None)
    needs_override = services.archive_needs_override(case)
    context = {
        "case": case,
        "reply": reply,
        "can": perms,
        "lead": perms.lead,
        "contributions": contributions(case),
        "open_assisting": open_assisting(case),
        "evaluation": evaluation,
        "first_evaluation": first_evaluation(reply) if reply else None,
        "evaluation_status": evaluation_status(case, now),
        "evaluation_due": due,
        "evaluations": evaluation_rows,
        "visits": visits,
        "open_visit": open_visit,
        "closure": closure_of(case),
        "needs_override": needs_override,
        "reply_form": form(
            "reply", lambda: ReplyForm(case=case, initial=_reply_initial(case, reply))
        ),
        "approve_form": form("approve", lambda: ApproveForm(case=case)),
        "send_back_form": form("send_back", lambda: SendBackForm(case=case)),
        "delivery_form": form(
            "deliver",
            lambda: DeliveryForm(case=case, initial={"method": "in_person", "signed": "yes"}),
        ),
        "evaluation_form": form("evaluate", lambda: EvaluationForm(case=case)),
        "reissue_form": form("reissue", lambda: ReissueLinkForm(case=case)),
        "schedule_form": form("schedule", lambda: ScheduleVisitForm(case=case)),
        "visit_form": form(
            "visit",
            lambda: RecordVisitForm(
                case=case,
                initial={"visit": open_visit.pk if open_visit else None},
                with_verdict=perms.can_record_verdict,
            ),
        ),
        "close_form": form("close", lambda: CloseForm(case=case)),
        "agreement_form": form("agreement", lambda: AgreementForm(case=case)),
        "archive_form": form(
            "archive", lambda: ArchiveForm(case=case, needs_override=needs_override)
        ),
        "reopen_form": form("reopen", lambda: ReopenForm(case=case)),
        "reexamination_form": form(
            "reexamine",
            lambda: ReexaminationForm(
                case=case,
                initial={
                    "outcome": getattr(closure_of(case), "reexamination_outcome", ""),
                    "corrections": getattr(closure_of(case), "corrections", []),
                },
            ),
        ),
        "EvaluationStatus": EvaluationStatus,
        "dissatisfied": Rating.DISSATISFIED,
    }
    return render(request, "closure/case.html", context, status=status)


@never_cache
@login_required
@require_GET
def case_closure(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, get_case_for(_user(request), pk))


def _add_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str]) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = aliases.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def _post(
    request: HttpRequest,
    pk: int,
    name: str,
    form_class: type[forms.Form],
    act: Callable[[User, Case, dict[str, Any]], str | HttpResponse],
    *,
    aliases: dict[str, str] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """The shape of every step: the case (404 if not visible), the form, the service; then a
    redirect with a message, or the page again with the errors and the right status."""
    user = _user(request)
    case = get_case_for(user, pk)
    form = form_class(request.POST, request.FILES, case=case)  # type: ignore[call-arg]
    if not form.is_valid():
        return _render(request, case, bound={name: form}, status=400)
    try:
        text = act(user, case, form.cleaned_data)
    except ValidationError as exc:
        _add_errors(form, exc, aliases or {})
        return _render(request, get_case_for(user, pk), bound={name: form}, status=400)
    except StaleState as exc:
        messages.error(request, str(exc), extra_tags="stale")
        return _render(request, get_case_for(user, pk), status=409)
    except DomainError as exc:
        messages.error(request, str(exc))
        return _render(request, get_case_for(user, pk), bound={name: form}, status=409)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return _render(request, get_case_for(user, pk), status=403)
    if isinstance(text, HttpResponse):
        return text  # the step's own output (the handover copy of the reply)
    messages.success(request, text)
    return redirect(reverse("closure:case", args=[pk]) + anchor)


@login_required
@require_POST
def reply_save(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        submit = request.POST.get("submit") == "1"
        services.save_reply_draft(
            actor=user,
            case=case,
            text=services.ReplyText(
                decision=data["decision"],
                facts_reasons=data["facts_reasons"],
                legal_basis=data["legal_basis"],
                review_route=data["review_route"],
                request_summary=data["request_summary"],
            ),
            submit=submit,
            expected_version=data["expected_version"],
        )
        return (
            _("The reply was submitted to the department head for approval.")
            if submit
            else _("The reply draft was saved.")
        )

    return _post(request, pk, "reply", ReplyForm, act, anchor="#reply")


@login_required
@require_POST
def reply_approve(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        reply = services.approve_reply(
            actor=user, case=case, expected_version=data["expected_version"]
        )
        return _("Reply %(number)s approved: print it and deliver it.") % {
            "number": reply.document_number
        }

    return _post(request, pk, "approve", ApproveForm, act, anchor="#reply")


@login_required
@require_POST
def reply_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.send_back_reply(
            actor=user, case=case, reason=data["reason"], expected_version=data["expected_version"]
        )
        return _("The draft was sent back to the officer.")

    return _post(request, pk, "send_back", SendBackForm, act, anchor="#reply")


def _handover(
    request: HttpRequest, case: Case, delivery: services.Delivery, message: str
) -> HttpResponse:
    """The copy of the reply handed to the petitioner: the only page that carries the live
    evaluation link and its QR code, shown once to the user who delivered (or re-issued) it, in
    the response of that step; never cached, never rendered again (issue 18 #8)."""
    reply = delivery.reply
    url = request.build_absolute_uri(delivery.evaluation_path)
    context = {
        "case": case,
        "reply": reply,
        "doc": compose(reply, url),
        # qrcode's own SVG output: markup we generate, not user input
        "qr": mark_safe(qr_svg(url)) if not reply.mediated else "",  # noqa: S308
        "handover": True,
        "handover_message": message,
    }
    response = render(request, "closure/reply_print.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def reply_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> HttpResponse:
        delivery = services.deliver_reply(
            actor=user,
            case=case,
            method=data["method"],
            signed=data["signed"],
            delivered_at=_local_datetime(data.get("delivered_on")),
            note=data.get("note", ""),
            expected_version=data["expected_version"],
        )
        return _handover(
            request,
            case,
            delivery,
            _("Delivery recorded; the petitioner's 30-day review period has started."),
        )

    return _post(
        request, pk, "deliver", DeliveryForm, act, aliases={"delivered_at": "delivered_on"}
    )


def _printable(request: HttpRequest, pk: int) -> tuple[Case, Reply]:
    """The reply as anyone who can read the case may print it: without the live evaluation
    link (it says to ask the lead department for one). Everyone who can read the case opens
    this page (assisting departments, the center's staff, upper centers); a link here would let
    them evaluate in the petitioner's name (issue 18 #8)."""
    user = _user(request)
    case = get_case_for(user, pk)
    reply = current_reply(case)
    if reply is None or reply.status not in (ReplyStatus.APPROVED, ReplyStatus.DELIVERED):
        raise Http404("No approved reply")
    return case, reply


@login_required
@require_GET
def reply_print(request: HttpRequest, pk: int) -> HttpResponse:
    case, reply = _printable(request, pk)
    context = {"case": case, "reply": reply, "doc": compose(reply, ""), "qr": ""}
    return render(request, "closure/reply_print.html", context)


@login_required
@require_POST
def reissue_link(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> HttpResponse:
        delivery = services.reissue_evaluation_link(
            actor=user, case=case, expected_version=data["expected_version"]
        )
        return _handover(
            request,
            case,
            delivery,
            _("A new evaluation link was issued; the earlier link no longer works."),
        )

    return _post(request, pk, "reissue", ReissueLinkForm, act, anchor="#evaluation")


@login_required
@require_GET
def reply_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    case, reply = _printable(request, pk)
    response = HttpResponse(reply_pdf(compose(reply, "")), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="reply-{case.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def evaluation_record(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.record_evaluation(
            actor=user,
            case=case,
            verdict=services.Verdict(
                data["center_rating"], data["department_rating"], data["reasons"]
            ),
            channel=data["channel"],
            given_by=data["given_by"],
            expected_version=data["expected_version"],
        )
        return _("The evaluation was recorded.")

    return _post(request, pk, "evaluate", EvaluationForm, act, anchor="#evaluation")


@login_required
@require_POST
def return_visit_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.schedule_return_visit(
            actor=user,
            case=case,
            scheduled_for=data["scheduled_for"],
            expected_version=data["expected_version"],
        )
        return _("The return visit was scheduled.")

    return _post(request, pk, "schedule", ScheduleVisitForm, act, anchor="#visits")


@login_required
@require_POST
def return_visit_record(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        visit = None
        if data.get("visit"):
            visit = ReturnVisit.objects.filter(pk=data["visit"], case=case).first()
        verdict = (
            services.Verdict(data["center_rating"], data["department_rating"], data["outcome"])
            if data.get("center_rating")
            else None
        )
        services.record_return_visit(
            actor=user,
            case=case,
            visit=visit,
            record=services.VisitRecord(
                method=data["method"],
                outcome=data["outcome"],
                visitors=data["visitors"],
                new_verdict=verdict,
            ),
            expected_version=data["expected_version"],
        )
        return _("The return visit was recorded.")

    return _post(
        request,
        pk,
        "visit",
        RecordVisitForm,
        act,
        anchor="#visits",
    )


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.close_case(
            actor=user, case=case, note=data["note"], expected_version=data["expected_version"]
        )
        return _("Case %(number)s closed.") % {"number": case.number}

    return _post(request, pk, "close", CloseForm, act)


@login_required
@require_POST
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.close_by_agreement(
            actor=user,
            case=case,
            kind=data["kind"],
            agreement=data["agreement"],
            note=data["note"],
            expected_version=data["expected_version"],
        )
        return _("Case %(number)s closed by agreement.") % {"number": case.number}

    return _post(request, pk, "agreement", AgreementForm, act)


@login_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        closure = services.archive_case(
            actor=user,
            case=case,
            override_reason=data.get("override_reason", ""),
            expected_version=data["expected_version"],
        )
        return _("Case %(number)s archived as %(archive)s.") % {
            "number": case.number,
            "archive": closure.archive_number,
        }

    return _post(request, pk, "archive", ArchiveForm, act)


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.reopen_case(
            actor=user, case=case, reason=data["reason"], expected_version=data["expected_version"]
        )
        return _("Case %(number)s reopened.") % {"number": case.number}

    return _post(request, pk, "reopen", ReopenForm, act)


@login_required
@require_POST
def reexamination(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, case: Case, data: dict[str, Any]) -> str:
        services.record_reexamination(
            actor=user,
            case=case,
            outcome=data["outcome"],
            corrections=data["corrections"],
            note=data["note"],
            expected_version=data["expected_version"],
        )
        return _("The re-examination outcome was recorded.")

    return _post(request, pk, "reexamine", ReexaminationForm, act, anchor="#reexamination")


# --- the department's closure inbox ---------------------------------------------------------------


@never_cache
@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (user.is_superuser or user.has_role(Role.OFFICER, Role.HEAD)) or not user.department_id:
        raise DjangoPermissionDenied(_("The inbox is for department officers and heads."))
    return render(
        request,
        "closure/inbox.html",
        {"inbox": closure_inbox(user), "is_head": user.has_role(Role.HEAD)},
    )


# --- the public evaluation page (no login) --------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    """The client's address. Behind the reverse proxy production assumes, REMOTE_ADDR is the
    proxy's, shared by every petitioner: with ``TRUSTED_PROXY_HEADER`` set (e.g.
    HTTP_X_FORWARDED_FOR) the address is the entry ``NUM_PROXIES`` from the right, the one our
    own outermost proxy saw; entries left of it are whatever the client wrote and are ignored.
    Without the setting, REMOTE_ADDR (a client-sent X-Forwarded-For is never trusted)."""
    from django.conf import settings

    header = str(getattr(settings, "TRUSTED_PROXY_HEADER", "") or "")
    if header:
        hops = [h.strip() for h in request.META.get(header, "").split(",") if h.strip()]
        depth = max(int(getattr(settings, "NUM_PROXIES", 1)), 1)
        if len(hops) >= depth:
            return hops[-depth]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _window() -> int:
    from django.conf import settings

    return int(getattr(settings, "EVALUATION_RATE_WINDOW_SECONDS", 600))


def _count(key: str) -> int:
    cache.add(key, 0, timeout=_window())
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=_window())
        return 1


def _failures_key(request: HttpRequest) -> str:
    return f"closure:evaluate-failures:{_client_ip(request)}"


def _over_limit(request: HttpRequest, token: str) -> bool:
    """Two limits (issue 18 #10). Per client address, only failed lookups count (a guessed or
    mistyped token): many petitioners behind one NAT or proxy opening their own links never add
    up. Per link, every request on the token counts, whoever sends it: one link is one
    petitioner's, and nobody needs more than a few tries."""
    from django.conf import settings

    failures = int(cache.get(_failures_key(request)) or 0)
    if failures >= int(getattr(settings, "EVALUATION_RATE_LIMIT", 20)):
        return True
    per_link = _count(f"closure:evaluate-link:{hash_token(token or '')}")
    return per_link > int(getattr(settings, "EVALUATION_LINK_ATTEMPT_LIMIT", 30))


def _failed_lookup(request: HttpRequest) -> None:
    _count(_failures_key(request))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def public_evaluate(request: HttpRequest, case_id: int, token: str) -> HttpResponse:
    """The petitioner's own evaluation through the one-time link printed on the reply. Shows the
    document number and the names of the center and the department, never personal data; an
    unknown link and another case's link get the same answer."""
    context: dict[str, Any] = {"form": None, "error": "", "done": False, "link": None}
    if _over_limit(request, token):
        context["error"] = _("Too many attempts from your connection. Please try again later.")
        return render(request, "closure/public_evaluate.html", context, status=429)
    try:
        link = services.check_link(case_id=case_id, token=token)
    except services.LinkError as exc:
        if exc.code == "link_invalid":
            _failed_lookup(request)
        context["error"] = str(exc)
        return render(
            request,
            "closure/public_evaluate.html",
            context,
            status=404 if exc.code == "link_invalid" else 410,
        )
    context["link"] = link
    context["center"] = link.case.center.name
    context["department"] = link.reply.department.name
    if request.method == "GET":
        context["form"] = PublicEvaluationForm()
        return render(request, "closure/public_evaluate.html", context)
    form = PublicEvaluationForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "closure/public_evaluate.html", context, status=400)
    data = form.cleaned_data
    try:
        services.evaluate_by_link(
            case_id=case_id,
            token=token,
            verdict=services.Verdict(
                data["center_rating"], data["department_rating"], data["reasons"]
            ),
        )
    except ValidationError as exc:
        _add_errors(form, exc, {})
        return render(request, "closure/public_evaluate.html", context, status=400)
    except DomainError as exc:
        context["form"] = None
        context["error"] = str(exc)
        return render(request, "closure/public_evaluate.html", context, status=409)
    context["form"] = None
    context["done"] = True
    if Rating.DISSATISFIED in (data["center_rating"], data["department_rating"]):
        # A dissatisfied rating is not a request for review: the petitioner is told where and by
        # when to ask for one (Arts 32, 35).
        context["review_route"] = review_route_of(link.reply)
    return render(request, "closure/public_evaluate.html", context)
