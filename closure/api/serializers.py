"""Serializers of the closure API: input shapes (the services check everything that depends on
the case) and outputs of rows the views have already joined."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from routing.api.serializers import CaseStateSerializer, EnumField, _expected_version

from ..models import (
    AgreementKind,
    CaseClosure,
    Correction,
    DeliveryMethod,
    Evaluation,
    EvaluationChannel,
    Rating,
    ReexaminationOutcome,
    Reply,
    ReplyDecision,
    ReplyStatus,
    ReturnVisit,
    ReturnVisitMethod,
    ReturnVisitReason,
)

# --- input ---------------------------------------------------------------------------------------


class ReplyInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReplyDecision.choices)
    facts_reasons = serializers.CharField(
        max_length=20000,
        error_messages={"blank": _("State the facts and reasons of the reply (Art 32).")},
    )
    legal_basis = serializers.CharField(
        max_length=5000,
        error_messages={"blank": _("State the legal basis of the decision (Art 32).")},
        help_text=str(_("Required: the laws, regulations or rules the decision rests on.")),
    )
    review_route = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=str(_("Leave blank for the standard text (Art 35).")),
    )
    request_summary = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text=str(_("Leave blank to take the request from the case.")),
    )
    submit = serializers.BooleanField(
        required=False,
        default=False,
        help_text=str(_("Submit the draft to the department head for approval.")),
    )
    expected_version = _expected_version()


class VersionOnlySerializer(serializers.Serializer):
    expected_version = _expected_version()


class SendBackInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, error_messages={"blank": _("Give the reason for sending it back.")}
    )
    expected_version = _expected_version()


class DeliveryInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    signed = serializers.BooleanField(
        help_text=str(_("true: signed for; false: the petitioner refused to sign."))
    )
    delivered_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=str(_("Default: now."))
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = _expected_version()


class EvaluationInputSerializer(serializers.Serializer):
    center_rating = serializers.ChoiceField(choices=Rating.choices)
    department_rating = serializers.ChoiceField(choices=Rating.choices)
    reasons = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text=str(_("Required when dissatisfied.")),
    )
    channel = serializers.ChoiceField(
        choices=[
            (EvaluationChannel.DESK.value, EvaluationChannel.DESK.label),
            (EvaluationChannel.PHONE.value, EvaluationChannel.PHONE.label),
        ],
        required=False,
        default=EvaluationChannel.DESK.value,
    )
    given_by = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=50,
        help_text=str(_("Who gave it, if not the petitioner.")),
    )
    expected_version = _expected_version()


class PublicEvaluationInputSerializer(serializers.Serializer):
    center_rating = serializers.ChoiceField(choices=Rating.choices)
    department_rating = serializers.ChoiceField(choices=Rating.choices)
    reasons = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReturnVisitInputSerializer(serializers.Serializer):
    """Without ``outcome``: schedule a visit for ``scheduled_for``. With ``method`` and
    ``outcome``: record a visit made (``visit``, else the earliest open one, else a new one)."""

    visit = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1
    )
    scheduled_for = serializers.DateField(required=False, allow_null=True, default=None)
    done_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=str(_("Not accepted: a return visit is dated when it is recorded.")),
    )
    visitors = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    method = serializers.ChoiceField(
        choices=ReturnVisitMethod.choices, required=False, allow_blank=True, default=""
    )
    outcome = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    center_rating = serializers.ChoiceField(
        choices=Rating.choices, required=False, allow_blank=True, default=""
    )
    department_rating = serializers.ChoiceField(
        choices=Rating.choices, required=False, allow_blank=True, default=""
    )
    expected_version = _expected_version()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("done_at") is not None:
            raise serializers.ValidationError(
                {"done_at": [_("A return visit is dated when it is recorded; leave out done_at.")]}
            )
        recording = bool(attrs.get("outcome") or attrs.get("method") or attrs.get("visit"))
        if not recording and not attrs.get("scheduled_for"):
            raise serializers.ValidationError(
                {
                    "scheduled_for": [
                        _(
                            "Give the date to schedule a visit, or method and outcome of a visit made."
                        )
                    ]
                }
            )
        if bool(attrs.get("center_rating")) != bool(attrs.get("department_rating")):
            raise serializers.ValidationError(
                {"department_rating": [_("Give both new ratings, or neither.")]}
            )
        attrs["recording"] = recording
        return attrs


class CloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = _expected_version()


class AgreementInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgreementKind.choices)
    agreement = serializers.FileField(help_text=str(_("The signed agreement, uploaded as a file.")))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = _expected_version()


class ArchiveInputSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=str(
            _(
                "A supervisor's reason for archiving without a satisfied or basically satisfied evaluation."
            )
        ),
    )
    expected_version = _expected_version()


class ReopenInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, error_messages={"blank": _("Give the reason for reopening the case.")}
    )
    expected_version = _expected_version()


class ReexaminationInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReexaminationOutcome.choices)
    corrections = serializers.ListField(
        child=serializers.ChoiceField(choices=Correction.choices), required=False, default=list
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = _expected_version()


# --- output --------------------------------------------------------------------------------------


def _username(source: str) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.username", read_only=True, allow_null=True)


class ReplySerializer(serializers.ModelSerializer):
    status = EnumField(ReplyStatus)
    decision = EnumField(ReplyDecision, allow_blank=True)
    department = serializers.CharField(source="department.name", read_only=True)
    drafted_by = _username("drafted_by")
    approved_by = _username("approved_by")
    delivered_by = _username("delivered_by")
    sent_back_by = _username("sent_back_by")
    delivery_method = EnumField(DeliveryMethod, allow_blank=True)

    class Meta:
        model = Reply
        fields = [
            "id",
            "status",
            "document_number",
            "department",
            "decision",
            "request_summary",
            "facts_reasons",
            "legal_basis",
            "review_route",
            "contributions",
            "drafted_by",
            "drafted_at",
            "submitted_at",
            "sent_back_reason",
            "sent_back_by",
            "sent_back_at",
            "approved_by",
            "approved_at",
            "delivered_at",
            "delivery_method",
            "signed",
            "delivered_by",
            "mediated",
        ]
        read_only_fields = fields


class ReplyResultSerializer(serializers.Serializer):
    case = CaseStateSerializer()
    reply = ReplySerializer(allow_null=True)
    contributions = serializers.CharField(
        help_text=str(
            _(
                "The assisting departments' contributions: internal, shown beside the draft, "
                "never part of the printed reply."
            )
        )
    )


class DeliveryResultSerializer(serializers.Serializer):
    case = CaseStateSerializer()
    reply = ReplySerializer()
    evaluation_url = serializers.URLField(
        help_text=str(
            _("The one-time evaluation link for the petitioner's copy (no login), shown only here.")
        )
    )
    evaluation_due_at = serializers.DateTimeField()


class EvaluationLinkResultSerializer(serializers.Serializer):
    case = CaseStateSerializer()
    evaluation_url = serializers.URLField(
        help_text=str(_("The new one-time evaluation link (no login), shown only here."))
    )
    evaluation_due_at = serializers.DateTimeField()


class EvaluationSerializer(serializers.ModelSerializer):
    center_rating = EnumField(Rating)
    department_rating = EnumField(Rating)
    channel = EnumField(EvaluationChannel)
    recorded_by = _username("recorded_by")

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "center_rating",
            "department_rating",
            "reasons",
            "channel",
            "given_by",
            "recorded_by",
            "evaluated_at",
        ]
        read_only_fields = fields


class EvaluationListSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["not_due", "open", "evaluated", "not_evaluated"], read_only=True
    )
    due_at = serializers.DateTimeField(allow_null=True)
    results = EvaluationSerializer(many=True)


class ReturnVisitSerializer(serializers.ModelSerializer):
    reason = EnumField(ReturnVisitReason)
    method = EnumField(ReturnVisitMethod, allow_blank=True)
    department = serializers.CharField(source="department.name", read_only=True)
    done_by = _username("done_by")

    class Meta:
        model = ReturnVisit
        fields = [
            "id",
            "department",
            "reason",
            "scheduled_for",
            "done_at",
            "done_by",
            "visitors",
            "method",
            "outcome",
        ]
        read_only_fields = fields


class CaseClosureSerializer(serializers.ModelSerializer):
    closed_by = _username("closed_by")
    archived_by = _username("archived_by")
    reopened_by = _username("reopened_by")
    reexamination_outcome = EnumField(ReexaminationOutcome, allow_blank=True)
    corrections = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CaseClosure
        fields = [
            "closed_at",
            "closed_by",
            "close_note",
            "archive_number",
            "archived_at",
            "archived_by",
            "archive_override_reason",
            "reopened_at",
            "reopened_by",
            "reopen_reason",
            "reexamination_outcome",
            "corrections",
            "correction_note",
        ]
        read_only_fields = fields


class ClosureResultSerializer(serializers.Serializer):
    case = CaseStateSerializer()
    closure = CaseClosureSerializer(allow_null=True)
