"""The sweep (排查) under /api/v1/campaigns/{id}/: run it, list its candidates, keep or drop one.

Thin views (STYLE.md): the input serializer validates, campaigns.services writes, an output
serializer renders. The campaign is read through campaigns.selectors.get_campaign_for and a
candidate through its campaign, so not-yours and not-found are the same 404. Service errors map
in core.api.exception_handler: ValidationError 400, PermissionDenied 403, DomainError 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Center, Department, User
from core.pagination import SafeCursorPagination

from .. import services
from ..models import Campaign, CandidateDecision, SweepCandidate
from ..selectors import get_campaign_for
from ..sweep import CANDIDATE_CAP, CRITERIA, parse_criteria

TAGS = ["campaigns"]
BAD_REQUEST = OpenApiResponse(description="Field errors: {field: [messages]}.")
FORBIDDEN = OpenApiResponse(description="Only the campaign's managers sweep and decide.")
NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see (the same answer).")
CONFLICT = OpenApiResponse(
    description="The campaign or the candidate does not allow this now: {detail, code}."
)
ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


# --- serializers -----------------------------------------------------------------------------------


class SweepInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    criteria = serializers.JSONField(
        help_text=(
            "Named criteria, combined with AND (`match`: `all`, the default) or OR (`any`): "
            + ", ".join(f"`{name}`" for name in CRITERIA)
            + ". `open_days_over` and `visits_at_least` take whole numbers, the others true or "
            'false. Example: `{"open_days_over": 90, "visits_at_least": 3}`.'
        )
    )

    def validate_criteria(self, value: Any) -> dict[str, Any]:
        try:
            return parse_criteria(value).as_dict()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc


class HandDownInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """hand_down_matter's arguments for a kept candidate (定人员、定案件、定时间、定结果)."""

    center = serializers.PrimaryKeyRelatedField(
        queryset=Center.objects.all(), required=False, allow_null=True, default=None
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, default=None
    )
    leader = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    handler = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    due_on = serializers.DateField()
    target_result = serializers.CharField(max_length=2000)
    summary = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    since = serializers.DateField(required=False, allow_null=True, default=None)
    work_done = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    obstacle = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    next_step = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class DecideInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    keep = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000)
    hand_down = HandDownInputSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text=str(
            _(
                "To keep a candidate: to whom and by when it is handed down (not needed when the "
                "case already is a matter of the campaign)."
            )
        ),
    )


class CandidateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    number = serializers.SerializerMethodField()

    class Meta:
        model = SweepCandidate
        fields = [
            "id",
            "case",
            "number",
            "criteria_met",
            "decision",
            "reason",
            "decided_by",
            "decided_at",
            "found_at",
        ]
        read_only_fields = fields

    def get_number(self, candidate: SweepCandidate) -> str:
        numbers: dict[int, str] = self.context.get("numbers", {})
        if candidate.case_id in numbers:
            return numbers[candidate.case_id]
        return candidate.case.number


class SweepResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    count = serializers.IntegerField(
        help_text=f"How many cases met the criteria, exact when `truncated` is false; when "
        f"true, more than {CANDIDATE_CAP:,} met them and `count` is {CANDIDATE_CAP:,} (the "
        "candidates returned): narrow the criteria."
    )
    truncated = serializers.BooleanField(
        help_text=f"More than {CANDIDATE_CAP:,} cases met the criteria; the oldest "
        f"{CANDIDATE_CAP:,} are the candidates."
    )
    criteria = serializers.JSONField()
    candidates = CandidateSerializer(many=True)


class CandidatePageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CandidateSerializer(many=True)


class CandidateQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    decision = serializers.ChoiceField(choices=CandidateDecision.choices, required=False)


# --- views ---------------------------------------------------------------------------------------


class CandidatePagination(SafeCursorPagination):
    # the sweep's own order: rows are inserted as found, oldest registration first
    ordering = ("id",)
    page_size = 100


def _campaign(request: Request, pk: int) -> Campaign:
    return get_campaign_for(actor_of(request), pk)


def _candidates(campaign: Campaign) -> QuerySet[SweepCandidate]:
    return SweepCandidate.objects.filter(campaign=campaign).select_related("case")


class SweepView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Run the sweep (排查)",
        description=(
            "Finds the cases of the campaign's scope (its center, and the centers below when the "
            "campaign includes them) that meet the criteria, in one query; saves the criteria on "
            f"the campaign and the candidates (at most {CANDIDATE_CAP:,}, oldest registration "
            "first; `count` is their number, exact unless `truncated`: more met the criteria, "
            "which then need narrowing). A re-run keeps earlier decisions and removes "
            "undecided candidates no longer found. The campaign's managers only."
        ),
        request=SweepInputSerializer,
        responses={200: SweepResultSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = _campaign(request, pk)
        serializer = SweepInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.run_sweep(
            actor=actor, campaign=campaign, criteria=serializer.validated_data["criteria"]
        )
        data = {
            "count": run.total,
            "truncated": run.truncated,
            "criteria": campaign.sweep_criteria,
            "candidates": run,
        }
        return Response(SweepResultSerializer(data, context={"numbers": run.numbers}).data)


class CandidatesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The sweep's candidates",
        description="In the sweep's order, optionally of one decision (`pending`, `kept`, "
        "`dropped`); 100 a page.",
        parameters=[CandidateQuerySerializer],
        responses={200: CandidatePageSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = _campaign(request, pk)
        query = CandidateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = _candidates(campaign)
        if query.validated_data.get("decision"):
            rows = rows.filter(decision=query.validated_data["decision"])
        paginator = CandidatePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page or [],
        }
        return Response(CandidatePageSerializer(data).data)


class DecideView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Keep or drop a candidate",
        description=(
            "A reason either way. Keeping hands the matter down (交办 with 包案: `hand_down` "
            "with `center` or `department`, `leader`, `handler`, `due_on`, `target_result` and "
            "the ledger fields) in the same transaction. A kept candidate is final; deciding the "
            "same way twice answers 409."
        ),
        request=DecideInputSerializer,
        responses={200: CandidateSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, cid: int) -> Response:
        actor = actor_of(request)
        campaign = _campaign(request, pk)
        try:
            candidate = _candidates(campaign).get(pk=cid)
        except SweepCandidate.DoesNotExist:
            raise Http404("No such candidate") from None
        serializer = DecideInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        candidate.campaign = campaign
        decided = services.decide_candidate(
            actor=actor,
            candidate=candidate,
            keep=attrs["keep"],
            reason=attrs["reason"],
            hand_down=attrs.get("hand_down"),
        )
        return Response(CandidateSerializer(decided).data)


urlpatterns = [
    path("campaigns/<int:pk>/sweep/", SweepView.as_view(), name="campaign-sweep"),
    path("campaigns/<int:pk>/candidates/", CandidatesView.as_view(), name="campaign-candidates"),
    path(
        "campaigns/<int:pk>/candidates/<int:cid>/decide/",
        DecideView.as_view(),
        name="campaign-candidate-decide",
    ),
]
