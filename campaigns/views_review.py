"""Quality review pages (案件评查): the review's page (sample, reviewers, results ranked with
bands, 通报), sampling, the score form, one case's reviews (objection, decision, 责任倒查), the
outside reviewer's account form, and "my review tasks" (reviewers, and departments under review).

Reads go through campaigns.selectors.get_campaign_for and campaigns.selectors_review (not-yours
and not-found are the same 404); every write goes through campaigns.services. A POST redirects
with a message, or renders the page again with the form's errors (400), the service's message
(409 for a DomainError or a stale write) or 403 (PermissionDenied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError, PermissionDenied
from core.models import Department, User
from core.roles import Role
from supervision.services import finding_departments

from . import services
from .forms_review import (
    BulletinForm,
    DecisionForm,
    FindingForm,
    ObjectionForm,
    OutsideReviewerForm,
    ReviewersForm,
    SampleForm,
    ScoreForm,
)
from .models import Campaign, CampaignKind, CampaignState, CaseReview, ObjectionState, SampledCase
from .selectors import can_manage, get_campaign_for
from .selectors_review import (
    BAND_LABELS,
    FAIL,
    can_read_results,
    department_samples,
    get_review_for,
    get_sample_for,
    review_results,
    reviewer_samples,
)
from .services.review import can_object, sheet_for

CSS = ("css/supervision.css", "css/campaigns.css")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _review_campaign(user: User, pk: int) -> Campaign:
    campaign = get_campaign_for(user, pk)
    if campaign.kind != CampaignKind.QUALITY_REVIEW:
        raise Http404("Not a quality review")
    return campaign


def _any_campaign(pk: int) -> Campaign:
    """The campaign for a page reached through a sample the viewer may read (a department under
    review does not see the campaign itself): the sample lookup that follows is the check."""
    try:
        return Campaign.objects.select_related("center").get(
            pk=pk, kind=CampaignKind.QUALITY_REVIEW
        )
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found") from None


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _run(
    request: HttpRequest,
    form: forms.Form,
    call: Callable[[], Any],
    success: str | Callable[[Any], str],
    done_url: str,
    page: Callable[[int], HttpResponse],
) -> HttpResponse:
    """Call the service on a valid form; redirect with ``success`` or render ``page`` with the
    errors: 400 for fields, 409 for a DomainError (a stale write is one), 403 for a refusal."""
    if not form.is_valid():
        return page(400)
    try:
        result = call()
    except ValidationError as exc:
        _add_errors(form, exc)
        return page(400)
    except DomainError as exc:
        messages.error(request, str(exc))
        return page(409)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return page(403)
    messages.success(request, success(result) if callable(success) else success)
    return redirect(done_url)


def _reviewer_choices(campaign: Campaign, sample: SampledCase | None) -> QuerySet[User]:
    """Staff of the campaign's center outside the department under review, and outside
    reviewers (the service checks again)."""
    staff = User.objects.filter(is_active=True, center_id=campaign.center_id)
    if sample is not None and sample.department_id is not None:
        staff = staff.exclude(department_id=sample.department_id)
    outside = User.objects.filter(is_active=True, roles__role=Role.REVIEWER)
    return (staff | outside).distinct().select_related("department").order_by("username")


# --- the review's page -------------------------------------------------------------------------------


@login_required
def review_results_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _results_page(request, _user(request), pk)


def _results_page(
    request: HttpRequest,
    user: User,
    pk: int,
    *,
    status: int = 200,
    bulletin_form: BulletinForm | None = None,
) -> HttpResponse:
    campaign = _review_campaign(user, pk)
    if not can_read_results(user, campaign) and not can_manage(user, campaign):
        if user.has_role(Role.REVIEWER) or reviewer_samples(user).filter(campaign=campaign):
            return redirect("campaigns:reviewer_home")
        raise Http404("Not yours")
    manage = can_manage(user, campaign) and campaign.state == CampaignState.OPEN
    results = review_results(campaign, user)
    failing = [r for r in results.cases if r.band == FAIL]
    if bulletin_form is None and manage and failing:
        numbers = "、".join(r.sample.case.number for r in failing)
        bulletin_form = BulletinForm(
            initial={
                "title": _("Bulletin on the quality review “%(name)s”") % {"name": campaign.name},
                "body": _(
                    "The quality review “%(name)s” scored %(scored)d cases; %(failing)d failed "
                    "(below %(pass_from)d points): %(numbers)s."
                )
                % {
                    "name": campaign.name,
                    "scored": sum(1 for r in results.cases if r.score is not None),
                    "failing": len(failing),
                    "pass_from": results.sheet.pass_from if results.sheet else 60,
                    "numbers": numbers,
                },
            }
        )
    # The reviewer checkboxes of every row from one read of the candidates (not a query per row).
    candidates = list(_reviewer_choices(campaign, None)) if manage else []
    rows = []
    for r in results.cases:
        chosen = {u.pk for u in r.sample.reviewers.all()}
        rows.append(
            {
                "result": r,
                "prefix": f"s{r.sample.pk}",
                "candidates": [
                    {"user": u, "checked": u.pk in chosen}
                    for u in candidates
                    if u.pk in chosen
                    or r.sample.department_id is None
                    or u.department_id != r.sample.department_id
                ],
            }
        )
    return render(
        request,
        "campaigns/review/results.html",
        {
            "campaign": campaign,
            "css": CSS,
            "manage": manage,
            "results": results,
            "rows": rows,
            "failing": failing,
            "bulletin_form": bulletin_form,
            "bands": BAND_LABELS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_sample(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = _review_campaign(user, pk)
    if not can_manage(user, campaign):
        raise Http404("Not yours")
    form = SampleForm(request.POST or None)

    def page(status: int) -> HttpResponse:
        return render(
            request,
            "campaigns/review/sample.html",
            {"campaign": campaign, "css": CSS, "form": form, "sheet": sheet_for(campaign)},
            status=status,
        )

    if request.method != "POST":
        return page(200)
    return _run(
        request,
        form,
        lambda: services.sample_cases(actor=user, campaign=campaign, rules=form.rules()),
        lambda result: _("%(n)d cases drawn into the sample.") % {"n": len(result.samples)},
        reverse("campaigns:review_results", args=[campaign.pk]),
        page,
    )


@login_required
@require_POST
def review_assign(request: HttpRequest, pk: int, case: int) -> HttpResponse:
    user = _user(request)
    campaign = _review_campaign(user, pk)
    sample = get_sample_for(user, campaign, case)
    form = ReviewersForm(
        request.POST, choices=_reviewer_choices(campaign, sample), prefix=f"s{sample.pk}"
    )
    return _run(
        request,
        form,
        lambda: services.assign_reviewers(
            actor=user, sample=sample, reviewers=list(form.cleaned_data["reviewers"])
        ),
        _("Reviewers of %(number)s saved.") % {"number": sample.case.number},
        reverse("campaigns:review_results", args=[campaign.pk]) + f"#sample-{sample.pk}",
        lambda status: _error_back(request, user, campaign.pk, form, status),
    )


def _error_back(
    request: HttpRequest, user: User, pk: int, form: forms.Form, status: int
) -> HttpResponse:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return _results_page(request, user, pk, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review_outside_reviewer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = _review_campaign(user, pk)
    if not can_manage(user, campaign):
        raise Http404("Not yours")
    form = OutsideReviewerForm(request.POST or None)

    def page(status: int) -> HttpResponse:
        return render(
            request,
            "campaigns/review/outside_reviewer.html",
            {"campaign": campaign, "css": CSS, "form": form},
            status=status,
        )

    if request.method != "POST":
        return page(200)
    return _run(
        request,
        form,
        lambda: services.add_outside_reviewer(actor=user, campaign=campaign, **form.cleaned_data),
        _("The outside reviewer's account was created; assign them cases below."),
        reverse("campaigns:review_results", args=[campaign.pk]),
        page,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_bulletin(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = _review_campaign(user, pk)
    if request.method != "POST":
        return redirect(reverse("campaigns:review_results", args=[campaign.pk]) + "#bulletin")
    form = BulletinForm(request.POST)
    return _run(
        request,
        form,
        lambda: services.issue_review_bulletin(
            actor=user,
            campaign=campaign,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        ),
        _("The bulletin was issued."),
        reverse("campaigns:review_results", args=[campaign.pk]),
        lambda status: _results_page(request, user, pk, status=status, bulletin_form=form),
    )


# --- one case --------------------------------------------------------------------------------------


@login_required
def review_case(request: HttpRequest, pk: int, case: int) -> HttpResponse:
    user = _user(request)
    return _case_page(request, user, _any_campaign(pk), case)


def _case_page(
    request: HttpRequest,
    user: User,
    campaign: Campaign,
    case_id: int,
    *,
    status: int = 200,
    bound: dict[tuple[str, int], forms.Form] | None = None,
) -> HttpResponse:
    sample = get_sample_for(user, campaign, case_id)
    bound = bound or {}
    is_open = campaign.state == CampaignState.OPEN
    manage = can_manage(user, campaign)
    sheet = sheet_for(campaign)
    items = {i.pk: i for i in sheet.items.all()} if sheet else {}
    reviews = []
    for review in (
        CaseReview.objects.filter(sample=sample)
        .select_related("reviewer", "objected_by", "decided_by")
        .prefetch_related("scores")
        .order_by("pk")
    ):
        review.sample = sample
        object_form = decide_form = finding_form = None
        if is_open and review.objection_state == ObjectionState.NONE and can_object(user, review):
            object_form = bound.get(("object", review.pk)) or ObjectionForm(
                initial={"expected_version": review.version}
            )
        if is_open and manage and review.objection_state == ObjectionState.PENDING:
            decide_form = bound.get(("decide", review.pk)) or DecisionForm(
                initial={"expected_version": review.version}
            )
        if manage:
            finding_form = bound.get(("finding", review.pk)) or FindingForm(
                departments=finding_departments(sample.case),
                initial={"department": sample.department_id},
            )
        reviews.append(
            {
                "review": review,
                "scores": [
                    {"item": items.get(s.item_id), "score": s}
                    for s in sorted(
                        review.scores.all(),
                        key=lambda s: items[s.item_id].sort_order if s.item_id in items else 0,
                    )
                ],
                "object_form": object_form,
                "decide_form": decide_form,
                "finding_form": finding_form,
                "mine": review.reviewer_id == user.pk,
            }
        )
    assigned = sample.reviewers.filter(pk=user.pk).exists()
    return render(
        request,
        "campaigns/review/case.html",
        {
            "campaign": campaign,
            "css": CSS,
            "sample": sample,
            "case": sample.case,
            "reviews": reviews,
            "can_score": is_open and assigned,
            "has_scored": any(r["mine"] for r in reviews),
            "reviewers": list(sample.reviewers.all()),
            "sees_campaign": can_read_results(user, campaign) or manage,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_score(request: HttpRequest, pk: int, case: int) -> HttpResponse:
    user = _user(request)
    campaign = _any_campaign(pk)
    sample = get_sample_for(user, campaign, case)
    if not sample.reviewers.filter(pk=user.pk).exists():
        raise Http404("Not assigned")
    sheet = sheet_for(campaign)
    items = list(sheet.items.order_by("sort_order", "pk")) if sheet else []
    mine = CaseReview.objects.filter(sample=sample, reviewer=user).first()
    initial: dict[str, Any] = {}
    if mine is not None:
        initial = {"comment": mine.comment, "expected_version": mine.version}
        for s in mine.scores.all():
            initial[f"points_{s.item_id}"] = s.points
            initial[f"note_{s.item_id}"] = s.note
    form = ScoreForm(request.POST or None, items=items, initial=initial)

    def page(status: int) -> HttpResponse:
        return render(
            request,
            "campaigns/review/score.html",
            {
                "campaign": campaign,
                "css": CSS,
                "sample": sample,
                "case": sample.case,
                "form": form,
                "sheet": sheet,
                "review": mine,
            },
            status=status,
        )

    if request.method != "POST":
        return page(200)
    return _run(
        request,
        form,
        lambda: services.submit_review(
            actor=user,
            campaign=campaign,
            case=sample.case,
            scores=form.scores(),
            comment=form.cleaned_data.get("comment") or "",
            expected_version=form.cleaned_data.get("expected_version"),
        ),
        _("Your scores for %(number)s were saved.") % {"number": sample.case.number},
        reverse("campaigns:review_case", args=[campaign.pk, sample.case_id]),
        page,
    )


def _review_post(
    request: HttpRequest,
    rid: int,
    key: str,
    make_form: Callable[[CaseReview], forms.Form],
    call: Callable[[User, CaseReview, dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    user = _user(request)
    review = get_review_for(user, rid)
    campaign, case_id = review.sample.campaign, review.sample.case_id
    form = make_form(review)
    return _run(
        request,
        form,
        lambda: call(user, review, form.cleaned_data),
        success,
        reverse("campaigns:review_case", args=[campaign.pk, case_id]) + f"#review-{review.pk}",
        lambda status: _case_page(
            request, user, campaign, case_id, status=status, bound={(key, review.pk): form}
        ),
    )


@login_required
@require_POST
def review_object(request: HttpRequest, rid: int) -> HttpResponse:
    return _review_post(
        request,
        rid,
        "object",
        lambda review: ObjectionForm(request.POST),
        lambda user, review, data: services.object_to_review(
            actor=user,
            review=review,
            reasons=data["reasons"],
            expected_version=data.get("expected_version"),
        ),
        _("Your objection was sent to the campaign office."),
    )


@login_required
@require_POST
def review_decide(request: HttpRequest, rid: int) -> HttpResponse:
    return _review_post(
        request,
        rid,
        "decide",
        lambda review: DecisionForm(request.POST),
        lambda user, review, data: services.decide_objection(
            actor=user,
            review=review,
            upheld=data["upheld"],
            note=data["note"],
            adjusted_total=data.get("adjusted_total"),
            expected_version=data.get("expected_version"),
        ),
        _("The objection was decided."),
    )


@login_required
@require_POST
def review_finding(request: HttpRequest, rid: int) -> HttpResponse:
    return _review_post(
        request,
        rid,
        "finding",
        lambda review: FindingForm(
            request.POST, departments=finding_departments(review.sample.case)
        ),
        lambda user, review, data: services.open_finding_from_review(
            actor=user,
            review=review,
            finding=data["finding"],
            department=data.get("department"),
            measures=data.get("measures") or "",
        ),
        _("The accountability finding was recorded on the case."),
    )


# --- my review tasks ---------------------------------------------------------------------------------


@login_required
def reviewer_home(request: HttpRequest) -> HttpResponse:
    """An outside reviewer's landing page (and any reviewer's): the cases to score; for a
    department under review, its reviewed cases with their scores."""
    user = _user(request)
    tasks = [
        {"sample": s, "mine": s.mine[0] if s.mine else None}  # type: ignore[attr-defined]
        for s in reviewer_samples(user)
    ]
    department: Department | None = None
    reviewed: list[SampledCase] = []
    if user.department_id is not None:
        department = user.department
        reviewed = list(
            department_samples(user)
            .select_related("campaign", "case")
            .prefetch_related("reviews")
            .order_by("-campaign__starts_on", "pk")
        )
    return render(
        request,
        "campaigns/review/tasks.html",
        {"css": CSS, "tasks": tasks, "department": department, "reviewed": reviewed},
    )
