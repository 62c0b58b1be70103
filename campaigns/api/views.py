"""Campaigns under /api/v1/: campaigns, their backlog matters (交办, 签收, 进展, 台账) and figures.

Thin views (STYLE.md): the input serializer validates, a campaigns.services function writes, an
output serializer renders. A campaign is looked up through campaigns.selectors.get_campaign_for
and a matter through matters_visible_to, so not-yours and not-found are the same 404; a matter's
case through the cases the caller may see (an unknown or invisible case is the same 400). Service
errors map to status codes in core.api.exception_handler: ValidationError 400, PermissionDenied
403, DomainError and StaleState 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors, services
from campaigns.models import Campaign, Matter
from core.dbrouter import replica_reads
from core.models import User
from core.pagination import SafeCursorPagination
from petitions.selectors import cases_visible_to

from .serializers import (
    CampaignInputSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    LedgerInputSerializer,
    MatterInputSerializer,
    MatterSerializer,
    ProgressInputSerializer,
    ProgressSerializer,
    SummarySerializer,
    VersionInputSerializer,
)

TAGS = ["campaigns"]
ERRORS = {
    400: OpenApiResponse(description="Field errors: {field: [messages]}."),
    403: OpenApiResponse(description="Your role does not allow this action."),
    404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
    409: OpenApiResponse(description="Stale version, or the state does not allow it."),
}


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _valid(serializer_class: type, request: Request, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class NewestFirst(SafeCursorPagination):
    ordering = "-pk"


class CampaignPageSerializer(serializers.Serializer):
    """A page of campaigns: CursorPagination's shape."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CampaignSerializer(many=True)


class MatterPageSerializer(serializers.Serializer):
    """A page of backlog matters: CursorPagination's shape."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MatterSerializer(many=True)


class DueFirst(SafeCursorPagination):
    ordering = ("due_on", "pk")


def _campaign_row(pk: int) -> Campaign:
    return (
        Campaign.objects.select_related("center", "group_leader")
        .prefetch_related("members")
        .get(pk=pk)
    )


def _matter_row(pk: int) -> Matter:
    """The matter as saved, with what MatterSerializer shows (the caller was checked already)."""
    return Matter.objects.select_related("case", "center", "department", "leader", "handler").get(
        pk=pk
    )


class CampaignsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="campaigns_list",
        summary="Campaigns the caller may read",
        description=(
            "The caller's center's campaigns, those of the centers below it (read-only), and "
            "campaigns that handed matters down to the caller's center or department. Newest "
            "first, cursor-paginated."
        ),
        responses={200: CampaignPageSerializer},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        qs = (
            selectors.campaigns_visible_to(actor)
            .select_related("center", "group_leader")
            .prefetch_related("members")
        )
        kind = request.query_params.get("kind")
        if kind:
            qs = qs.filter(kind=kind)
        paginator = NewestFirst()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = CampaignSerializer(page, many=True, context={"user": actor}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        summary="Open a campaign",
        description=(
            "A supervisor or leader of the campaign's center or of a center above it. Kind: "
            "backlog (积案化解), sweep (排查) or quality_review (案件评查)."
        ),
        request=CampaignInputSerializer,
        responses={201: CampaignSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        attrs = _valid(CampaignInputSerializer, request)
        center = attrs.pop("center", None) or actor.center
        if center is None:
            raise ValidationError({"center": [_("Choose the campaign's center.")]})
        campaign = services.create_campaign(actor=actor, center=center, **attrs)
        data = CampaignSerializer(_campaign_row(campaign.pk), context={"user": actor}).data
        return Response(data, status=status.HTTP_201_CREATED)


class CampaignView(APIView):
    @extend_schema(tags=TAGS, summary="A campaign", responses={200: CampaignSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        return Response(
            CampaignSerializer(_campaign_row(campaign.pk), context={"user": actor}).data
        )

    @extend_schema(
        tags=TAGS,
        summary="Change a running campaign",
        description="Its managers only; expected_version guards against stale forms (409).",
        request=CampaignUpdateSerializer,
        responses={200: CampaignSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        attrs = _valid(CampaignUpdateSerializer, request, partial=True)
        expected = attrs.pop("expected_version", None)
        services.update_campaign(actor=actor, campaign=campaign, expected_version=expected, **attrs)
        return Response(
            CampaignSerializer(_campaign_row(campaign.pk), context={"user": actor}).data
        )


class CampaignCloseView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Close a campaign",
        request=VersionInputSerializer,
        responses={200: CampaignSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        attrs = _valid(VersionInputSerializer, request)
        services.close_campaign(
            actor=actor, campaign=campaign, expected_version=attrs.get("expected_version")
        )
        return Response(
            CampaignSerializer(_campaign_row(campaign.pk), context={"user": actor}).data
        )


class MattersView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="campaigns_matters_list",
        summary="The campaign's backlog matters the caller may read",
        description=(
            "All of them for the campaign's center and the centers above it; only those handed "
            "to the caller's center, department or person otherwise. Due first, paginated."
        ),
        responses={200: MatterPageSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        qs = selectors.matters_visible_to(actor, campaign)
        outcome = request.query_params.get("outcome")
        if outcome:
            qs = qs.filter(outcome=outcome)
        paginator = DueFirst()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(MatterSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Hand a backlog matter down (交办 with 包案)",
        description=(
            "定人员、定案件、定时间、定结果: a case of the campaign's centers, a receiving center "
            "or department, a responsible leader (by default the receiving side's head), a "
            "handler, a due date within the campaign and a target result. Once per case (409)."
        ),
        request=MatterInputSerializer,
        responses={201: MatterSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        attrs = _valid(MatterInputSerializer, request)
        case = cases_visible_to(actor).filter(pk=attrs.pop("case")).first()
        if case is None:
            raise ValidationError({"case": [_("No such case.")]})
        matter = services.hand_down_matter(actor=actor, campaign=campaign, case=case, **attrs)
        return Response(
            MatterSerializer(_matter_row(matter.pk)).data, status=status.HTTP_201_CREATED
        )


class MatterView(APIView):
    def get_matter(self, request: Request, pk: int, mid: int) -> tuple[User, Matter]:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        return actor, selectors.get_matter_for(actor, campaign, mid)

    @extend_schema(
        tags=TAGS, summary="A backlog matter", responses={200: MatterSerializer, **ERRORS}
    )
    def get(self, request: Request, pk: int, mid: int) -> Response:
        _actor, matter = self.get_matter(request, pk, mid)
        return Response(MatterSerializer(matter).data)

    @extend_schema(
        tags=TAGS,
        summary="Keep the matter's ledger (个案台账)",
        request=LedgerInputSerializer,
        responses={200: MatterSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int, mid: int) -> Response:
        actor, matter = self.get_matter(request, pk, mid)
        attrs = _valid(LedgerInputSerializer, request, partial=True)
        expected = attrs.pop("expected_version", None)
        services.update_ledger(actor=actor, matter=matter, expected_version=expected, **attrs)
        return Response(MatterSerializer(_matter_row(matter.pk)).data)


class MatterSignView(MatterView):
    @extend_schema(
        tags=TAGS,
        summary="Sign for a matter (签收)",
        request=VersionInputSerializer,
        responses={200: MatterSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, mid: int) -> Response:
        actor, matter = self.get_matter(request, pk, mid)
        attrs = _valid(VersionInputSerializer, request)
        services.sign_for_matter(
            actor=actor, matter=matter, expected_version=attrs.get("expected_version")
        )
        return Response(MatterSerializer(_matter_row(matter.pk)).data)


class MatterProgressView(MatterView):
    @extend_schema(
        tags=TAGS,
        summary="Report progress on a matter",
        description=(
            "in_hand, resolved (with how: 化解) or stalled (with the obstacle). A resubmitted "
            "form (same submission_key) is one entry."
        ),
        request=ProgressInputSerializer,
        responses={201: ProgressSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, mid: int) -> Response:
        actor, matter = self.get_matter(request, pk, mid)
        attrs = _valid(ProgressInputSerializer, request)
        entry = services.record_progress(actor=actor, matter=matter, **attrs)
        return Response(ProgressSerializer(entry).data, status=status.HTTP_201_CREATED)


class SummaryView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The campaign's figures",
        description=(
            "Handed down, resolved (化解), in hand, stalled, terminated, ceased (息诉罢访 after "
            "the observation window), the rates (null when nothing was handed down) and the "
            "targets, by receiving center, department, leader and week handed down. Counts "
            "only the matters the caller may read."
        ),
        responses={200: SummarySerializer, **ERRORS},
    )
    @replica_reads
    def get(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        campaign = selectors.get_campaign_for(actor, pk)
        return Response(selectors.campaign_summary(campaign, user=actor))
