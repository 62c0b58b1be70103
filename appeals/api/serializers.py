"""Serializers of the appeals API. Input serializers check the shape of a request; the services
check everything that depends on the case (window, state, role, reviewing center)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from appeals.models import (
    RequestChannel,
    ReviewDecision,
    ReviewKind,
    ReviewRequest,
    Termination,
    TerminationState,
)
from core.models import Department
from routing.api.serializers import EnumField, _expected_version

TEXT_MAX = 20_000


class ReviewRequestInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ReviewKind.choices,
        help_text=str(_("review (复查, Art 35) or re_review (复核, Art 36).")),
    )
    reason = serializers.CharField(
        max_length=TEXT_MAX, help_text=str(_("Why the petitioner is dissatisfied with the answer."))
    )
    channel = serializers.ChoiceField(
        choices=RequestChannel.choices, required=False, default=RequestChannel.IN_PERSON
    )
    expected_version = _expected_version()


class ReviewDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    answer = serializers.CharField(
        max_length=TEXT_MAX, help_text=str(_("The written answer to the petitioner."))
    )
    expected_version = _expected_version()


class _SupportUnitMixin(serializers.Serializer):
    support_unit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=str(_("Department id of the unit responsible for support afterwards.")),
    )

    def validate_support_unit(self, value: int | None) -> Department | None:
        if value is None:
            return None
        department = Department.objects.filter(pk=value, is_active=True).first()
        if department is None:
            raise serializers.ValidationError(str(_("No such department.")))
        return department


class TerminationProposalInputSerializer(_SupportUnitMixin):
    grounds = serializers.CharField(
        max_length=TEXT_MAX, help_text=str(_("Why the legal procedures are exhausted."))
    )
    expected_version = _expected_version()


class TerminationDecisionInputSerializer(_SupportUnitMixin):
    decision = serializers.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Do not approve"))],
        help_text=str(
            _(
                "The step is the proposal's next one: the center's review while it is proposed, "
                "the provincial approval once the center has reviewed it."
            )
        ),
    )
    opinion = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_MAX,
        help_text=str(_("Required when not approving.")),
    )
    approving_body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=str(_("Provincial approval: the approving body.")),
    )
    approval_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=str(_("Provincial approval: the date of approval.")),
    )
    expected_version = _expected_version()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["approve"] = attrs.pop("decision") == "approve"
        return attrs


class ReviewRequestSerializer(serializers.ModelSerializer):
    kind = EnumField(ReviewKind)
    decision = serializers.CharField(read_only=True)
    reviewing_center = serializers.CharField(source="reviewing_center.name", read_only=True)
    reviewing_center_id = serializers.IntegerField(read_only=True)
    case_state = serializers.CharField(source="case.state", read_only=True)
    case_version = serializers.IntegerField(source="case.version", read_only=True)

    class Meta:
        model = ReviewRequest
        fields = [
            "id",
            "kind",
            "reason",
            "channel",
            "requested_at",
            "reviewing_center",
            "reviewing_center_id",
            "window_due_at",
            "decision_due_at",
            "decision",
            "answer",
            "decided_at",
            "delivered_at",
            "document_number",
            "case_state",
            "case_version",
        ]
        read_only_fields = fields


class TerminationSerializer(serializers.ModelSerializer):
    state = EnumField(TerminationState)
    department = serializers.CharField(source="department.name", read_only=True)
    support_unit = serializers.CharField(source="support_unit.name", read_only=True)
    support_unit_id = serializers.IntegerField(read_only=True)
    case_state = serializers.CharField(source="case.state", read_only=True)
    case_version = serializers.IntegerField(source="case.version", read_only=True)

    class Meta:
        model = Termination
        fields = [
            "id",
            "state",
            "department",
            "grounds",
            "proposed_at",
            "support_unit",
            "support_unit_id",
            "center_reviewed_at",
            "center_opinion",
            "approved_at",
            "approving_body",
            "approval_date",
            "approval_opinion",
            "rejected_at",
            "rejection_reason",
            "case_state",
            "case_version",
        ]
        read_only_fields = fields
