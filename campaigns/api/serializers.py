"""Serializers of the campaigns API (STYLE.md: thin API views).

Input serializers check the shape of a request and resolve ids (an unknown id is a 400 on its
field); campaigns.services checks the rest (roles, scope, dates, targets) and answers with field
errors of the same names. Output serializers render rows the views have already joined. Personal
data: a matter shows its case's number, never the petitioner's ID or phone number.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import (
    Campaign,
    CampaignKind,
    Matter,
    MatterOutcome,
    MatterProgress,
    ScoreSheet,
)
from core.models import Center, Department, User
from petitions.api.serializers import MAX_ID, MAX_VERSION


def _staff_field(help_text: str, *, many: bool = False) -> Any:
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=not many,
        many=many,
        help_text=help_text,
    )


class RefSerializer(serializers.Serializer):
    """A related row as {id, name}."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.full_name or user.username


class VersionInputSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=str(_("The version read; a newer one on the server answers 409.")),
    )


# --- campaigns ------------------------------------------------------------------------------------


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=CampaignKind.choices)
    center = serializers.PrimaryKeyRelatedField(
        queryset=Center.objects.all(),
        required=False,
        help_text=str(_("The campaign's center; by default the caller's own.")),
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    include_subordinates = serializers.BooleanField(required=False, default=False)
    targets = serializers.DictField(
        required=False,
        default=dict,
        help_text=str(_('{"resolution_rate": 0.8, "cessation_rate": 0.6}: rates in [0, 1].')),
    )
    group_leader = _staff_field(str(_("User id of the leading group's head.")))
    office = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    members = _staff_field(str(_("User ids of the leading group's members.")), many=True)
    progress_interval_days = serializers.IntegerField(
        required=False, default=7, min_value=1, max_value=365
    )
    observation_days = serializers.IntegerField(
        required=False, default=90, min_value=1, max_value=3650
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=8000
    )
    score_sheet = serializers.PrimaryKeyRelatedField(
        queryset=ScoreSheet.objects.filter(is_active=True), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError(
                {"ends_on": [_("The campaign cannot end before it starts.")]}
            )
        return attrs


class CampaignUpdateSerializer(VersionInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    include_subordinates = serializers.BooleanField(required=False)
    targets = serializers.DictField(required=False)
    group_leader = _staff_field(str(_("User id of the leading group's head.")))
    office = serializers.CharField(required=False, allow_blank=True, max_length=200)
    members = _staff_field(str(_("User ids of the leading group's members.")), many=True)
    progress_interval_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    observation_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)
    description = serializers.CharField(required=False, allow_blank=True, max_length=8000)


class CampaignSerializer(serializers.ModelSerializer):
    center = RefSerializer()
    group_leader = UserRefSerializer(allow_null=True)
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]
    can_manage = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "center",
            "include_subordinates",
            "starts_on",
            "ends_on",
            "state",
            "group_leader",
            "office",
            "members",
            "targets",
            "progress_interval_days",
            "observation_days",
            "sweep_criteria",
            "score_sheet",
            "description",
            "created_by",
            "created_at",
            "version",
            "can_manage",
        ]
        read_only_fields = fields

    def get_can_manage(self, campaign: Campaign) -> bool:
        from campaigns.selectors import can_manage

        user = self.context.get("user")
        return bool(user is not None and can_manage(user, campaign))


# --- matters --------------------------------------------------------------------------------------


class MatterInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=str(_("Id of a case of the campaign's centers."))
    )
    center = serializers.PrimaryKeyRelatedField(
        queryset=Center.objects.all(),
        required=False,
        allow_null=True,
        help_text=str(_("Receiving center (or give a department).")),
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        help_text=str(_("Receiving department of the case's center (or give a center).")),
    )
    leader = _staff_field(str(_("Responsible leader; by default the receiving side's head.")))
    handler = _staff_field(str(_("User id of the handler.")))
    due_on = serializers.DateField()
    target_result = serializers.CharField(max_length=4000)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
    since = serializers.DateField(required=False, allow_null=True, default=None)
    work_done = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
    obstacle = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
    next_step = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)


class LedgerInputSerializer(VersionInputSerializer):
    summary = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    since = serializers.DateField(required=False, allow_null=True)
    work_done = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    obstacle = serializers.CharField(required=False, allow_blank=True, max_length=8000)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=8000)


class ProgressInputSerializer(VersionInputSerializer):
    text = serializers.CharField(max_length=8000)
    outcome = serializers.ChoiceField(
        choices=[
            (MatterOutcome.IN_HAND, MatterOutcome.IN_HAND.label),
            (MatterOutcome.RESOLVED, MatterOutcome.RESOLVED.label),
            (MatterOutcome.STALLED, MatterOutcome.STALLED.label),
        ]
    )
    obstacle = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
    resolution = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=8000,
        help_text=str(_("How it was resolved (required when resolved).")),
    )
    submission_key = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64
    )


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()


class MatterSerializer(serializers.ModelSerializer):
    case = CaseRefSerializer()
    center = RefSerializer(allow_null=True)
    department = RefSerializer(allow_null=True)
    leader = UserRefSerializer()
    handler = UserRefSerializer(allow_null=True)

    class Meta:
        model = Matter
        fields = [
            "id",
            "campaign",
            "case",
            "center",
            "department",
            "leader",
            "handler",
            "due_on",
            "target_result",
            "responsibility",
            "summary",
            "since",
            "work_done",
            "obstacle",
            "next_step",
            "outcome",
            "resolution",
            "resolved_at",
            "handed_down_by",
            "handed_down_at",
            "signed_by",
            "signed_at",
            "next_progress_on",
            "warning_level",
            "escalation_step",
            "last_progress_at",
            "version",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.ModelSerializer):
    recorded_by = UserRefSerializer()

    class Meta:
        model = MatterProgress
        fields = ["id", "matter", "text", "outcome", "obstacle", "recorded_by", "recorded_at"]
        read_only_fields = fields


# --- summary --------------------------------------------------------------------------------------


class FiguresSerializer(serializers.Serializer):
    handed_down = serializers.IntegerField()
    resolved = serializers.IntegerField()
    in_hand = serializers.IntegerField()
    stalled = serializers.IntegerField()
    terminated = serializers.IntegerField()
    ceased = serializers.IntegerField()
    resolution_rate = serializers.FloatField(allow_null=True)
    cessation_rate = serializers.FloatField(allow_null=True)


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string", "format": "date"}], "nullable": True}
)
class GroupIdField(serializers.Field):
    """A breakdown row's key: a center, department or leader id, or a week's Monday."""

    def to_representation(self, value: Any) -> Any:
        return value


class GroupFiguresSerializer(FiguresSerializer):
    id = GroupIdField(allow_null=True)
    name = serializers.CharField(allow_null=True)


class SummarySerializer(FiguresSerializer):
    targets = serializers.DictField()
    by_center = GroupFiguresSerializer(many=True)
    by_department = GroupFiguresSerializer(many=True)
    by_leader = GroupFiguresSerializer(many=True)
    by_week = GroupFiguresSerializer(many=True)
