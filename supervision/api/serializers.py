"""Serializers of the supervision overlay API (STYLE.md: thin API views).

Input serializers check the shape of a request and resolve ids; supervision.services checks the
rest (roles, the case's state, which departments and leaders are allowed) and answers with field
errors of the same names. Output serializers render rows the views have already joined. Shared
shapes (a department, a written notice, an enum component) come from the routing API so the schema
has one component for each.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clocks.deadlines import days_remaining, warning_level_for
from clocks.models import Deadline, DeadlineKind, WarningLevel
from core.models import Department, User
from petitions.models import CaseEvent
from routing.api.serializers import DepartmentRefSerializer, EnumField, NoticeSerializer
from supervision.models import (
    AccountabilityFinding,
    Bulletin,
    Consultation,
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
    SupervisionOrder,
)
from supervision.services import MAX_EXTENSION_DAYS

# --- input -----------------------------------------------------------------------------------------


class ExtensionRequestInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        help_text=str(_("Days of extension: at most 30, once per handling period (Art 34).")),
    )
    reason = serializers.CharField(
        max_length=4000, help_text=str(_("The reason; the petitioner is told it in writing."))
    )


class ExtensionDecisionInputSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=str(_("true to approve, false to reject.")))
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text=str(_("Required when rejecting.")),
    )


def _department_field(help_text: str) -> serializers.PrimaryKeyRelatedField:  # type: ignore[type-arg]
    return serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=help_text,
    )


def _staff_field(help_text: str, required: bool = True) -> serializers.PrimaryKeyRelatedField:  # type: ignore[type-arg]
    if required:
        return serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), help_text=help_text)
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=help_text,
    )


class SupervisionOrderInputSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=4000)
    due_at = serializers.DateTimeField(
        help_text=str(
            _("When the written response is due (ISO 8601); due at the end of that day in Beijing.")
        )
    )
    department = _department_field(
        str(
            _(
                "Department id: a department with a part in the case. Leave out to address "
                "the lead department (screening while the case is unassigned)."
            )
        )
    )


class OrderResponseInputSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=8000, help_text=str(_("The written response.")))


class OrderCloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReminderInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)


class LeaderResponsibilityInputSerializer(serializers.Serializer):
    leader = _staff_field(
        str(_("User id of a leader of the case's center or of a center above it."))
    )
    handler = _staff_field(str(_("User id of the handler (optional).")), required=False)
    due_at = serializers.DateTimeField()
    target_result = serializers.CharField(max_length=4000)


class ResolveResponsibilityInputSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=4000)


class ConsultationInputSerializer(serializers.Serializer):
    held_at = serializers.DateTimeField()
    departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        many=True,
        help_text=str(_("Ids of the departments (of the case's center) present.")),
    )
    participants = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000
    )
    decisions = serializers.CharField(max_length=8000)


class FindingInputSerializer(serializers.Serializer):
    """At least one of ``department`` and ``officer`` (the service answers non_field_errors)."""

    department = _department_field(str(_("Department found responsible (id).")))
    officer = _staff_field(str(_("Officer found responsible (user id).")), required=False)
    finding = serializers.CharField(max_length=8000)
    measures = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class BulletinInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, help_text=str(_("Ids of the units named."))
    )
    # Plain ids, resolved through the viewer's visible cases: a case one cannot see and one that
    # does not exist get the same answer.
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        help_text=str(_("Ids of the cases named (cases you can see).")),
    )


# --- output ----------------------------------------------------------------------------------------


def _username(source: str) -> serializers.CharField:
    """A staff member by username; null where nobody has done it yet."""
    return serializers.CharField(source=f"{source}.username", read_only=True, allow_null=True)


class SupervisedDeadlineSerializer(serializers.ModelSerializer):
    """A running clock with its warning level and whole days left measured now (negative:
    overdue), as clocks.deadlines measures them, so the number and the level agree."""

    kind = EnumField(DeadlineKind)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    warning_level = serializers.SerializerMethodField()
    days_remaining = serializers.SerializerMethodField()

    class Meta:
        model = Deadline
        fields = [
            "id",
            "kind",
            "kind_label",
            "basis",
            "starts_at",
            "due_at",
            "is_provisional",
            "extended_days",
            "extension_reason",
            "warning_level",
            "days_remaining",
            "overdue_since",
            "escalation_step",
        ]
        read_only_fields = fields

    def _now(self) -> datetime:
        now = self.context.get("now")
        return now if isinstance(now, datetime) else timezone.now()

    # A plain choice field, as routing's API has for the same choices: one WarningLevelEnum
    # component in the schema (drf-spectacular names enums by field name).
    @extend_schema_field(serializers.ChoiceField(choices=WarningLevel.choices))
    def get_warning_level(self, deadline: Deadline) -> str:
        return str(warning_level_for(deadline.due_at, self._now()))

    @extend_schema_field(OpenApiTypes.INT)
    def get_days_remaining(self, deadline: Deadline) -> int:
        return days_remaining(deadline.due_at, self._now())


class ExtensionRequestSerializer(serializers.ModelSerializer):
    state = EnumField(ExtensionState)
    requested_by = _username("requested_by")
    decided_by = _username("decided_by")

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "case",
            "deadline",
            "days",
            "reason",
            "state",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class ExtensionDecisionResultSerializer(serializers.Serializer):
    request = ExtensionRequestSerializer()
    deadline = SupervisedDeadlineSerializer()
    notice = NoticeSerializer(allow_null=True, help_text=str(_("The notice issued on approval.")))


class SupervisionOrderSerializer(serializers.ModelSerializer):
    state = EnumField(OrderState)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    issued_by = _username("issued_by")
    responded_by = _username("responded_by")

    class Meta:
        model = SupervisionOrder
        fields = [
            "id",
            "case",
            "number",
            "department",
            "requirement",
            "due_at",
            "state",
            "issued_by",
            "issued_at",
            "response",
            "responded_by",
            "responded_at",
        ]
        read_only_fields = fields


class ReminderSerializer(serializers.ModelSerializer):
    actor = _username("actor")

    class Meta:
        model = CaseEvent
        fields = ["id", "at", "actor", "message"]
        read_only_fields = fields


class ReminderResultSerializer(serializers.Serializer):
    reminder = ReminderSerializer()
    sent = serializers.BooleanField(
        help_text=str(
            _("false when the same reminder of a moment ago was returned (double submit).")
        )
    )


class LeaderResponsibilitySerializer(serializers.ModelSerializer):
    leader = _username("leader")
    handler = _username("handler")
    created_by = _username("created_by")

    class Meta:
        model = LeaderResponsibility
        fields = [
            "id",
            "case",
            "leader",
            "handler",
            "due_at",
            "target_result",
            "is_resolved",
            "result",
            "resolved_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ConsultationSerializer(serializers.ModelSerializer):
    departments = DepartmentRefSerializer(many=True, read_only=True)
    recorded_by = _username("recorded_by")

    class Meta:
        model = Consultation
        fields = [
            "id",
            "case",
            "held_at",
            "departments",
            "participants",
            "decisions",
            "recorded_by",
        ]
        read_only_fields = fields


class FindingSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    officer = _username("officer")
    recorded_by = _username("recorded_by")

    class Meta:
        model = AccountabilityFinding
        fields = [
            "id",
            "case",
            "department",
            "officer",
            "finding",
            "measures",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class BulletinSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.name", read_only=True)
    departments = DepartmentRefSerializer(many=True, read_only=True)
    issued_by = _username("issued_by")

    class Meta:
        model = Bulletin
        fields = ["id", "center", "title", "body", "departments", "issued_by", "issued_at"]
        read_only_fields = fields


class BulletinIssuedSerializer(BulletinSerializer):
    cases = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta(BulletinSerializer.Meta):
        fields = [*BulletinSerializer.Meta.fields, "cases"]
        read_only_fields = fields


class CaseSupervisionSerializer(serializers.Serializer):
    """Everything supervision has on one case."""

    case = serializers.IntegerField(source="case.pk")
    number = serializers.CharField(source="case.number")
    state = serializers.CharField(source="case.state")
    deadlines = SupervisedDeadlineSerializer(many=True)
    extension_requests = ExtensionRequestSerializer(many=True)
    supervision_orders = SupervisionOrderSerializer(many=True, source="orders")
    reminders = ReminderSerializer(many=True)
    leader_responsibilities = LeaderResponsibilitySerializer(many=True, source="responsibilities")
    consultations = ConsultationSerializer(many=True)
    findings = FindingSerializer(many=True)
    bulletins = BulletinSerializer(many=True)
