"""Pages of review (复查), re-review (复核) and lawful termination (依法终结).

- The case's appeals page: the petitioner's window, the requests with their decisions and written
  answers, the termination proposals, and the forms this user may use now.
- The printable written answer of a review or re-review.
- The reviewing center's queue: requests waiting for its decision (with their deadlines) and
  termination proposals waiting for its review or approval.

Reads go through the viewer's visibility (not yours = 404); writes through appeals.services.
Service errors: field errors on the form (400), DomainError as a message (409), PermissionDenied
as a message (403); nothing is changed in either case.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from petitions.models import Case
from petitions.selectors import get_case_for

from . import selectors, services
from .document import OfficialText, answer_document, record_document, to_pdf
from .forms import (
    ForwardedOutcomeForm,
    ReviewDecisionForm,
    ReviewRequestForm,
    TerminationApprovalForm,
    TerminationDecisionForm,
    TerminationProposalForm,
)
from .models import ACTIVE_TERMINATION_STATES, ReviewKind


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _page_url(case: Case, fragment: str = "") -> str:
    url = reverse("appeals:case", args=[case.pk])
    return f"{url}#{fragment}" if fragment else url


def render_case_page(
    request: HttpRequest,
    case: Case,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    allowed = selectors.allowed_for(user, case, now)
    forms = forms or {}
    reviews = selectors.reviews_of(case)
    window = selectors.open_window(case, now)
    pending = next((r for r in reversed(reviews) if not r.decision), None)
    terminations = selectors.terminations_of(case)
    context: dict[str, Any] = {
        "case": case,
        "window": window,
        "reviews": reviews,
        "pending": pending,
        "terminations": terminations,
        "termination_hint": selectors.termination_hint(
            case,
            window=window,
            pending=pending,
            has_active=any(t.state in ACTIVE_TERMINATION_STATES for t in terminations),
            now=now,
        ),
        "finality": selectors.finality_of(case),
        "allowed": allowed,
        "now": now,
    }
    if allowed.request_kind:
        context["request_form"] = forms.get("request") or ReviewRequestForm(
            case=case, initial={"kind": allowed.request_kind}
        )
        context["request_label"] = ReviewKind(allowed.request_kind).label
    if allowed.decide:
        context["decide_form"] = forms.get("decide") or ReviewDecisionForm(case=case)
    if allowed.record_outcome:
        context["outcome_form"] = forms.get("outcome") or ForwardedOutcomeForm(case=case)
    if allowed.propose:
        context["propose_form"] = forms.get("propose") or TerminationProposalForm(case=case)
    if allowed.review_termination:
        context["termination_review_form"] = forms.get("termination") or TerminationDecisionForm(
            case=case
        )
    if allowed.approve_termination:
        context["termination_approve_form"] = forms.get("termination") or TerminationApprovalForm(
            case=case, approver=user
        )
    # A form posted when the case no longer offers it (another state, another step) is not on
    # the page: its errors are said in a message, so the refusal is never silent.
    shown = {context.get(k) for k in context if k.endswith("_form")}
    for form in forms.values():
        if form is not None and form not in shown and form.is_bound and form.errors:
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    messages.error(request, f"{label}：{error}" if label else error)
    return render(request, "appeals/case.html", context, status=status)


def _refused(
    request: HttpRequest, case: Case, exc: Exception, forms: dict[str, Any]
) -> HttpResponse:
    """The service said no: its message on the page, what was typed kept (unless the case changed
    meanwhile, when the form must be rendered again from the current case)."""
    messages.error(request, str(exc))
    status = 403 if isinstance(exc, PermissionDenied) else 409
    case.refresh_from_db()
    keep = {} if isinstance(exc, StaleState) else forms
    return render_case_page(request, case, forms=keep, status=status)


def _field_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_GET
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render_case_page(request, get_case_for(_user(request), pk))


@login_required
@require_POST
def request_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    form = ReviewRequestForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            review = services.request_review(
                actor=user,
                case=case,
                kind=data["kind"],
                reason=data["reason"],
                channel=data["channel"],
                expected_version=data["expected_version"],
                submission_key=data["submission_key"] or None,
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            return _refused(request, case, exc, {"request": form})
        else:
            messages.success(
                request,
                _("%(kind)s recorded: sent to %(center)s, to be decided by %(due)s.")
                % {
                    "kind": review.get_kind_display(),
                    # a re-review forwarded upward is sent to the organ above
                    "center": review.forwarded_to or review.reviewing_center.name,
                    "due": timezone.localdate(review.decision_due_at).isoformat(),
                },
            )
            return redirect(_page_url(case, "reviews"))
    return render_case_page(request, case, forms={"request": form}, status=400)


def _record_forwarded_outcome(request: HttpRequest, case: Case) -> HttpResponse:
    """The outcome of a re-review forwarded upward, as received from the organ above."""
    user = _user(request)
    form = ForwardedOutcomeForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            review = services.record_forwarded_outcome(
                actor=user,
                case=case,
                decision=data["decision"],
                answer=data["answer"],
                outcome_date=data["outcome_date"],
                document_number=data["document_number"],
                expected_version=data["expected_version"],
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            return _refused(request, case, exc, {"outcome": form})
        else:
            messages.success(
                request,
                _("Outcome recorded: %(decision)s (%(organ)s, %(number)s).")
                % {
                    "decision": review.get_decision_display(),
                    "organ": review.forwarded_to,
                    "number": review.document_number,
                },
            )
            return redirect(_page_url(case, "reviews"))
    return render_case_page(request, case, forms={"outcome": form}, status=400)


@login_required
@require_POST
def decide_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The pending request's decision; for a re-review forwarded upward, the outcome received
    from the organ above (one endpoint, by the request, as decide_termination_view by state)."""
    user = _user(request)
    case = get_case_for(user, pk)
    if selectors.allowed_for(user, case).record_outcome is not None:
        return _record_forwarded_outcome(request, case)
    form = ReviewDecisionForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            review = services.decide_review(
                actor=user,
                case=case,
                decision=data["decision"],
                answer=data["answer"],
                expected_version=data["expected_version"],
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            return _refused(request, case, exc, {"decide": form})
        else:
            messages.success(
                request,
                _("Decision recorded: %(decision)s. Written answer %(number)s.")
                % {"decision": review.get_decision_display(), "number": review.document_number},
            )
            return redirect(_page_url(case, "reviews"))
    return render_case_page(request, case, forms={"decide": form}, status=400)


@login_required
@require_POST
def propose_termination_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = get_case_for(user, pk)
    form = TerminationProposalForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.propose_termination(
                actor=user,
                case=case,
                grounds=data["grounds"],
                support_unit=data["support_unit"],
                expected_version=data["expected_version"],
                submission_key=data["submission_key"] or None,
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            return _refused(request, case, exc, {"propose": form})
        else:
            messages.success(request, _("Lawful termination proposed to the center."))
            return redirect(_page_url(case, "terminations"))
    return render_case_page(request, case, forms={"propose": form}, status=400)


@login_required
@require_POST
def decide_termination_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposal's next step (center review or provincial approval), by its state."""
    user = _user(request)
    case = get_case_for(user, pk)
    allowed = selectors.allowed_for(user, case)
    form: TerminationDecisionForm
    if allowed.approve_termination:
        form = TerminationApprovalForm(request.POST, case=case, approver=user)
    else:
        form = TerminationDecisionForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            termination = services.decide_termination(
                actor=user,
                case=case,
                approve=data["decision"] == "approve",
                opinion=data["opinion"],
                approving_body=data.get("approving_body", ""),
                approval_date=data.get("approval_date"),
                expected_version=data["expected_version"],
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        except (DomainError, PermissionDenied) as exc:
            return _refused(request, case, exc, {"termination": form})
        else:
            messages.success(
                request,
                _("Recorded: %(state)s.") % {"state": termination.get_state_display()},
            )
            return redirect(_page_url(case, "terminations"))
    return render_case_page(request, case, forms={"termination": form}, status=400)


@login_required
@require_GET
def answer_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable written answer of a decided review or re-review (复查意见书 / 复核意见书)."""
    review = selectors.get_review_for(_user(request), pk)
    if not review.is_decided:
        return render(
            request,
            "appeals/answer.html",
            {"review": review, "case": review.case, "undecided": True},
            status=404,
        )
    context = {"review": review, "case": review.case, "doc": answer_document(review)}
    return render(request, "appeals/answer.html", context)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def answer_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The written answer as a PDF, the same text as the print page (appeals.document)."""
    review = selectors.get_review_for(_user(request), pk)
    if not review.is_decided:
        raise Http404("No written answer yet")
    return _pdf(to_pdf(answer_document(review)), f"answer-{review.case.number}-{review.pk}.pdf")


def _record(request: HttpRequest, pk: int) -> tuple[Case, OfficialText]:
    user = _user(request)
    case = get_case_for(user, pk)
    document = record_document(
        case,
        reviews=selectors.reviews_of(case),
        terminations=selectors.terminations_of(case),
        finality=selectors.finality_of(case),
        printed_by=str(user),
    )
    return case, document


@login_required
@require_GET
def record_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff's internal record of the case's reviews, re-reviews and termination proposals,
    printable (for the case file, or to send upward)."""
    case, document = _record(request, pk)
    return render(request, "appeals/record.html", {"case": case, "doc": document})


@login_required
@require_GET
def record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case, document = _record(request, pk)
    return _pdf(to_pdf(document), f"appeals-record-{case.number}.pdf")


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """What waits for this supervisor's or leader's center: reviews to decide (soonest due first,
    with the days left) and termination proposals to review or approve."""
    user = _user(request)
    if not (user.is_superuser or selectors.is_approver(user)):
        raise DjangoPermissionDenied(_("This page is for supervisors and leaders."))
    now = timezone.now()
    reviews = list(selectors.waiting_reviews(user)[:200])
    rows = [
        {
            "review": r,
            "days_left": (r.decision_due_at - now).days,
            "overdue": now > r.decision_due_at,
        }
        for r in reviews
    ]
    terminations = list(selectors.waiting_terminations(user)[:200])
    forwarded = list(selectors.forwarded_reviews(user)[:200])
    return render(
        request,
        "appeals/queue.html",
        {"rows": rows, "forwarded": forwarded, "terminations": terminations, "now": now},
    )
