"""Review, re-review and lawful termination under /api/v1/cases/{id}/ (thin views, STYLE.md).

The case is looked up through the viewer's visibility first (not yours = 404, as for a missing
case); the appeals.services function writes; errors map in core.api.exception_handler
(ValidationError 400, PermissionDenied 403, DomainError 409 with its ``code``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from appeals import services
from appeals.models import ReviewRequest, Termination
from petitions.models import Case
from routing.api.views import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    CaseView,
    actor_of,
)

from .serializers import (
    ReviewDecisionInputSerializer,
    ReviewRequestInputSerializer,
    ReviewRequestSerializer,
    TerminationDecisionInputSerializer,
    TerminationProposalInputSerializer,
    TerminationSerializer,
)

TAGS = ["appeals"]
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A double submit with the same key returns the first result, creating nothing.",
)
WINDOW_CONFLICT = OpenApiResponse(
    description=(
        "Refused with {detail, code}: window_closed (more than 30 days since the answer), "
        "no_delivered_reply, no_review (re-review before a review), review_pending, "
        "already_reviewed / already_re_reviewed (a second request against the same answer), "
        "final, illegal_transition (e.g. archived), stale."
    )
)


def _fresh_case(case: Case) -> Case:
    case.refresh_from_db(fields=["state", "state_changed_at", "version"])
    return case


def _key(request: Request) -> str | None:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    return key[:64] or None


class ReviewView(CaseView):
    """Review (复查) and re-review (复核) requests of a case (Arts 35-36)."""

    @extend_schema(
        tags=TAGS,
        summary="The case's review and re-review requests",
        responses={200: ReviewRequestSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        rows = (
            ReviewRequest.objects.filter(case=case)
            .select_related("reviewing_center", "case")
            .order_by("requested_at", "pk")
        )
        return Response(ReviewRequestSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Record a request for review (复查) or re-review (复核)",
        description=(
            "Arts 35-36: within 30 calendar days of the delivery of the written reply (review) or "
            "of the review's written answer (re-review); goes to the next level up, which has 30 "
            "days to decide. Recorded by desk staff of the case's center or of the reviewing "
            "center."
        ),
        parameters=[IDEMPOTENCY],
        request=ReviewRequestInputSerializer,
        responses={
            201: ReviewRequestSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: WINDOW_CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ReviewRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        review = services.request_review(
            actor=actor,
            case=case,
            kind=attrs["kind"],
            reason=attrs["reason"],
            channel=attrs["channel"],
            expected_version=attrs.get("expected_version"),
            submission_key=_key(request),
        )
        review.case = _fresh_case(case)
        return Response(ReviewRequestSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewDecideView(CaseView):
    """The reviewing center's decision with its written answer."""

    @extend_schema(
        tags=TAGS,
        summary="Decide the review or re-review with a written answer",
        description=(
            "By a supervisor or leader of the reviewing center. `decision`: uphold, revoke, "
            "change or redo. After a review the re-review window opens (30 days from the answer); "
            "after a re-review the matter is final (not accepted again, Art 36)."
        ),
        request=ReviewDecisionInputSerializer,
        responses={
            200: ReviewRequestSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ReviewDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        review = services.decide_review(
            actor=actor,
            case=case,
            decision=attrs["decision"],
            answer=attrs["answer"],
            expected_version=attrs.get("expected_version"),
        )
        review.case = _fresh_case(case)
        return Response(ReviewRequestSerializer(review).data)


class TerminationView(CaseView):
    """Lawful termination (依法终结) proposals of a case (Art 37)."""

    @extend_schema(
        tags=TAGS,
        summary="The case's lawful termination proposals",
        responses={200: TerminationSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        rows = (
            Termination.objects.filter(case=case)
            .select_related("department", "support_unit", "case")
            .order_by("proposed_at", "pk")
        )
        return Response(TerminationSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Propose lawful termination (依法终结) of a law-related case",
        description=(
            "By an officer or head of the case's lead department, once the case has been "
            "answered (replied or closed). `support_unit` defaults to the proposing department."
        ),
        parameters=[IDEMPOTENCY],
        request=TerminationProposalInputSerializer,
        responses={
            201: TerminationSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = TerminationProposalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        termination = services.propose_termination(
            actor=actor,
            case=case,
            grounds=attrs["grounds"],
            support_unit=attrs.get("support_unit"),
            expected_version=attrs.get("expected_version"),
            submission_key=_key(request),
        )
        termination.case = _fresh_case(case)
        return Response(TerminationSerializer(termination).data, status=status.HTTP_201_CREATED)


class TerminationApproveView(CaseView):
    """The center's review and the provincial approval of a termination proposal."""

    @extend_schema(
        tags=TAGS,
        summary="The next step of the termination proposal: center review or provincial approval",
        description=(
            "One endpoint for both steps; the step is the proposal's state, and the actor must "
            "hold it: while `proposed`, a supervisor or leader of the case's center reviews it; "
            "once `center_reviewed`, a supervisor or leader of the province center approves it "
            "with `approving_body` and `approval_date` (the case becomes lawfully terminated). "
            "`reject` needs `opinion` and ends the proposal."
        ),
        request=TerminationDecisionInputSerializer,
        responses={
            200: TerminationSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = TerminationDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        termination = services.decide_termination(
            actor=actor,
            case=case,
            approve=attrs["approve"],
            opinion=attrs["opinion"],
            approving_body=attrs["approving_body"],
            approval_date=attrs["approval_date"],
            support_unit=attrs.get("support_unit"),
            expected_version=attrs.get("expected_version"),
        )
        termination.case = _fresh_case(case)
        return Response(TerminationSerializer(termination).data)
