"""Quality review (案件评查) under /api/v1/: score sheets, the sample, reviewers, reviews, the
department's objection, the office's decision, findings and the review's 通报.

Thin views (STYLE.md): the input serializer validates the shape, campaigns.services.review writes
and checks the rules, the output is rendered here. A campaign is looked up with
campaigns.selectors.get_campaign_for and a review or sample through the samples the viewer may
read (campaigns.selectors_review), so not-yours and not-found are the same 404. Service errors map
to status codes in core.api.exception_handler: ValidationError 400, PermissionDenied 403,
DomainError and StaleState 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Department, User
from petitions.api.serializers import MAX_ID, MAX_VERSION
from petitions.models import Case

from .. import services
from ..models import Campaign, CaseReview, SampledCase, ScoreSheet
from ..selectors import get_campaign_for
from ..selectors_review import (
    BAND_LABELS,
    can_read_results,
    get_review_for,
    review_results,
    reviews_visible_in,
    samples_of,
)
from ..services.review import OUTSIDE_REVIEWER_KINDS, sheet_for

TAGS = ["campaigns"]
ERRORS = {
    400: OpenApiResponse(description="Field errors: {field: [messages]}."),
    403: OpenApiResponse(description="Your role does not allow this."),
    404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
    409: OpenApiResponse(description="The state does not allow this, or a stale write."),
}


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _review_campaign(user: User, pk: int) -> Campaign:
    """The campaign as the viewer sees it, or, for staff asked to review one of its cases who do
    not otherwise see it (a department officer of the center), through their assignment."""
    try:
        return get_campaign_for(user, pk)
    except Http404:
        if not SampledCase.objects.filter(campaign_id=pk, reviewers=user).exists():
            raise
        return Campaign.objects.select_related("center").get(pk=pk)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- output ----------------------------------------------------------------------------------------


def _sheet_data(sheet: ScoreSheet) -> dict[str, Any]:
    return {
        "id": sheet.pk,
        "name": sheet.name,
        "center": sheet.center_id,
        "is_active": sheet.is_active,
        "excellent_from": sheet.excellent_from,
        "pass_from": sheet.pass_from,
        "items": [
            {
                "id": item.pk,
                "section": item.section,
                "criterion": item.criterion,
                "points": item.points,
            }
            for item in sheet.items.all()
        ],
    }


def _review_data(review: CaseReview) -> dict[str, Any]:
    return {
        "id": review.pk,
        "case": review.sample.case_id,
        "reviewer": review.reviewer_id,
        "reviewer_name": str(review.reviewer),
        "total": review.total,
        "adjusted_total": review.adjusted_total,
        "final_total": review.final_total,
        "comment": review.comment,
        "submitted_at": review.submitted_at,
        "objection_state": review.objection_state,
        "objection": review.objection,
        "decision_note": review.decision_note,
        "version": review.version,
        "scores": [
            {"item": s.item_id, "points": s.points, "note": s.note}
            for s in sorted(review.scores.all(), key=lambda s: s.item_id)
        ],
    }


def _sample_data(sample: SampledCase) -> dict[str, Any]:
    return {
        "id": sample.pk,
        "case": sample.case_id,
        "number": sample.case.number,
        "department": sample.department_id,
        "rule": sample.rule,
        "reviewers": [u.pk for u in sample.reviewers.all()],
    }


# --- input -----------------------------------------------------------------------------------------


class SampleInput(serializers.Serializer):
    rules = serializers.DictField()


class ReviewersInput(serializers.Serializer):
    reviewers = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True)


class OutsideReviewerInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    full_name = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=list(OUTSIDE_REVIEWER_KINDS))
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ReviewInput(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    scores = serializers.ListField(child=serializers.DictField(), allow_empty=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VERSION)


class ObjectionInput(serializers.Serializer):
    reasons = serializers.CharField()
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VERSION)


class DecisionInput(serializers.Serializer):
    upheld = serializers.BooleanField()
    note = serializers.CharField()
    adjusted_total = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_VERSION
    )
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VERSION)


class ReviewFindingInput(serializers.Serializer):
    finding = serializers.CharField()
    measures = serializers.CharField(required=False, allow_blank=True, default="")
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )


class ReviewBulletinInput(serializers.Serializer):
    title = serializers.CharField()
    body = serializers.CharField()
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )


class SheetCopyInput(serializers.Serializer):
    copy_of = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    name = serializers.CharField(required=False, allow_blank=True, default="")


class SheetItemsInput(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField())


# --- views -----------------------------------------------------------------------------------------


class ScoreSheetsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Score sheets with their items",
        description="The default sheet and the viewer's center's own: items {id, section, "
        "criterion, points} grouped by section in sheet order.",
        responses={200: OpenApiResponse(description="[{id, name, center, items: [...]}]")},
    )
    def get(self, request: Request) -> Response:
        user = actor_of(request)
        sheets = ScoreSheet.objects.filter(
            Q(center__isnull=True) | Q(center_id=user.center_id)
        ).prefetch_related("items")
        if user.is_superuser:
            sheets = ScoreSheet.objects.prefetch_related("items")
        return Response([_sheet_data(s) for s in sheets.order_by("center_id", "pk")])

    @extend_schema(
        tags=TAGS,
        summary="Copy a sheet for your center",
        request=SheetCopyInput,
        responses={201: OpenApiResponse(description="The new sheet."), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        user = actor_of(request)
        attrs = _valid(SheetCopyInput, request)
        source = None
        if attrs.get("copy_of"):
            source = ScoreSheet.objects.filter(
                Q(center__isnull=True) | Q(center_id=user.center_id), pk=attrs["copy_of"]
            ).first()
            if source is None:
                raise Http404("Not found")
        if user.center is None:
            raise exceptions.PermissionDenied()
        sheet = services.copy_score_sheet(
            actor=user, center=user.center, source=source, name=attrs["name"]
        )
        return Response(_sheet_data(sheet), status=status.HTTP_201_CREATED)


class ScoreSheetItemsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Replace a center sheet's items",
        request=SheetItemsInput,
        responses={200: OpenApiResponse(description="The sheet."), **ERRORS},
    )
    def put(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        sheet = ScoreSheet.objects.filter(
            Q(center__isnull=True) | Q(center_id=user.center_id), pk=pk
        ).first()
        if sheet is None:
            raise Http404("Not found")
        attrs = _valid(SheetItemsInput, request)
        sheet = services.replace_score_items(actor=user, sheet=sheet, items=attrs["items"])
        return Response(_sheet_data(sheet))


class SampleView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Sample handled cases into a quality review",
        description=(
            'rules: {"random": n, "dissatisfied": true, "repeat": true, "per_department": n, '
            '"registered_from": "YYYY-MM-DD", "registered_to": "YYYY-MM-DD"}. Returns the new '
            "sampled case ids, the rules as applied and how many each rule drew."
        ),
        request=SampleInput,
        responses={201: OpenApiResponse(description="{cases, rules, counts, samples}"), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        attrs = _valid(SampleInput, request)
        result = services.sample_cases(actor=user, campaign=campaign, rules=attrs["rules"])
        return Response(
            {
                "cases": [s.case_id for s in result.samples],
                "rules": result.rules,
                "counts": result.counts,
                "samples": [
                    {
                        "id": s.pk,
                        "case": s.case_id,
                        "rule": s.rule,
                        "department": s.department_id,
                    }
                    for s in result.samples
                ],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(tags=TAGS, summary="The campaign's sample", responses={200: None})
    def get(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        return Response([_sample_data(s) for s in reviews_visible_in(user, campaign)])


class SampleReviewersView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Assign the reviewers of a sampled case",
        request=ReviewersInput,
        responses={200: OpenApiResponse(description="The sample."), **ERRORS},
    )
    def post(self, request: Request, pk: int, case: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        sample = samples_of(campaign).filter(case_id=case).first()
        if sample is None:
            raise Http404("Not found")
        attrs = _valid(ReviewersInput, request)
        services.assign_reviewers(actor=user, sample=sample, reviewers=attrs["reviewers"])
        fresh = samples_of(campaign).get(pk=sample.pk)
        return Response(_sample_data(fresh))


class OutsideReviewersView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Create an outside reviewer's account",
        description="人大代表 (deputy), 政协委员 (cppcc) or lawyer: an account with the one role "
        "'reviewer', reading only the cases sampled for it.",
        request=OutsideReviewerInput,
        responses={201: OpenApiResponse(description="{id, username, full_name}"), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        attrs = _valid(OutsideReviewerInput, request)
        made = services.add_outside_reviewer(actor=user, campaign=campaign, **attrs)
        return Response(
            {"id": made.pk, "username": made.username, "full_name": made.full_name},
            status=status.HTTP_201_CREATED,
        )


class ReviewsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Each sampled case's reviews",
        description="Each case the viewer may read with its reviews (each with its `total` and "
        "`final_total`), its score (mean of the final totals) and band.",
        responses={200: OpenApiResponse(description="[{case, score, band, reviews: [...]}]")},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = _review_campaign(user, pk)
        visible = set(reviews_visible_in(user, campaign).values_list("pk", flat=True))
        rows = [
            {
                **_sample_data(row.sample),
                "score": str(row.score) if row.score is not None else None,
                "band": row.band,
                "band_label": str(BAND_LABELS[row.band]) if row.band else None,
                "reviews": [_review_data(r) for r in row.reviews],
            }
            for row in review_results(campaign, user).cases
            if row.sample.pk in visible
        ]
        return Response(rows)

    @extend_schema(
        tags=TAGS,
        summary="Score a sampled case",
        description="An assigned reviewer scores every item of the campaign's sheet once: "
        'scores [{"item": id, "points": n, "note": "…"}]. A second review of the same case is '
        "409 unless it carries the review's expected_version (then it replaces the scores, until "
        "the department objects).",
        request=ReviewInput,
        responses={201: OpenApiResponse(description="The review."), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = _review_campaign(user, pk)
        attrs = _valid(ReviewInput, request)
        sample = reviews_visible_in(user, campaign).filter(case_id=attrs["case"]).first()
        if sample is None:
            raise Http404("Not found")
        case: Case = sample.case
        review = services.submit_review(
            actor=user,
            campaign=campaign,
            case=case,
            scores=attrs["scores"],
            comment=attrs["comment"],
            expected_version=attrs.get("expected_version"),
        )
        fresh = get_review_for(user, review.pk)
        created = attrs.get("expected_version") is None
        return Response(
            _review_data(fresh), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ResultsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Review results: per case, ranked per department and per center, with bands",
        responses={200: None},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        if not can_read_results(user, campaign):
            raise exceptions.PermissionDenied()
        results = review_results(campaign, user)
        sheet = results.sheet or sheet_for(campaign)
        return Response(
            {
                "sheet": sheet.pk if sheet else None,
                "cases": [
                    {
                        "case": r.sample.case_id,
                        "number": r.sample.case.number,
                        "department": r.sample.department_id,
                        "center": r.sample.case.center_id,
                        "reviews": len(r.reviews),
                        "score": str(r.score) if r.score is not None else None,
                        "band": r.band,
                        "rank": r.rank,
                    }
                    for r in results.cases
                ],
                "by_department": [u.as_dict() for u in results.by_department],
                "by_center": [u.as_dict() for u in results.by_center],
            }
        )


class ObjectionView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Object to a review (the department under review, once)",
        request=ObjectionInput,
        responses={200: OpenApiResponse(description="The review."), **ERRORS},
    )
    def post(self, request: Request, rid: int) -> Response:
        user = actor_of(request)
        review = get_review_for(user, rid)
        attrs = _valid(ObjectionInput, request)
        services.object_to_review(
            actor=user,
            review=review,
            reasons=attrs["reasons"],
            expected_version=attrs.get("expected_version"),
        )
        return Response(_review_data(get_review_for(user, rid)))


class DecisionView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Decide an objection (the campaign office)",
        description="Upheld with adjusted_total (the total that then counts), or rejected.",
        request=DecisionInput,
        responses={200: OpenApiResponse(description="The review."), **ERRORS},
    )
    def post(self, request: Request, rid: int) -> Response:
        user = actor_of(request)
        review = get_review_for(user, rid)
        attrs = _valid(DecisionInput, request)
        services.decide_objection(
            actor=user,
            review=review,
            upheld=attrs["upheld"],
            note=attrs["note"],
            adjusted_total=attrs.get("adjusted_total"),
            expected_version=attrs.get("expected_version"),
        )
        return Response(_review_data(get_review_for(user, rid)))


class FindingView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Open a 责任倒查 finding from a review (through supervision)",
        request=ReviewFindingInput,
        responses={201: OpenApiResponse(description="{id, case, department, officer}"), **ERRORS},
    )
    def post(self, request: Request, rid: int) -> Response:
        user = actor_of(request)
        review = get_review_for(user, rid)
        attrs = _valid(ReviewFindingInput, request)
        finding = services.open_finding_from_review(
            actor=user,
            review=review,
            finding=attrs["finding"],
            measures=attrs["measures"],
            department=attrs.get("department"),
            officer=attrs.get("officer"),
        )
        return Response(
            {
                "id": finding.pk,
                "case": finding.case_id,
                "department": finding.department_id,
                "officer": finding.officer_id,
            },
            status=status.HTTP_201_CREATED,
        )


class BulletinView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Put the review's findings into a 通报 (through supervision)",
        description="Names the departments of the given sampled cases (by default the cases "
        "whose score is 不合格).",
        request=ReviewBulletinInput,
        responses={201: OpenApiResponse(description="{id, departments, cases}"), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = actor_of(request)
        campaign = get_campaign_for(user, pk)
        attrs = _valid(ReviewBulletinInput, request)
        samples = None
        if attrs.get("cases"):
            samples = list(samples_of(campaign).filter(case_id__in=attrs["cases"]))
            if len(samples) != len(set(attrs["cases"])):
                raise exceptions.ValidationError({"cases": [_("Name only cases of this sample.")]})
        bulletin = services.issue_review_bulletin(
            actor=user, campaign=campaign, title=attrs["title"], body=attrs["body"], samples=samples
        )
        return Response(
            {
                "id": bulletin.pk,
                "departments": sorted(d.pk for d in bulletin.departments.all()),
                "cases": sorted(c.pk for c in bulletin.cases.all()),
            },
            status=status.HTTP_201_CREATED,
        )


urlpatterns: list = [
    path("score-sheets/", ScoreSheetsView.as_view(), name="campaign-score-sheets"),
    path(
        "score-sheets/<int:pk>/items/",
        ScoreSheetItemsView.as_view(),
        name="campaign-score-sheet-items",
    ),
    path("campaigns/<int:pk>/sample/", SampleView.as_view(), name="campaign-sample"),
    path(
        "campaigns/<int:pk>/sample/<int:case>/reviewers/",
        SampleReviewersView.as_view(),
        name="campaign-sample-reviewers",
    ),
    path(
        "campaigns/<int:pk>/outside-reviewers/",
        OutsideReviewersView.as_view(),
        name="campaign-outside-reviewers",
    ),
    path("campaigns/<int:pk>/reviews/", ReviewsView.as_view(), name="campaign-reviews"),
    path(
        "campaigns/<int:pk>/review-results/",
        ResultsView.as_view(),
        name="campaign-review-results",
    ),
    path(
        "campaigns/<int:pk>/review-bulletin/",
        BulletinView.as_view(),
        name="campaign-review-bulletin",
    ),
    path(
        "campaign-reviews/<int:rid>/objection/",
        ObjectionView.as_view(),
        name="campaign-review-objection",
    ),
    path(
        "campaign-reviews/<int:rid>/decision/",
        DecisionView.as_view(),
        name="campaign-review-decision",
    ),
    path(
        "campaign-reviews/<int:rid>/finding/",
        FindingView.as_view(),
        name="campaign-review-finding",
    ),
]
