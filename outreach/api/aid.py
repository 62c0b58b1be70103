"""Judicial aid under /api/v1/ (issue 20 §4, API names as the issue gives them):

- ``GET  cases/{id}/judicial-aid/``: the case's applications with their ``state``;
- ``POST cases/{id}/judicial-aid/``: apply (``applicant``, ``circumstance``, ``circumstances``,
  ``requested_amount``, ``department`` (default: the lead department), ``expected_version``: the
  case's version, ``submission_key``; multipart ``files`` for the evidence);
- ``GET  cases/{id}/judicial-aid/{aid}/``: one application with its checklist answers;
- ``POST …/{aid}/complete/`` (the materials complete: the decision clock starts),
  ``…/{aid}/eligibility/`` (``answers``: [{question, answer, reason}]),
  ``…/{aid}/decide/`` (``decision`` grant / refuse, ``amount``, ``reasons``),
  ``…/{aid}/approve/`` (a leader: ``approve`` true / false, ``reasons``),
  ``…/{aid}/pay/`` (multipart: ``paid_on``, ``method``, ``amount``, ``voucher`` file).
  Each takes ``expected_version``: the application's version.

The case is reached through get_case_for / the application through selectors_aid.get_aid_for
(not-yours and not-found are the same 404). Service errors map in core.api.exception_handler:
ValidationError 400, PermissionDenied 403, DomainError and StaleState 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.models import (
    AidApplication,
    AidCircumstance,
    EligibilityAnswer,
    EligibilityCheck,
)
from outreach.selectors_aid import aid_for_case, get_aid_for
from outreach.services import aid as services
from petitions.api.serializers import MAX_ID, MAX_VERSION
from petitions.api.views import actor_of
from petitions.selectors import get_case_for

TAGS = ["outreach"]
ERRORS = {
    400: OpenApiResponse(description="Field errors: {field: [messages]}."),
    403: OpenApiResponse(description="Your role does not allow this action."),
    404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
    409: OpenApiResponse(
        description="Stale version, the state does not allow it, or no cap rule for the year."
    ),
}


class AidCheckSerializer(serializers.ModelSerializer):
    question_text = serializers.CharField(source="question.text", read_only=True)
    answer_display = serializers.CharField(source="get_answer_display", read_only=True)

    class Meta:
        model = EligibilityCheck
        fields = ["question", "question_text", "answer", "answer_display", "reason", "answered_at"]
        read_only_fields = fields


class AidSerializer(serializers.ModelSerializer):
    applicant_name = serializers.CharField(source="applicant.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    organ = serializers.CharField(source="department.kind", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    circumstance_display = serializers.CharField(source="get_circumstance_display", read_only=True)
    eligibility = AidCheckSerializer(many=True, read_only=True)

    class Meta:
        model = AidApplication
        fields = [
            "id",
            "case",
            "applicant",
            "applicant_name",
            "circumstance",
            "circumstance_display",
            "circumstances",
            "department",
            "department_name",
            "organ",
            "requested_amount",
            "state",
            "state_display",
            "applied_at",
            "completed_at",
            "cap_amount",
            "amount",
            "reasons",
            "decided_by",
            "decided_at",
            "approved_by",
            "approved_at",
            "paid_on",
            "payment_method",
            "paid_amount",
            "voucher",
            "version",
            "eligibility",
        ]
        read_only_fields = fields


class AidApplyInputSerializer(serializers.Serializer):
    applicant = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    circumstance = serializers.ChoiceField(choices=AidCircumstance.choices)
    circumstances = serializers.CharField()
    # Checked here too (as the service does, with its message) so that a blank description and a
    # bad amount are answered together.
    requested_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("The amount must be more than 0.")},
    )
    department = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_VERSION
    )
    submission_key = serializers.CharField(required=False, allow_blank=True, max_length=64)
    files = serializers.ListField(child=serializers.FileField(), required=False)


class AidVersionInputSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_VERSION
    )


class AidAnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    answer = serializers.ChoiceField(choices=EligibilityAnswer.choices)
    reason = serializers.CharField()


class AidEligibilityInputSerializer(AidVersionInputSerializer):
    answers = AidAnswerSerializer(many=True)


class AidDecideInputSerializer(AidVersionInputSerializer):
    decision = serializers.ChoiceField(choices=[("grant", "grant"), ("refuse", "refuse")])
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class AidApproveInputSerializer(AidVersionInputSerializer):
    approve = serializers.BooleanField()
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class AidPayInputSerializer(AidVersionInputSerializer):
    paid_on = serializers.DateField()
    method = serializers.CharField(max_length=40)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    voucher = serializers.FileField(required=False, allow_null=True)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    data: Any = request.data
    if hasattr(data, "getlist") and "files" in data:
        data = data.copy()
        data.setlist("files", request.data.getlist("files"))
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _row(pk: int) -> AidApplication:
    return (
        AidApplication.objects.select_related("applicant", "department")
        .prefetch_related("eligibility__question")
        .get(pk=pk)
    )


class CaseAidView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The case's judicial aid applications",
        responses={200: AidSerializer(many=True), 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = get_case_for(actor_of(request), pk)
        return Response(AidSerializer(aid_for_case(case), many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Apply for judicial aid (司法救助)",
        description=(
            "By the case's center reception or triage staff, or the officers and head of a "
            "department that handled it. ``department`` (the deciding organ) defaults to the "
            "lead department. ``expected_version`` is the case's version. A resubmitted form "
            "(same ``submission_key``) answers with the application recorded the first time."
        ),
        request=AidApplyInputSerializer,
        responses={201: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = get_case_for(actor, pk)
        attrs = _valid(AidApplyInputSerializer, request)
        application = services.apply_for_aid(
            actor=actor,
            case=case,
            applicant=attrs["applicant"],
            circumstance=attrs["circumstance"],
            circumstances=attrs["circumstances"],
            requested_amount=attrs["requested_amount"],
            department=attrs.get("department"),
            expected_version=attrs.get("expected_version"),
            submission_key=attrs.get("submission_key") or "",
            files=attrs.get("files") or [],
        )
        return Response(AidSerializer(_row(application.pk)).data, status=status.HTTP_201_CREATED)


class _AidAction(APIView):
    def application(self, request: Request, pk: int, aid: int) -> AidApplication:
        return get_aid_for(actor_of(request), pk, aid)


class AidView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="One judicial aid application",
        responses={200: AidSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: int, aid: int) -> Response:
        return Response(AidSerializer(self.application(request, pk, aid)).data)


class AidCompleteView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="The materials are complete (the decision clock starts)",
        request=AidVersionInputSerializer,
        responses={200: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, aid: int) -> Response:
        application = self.application(request, pk, aid)
        attrs = _valid(AidVersionInputSerializer, request)
        services.mark_complete(
            actor=actor_of(request),
            application=application,
            expected_version=attrs.get("expected_version"),
        )
        return Response(AidSerializer(_row(application.pk)).data)


class AidEligibilityView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="Answer the eligibility checklist",
        description="``answers``: [{question, answer (yes, no, unknown), reason (required)}].",
        request=AidEligibilityInputSerializer,
        responses={200: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, aid: int) -> Response:
        application = self.application(request, pk, aid)
        attrs = _valid(AidEligibilityInputSerializer, request)
        services.answer_eligibility(
            actor=actor_of(request),
            application=application,
            answers=[dict(a) for a in attrs["answers"]],
            expected_version=attrs.get("expected_version"),
        )
        return Response(AidSerializer(_row(application.pk)).data)


class AidDecideView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="Decide: grant an amount or refuse with reasons",
        description=(
            "By the head of the deciding organ. A grant is at most the amount requested and the "
            "cap of the province's rule for the year (months × the average monthly wage); above "
            "the rule's threshold it awaits a leader's approval. No rule: 409."
        ),
        request=AidDecideInputSerializer,
        responses={200: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, aid: int) -> Response:
        application = self.application(request, pk, aid)
        attrs = _valid(AidDecideInputSerializer, request)
        services.decide_aid(
            actor=actor_of(request),
            application=application,
            decision=attrs["decision"],
            amount=attrs.get("amount"),
            reasons=attrs.get("reasons", ""),
            expected_version=attrs.get("expected_version"),
        )
        return Response(AidSerializer(_row(application.pk)).data)


class AidApproveView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="A leader approves (or refuses) a grant above the threshold",
        request=AidApproveInputSerializer,
        responses={200: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, aid: int) -> Response:
        application = self.application(request, pk, aid)
        attrs = _valid(AidApproveInputSerializer, request)
        services.approve_aid(
            actor=actor_of(request),
            application=application,
            approve=attrs["approve"],
            reasons=attrs.get("reasons", ""),
            expected_version=attrs.get("expected_version"),
        )
        return Response(AidSerializer(_row(application.pk)).data)


class AidPayView(_AidAction):
    @extend_schema(
        tags=TAGS,
        summary="Record the payment (multipart, with the voucher)",
        request={"multipart/form-data": AidPayInputSerializer},
        responses={200: AidSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, aid: int) -> Response:
        application = self.application(request, pk, aid)
        attrs = _valid(AidPayInputSerializer, request)
        services.pay_aid(
            actor=actor_of(request),
            application=application,
            paid_on=attrs["paid_on"],
            method=attrs["method"],
            amount=attrs["amount"],
            voucher=attrs.get("voucher"),
            expected_version=attrs.get("expected_version"),
        )
        return Response(AidSerializer(_row(application.pk)).data)


urlpatterns = [
    path("cases/<int:pk>/judicial-aid/", CaseAidView.as_view(), name="case-judicial-aid"),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/",
        AidView.as_view(),
        name="case-judicial-aid-detail",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/complete/",
        AidCompleteView.as_view(),
        name="case-judicial-aid-complete",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/eligibility/",
        AidEligibilityView.as_view(),
        name="case-judicial-aid-eligibility",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/decide/",
        AidDecideView.as_view(),
        name="case-judicial-aid-decide",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/approve/",
        AidApproveView.as_view(),
        name="case-judicial-aid-approve",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/pay/",
        AidPayView.as_view(),
        name="case-judicial-aid-pay",
    ),
]
