"""Serializers of the routing API (STYLE.md: thin API views).

Input serializers validate the shape of a request and resolve ids to rows; the routing services
check everything that depends on the case (state, role, the case's center, due dates) and raise
field errors of their own, so a rule lives in one place. Output serializers render only what the
views have already joined. Free text is kept as typed: it is JSON on the way out.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import Direction, extend_schema_field
from rest_framework import serializers

from clocks.deadlines import days_remaining, warning_level_for
from clocks.models import WarningLevel
from core.models import Center, Department, DepartmentKind
from core.rows import ChoiceLabelField
from petitions.models import Case
from petitions.states import CaseState
from routing.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    NoticeKind,
    ProgressNote,
    Transfer,
    WrittenNotice,
)
from routing.selectors import INBOX_TABS
from routing.services import DepartmentDue

# The version of the case the client's form was rendered from (optimistic check: a case changed
# by someone else in the meantime is refused with 409 instead of being acted on unseen).
EXPECTED_VERSION_HELP = str(
    _(
        "The case version the client last saw; the action is refused (409) if the case changed "
        "since. Leave out to skip the check."
    )
)


class EnumField(serializers.ChoiceField):
    """A read-only choice field whose choice set is one named schema component
    (``AssignmentStateEnum``...). drf-spectacular names enums by field name, and "state", "role"
    and "kind" already name other choice sets (a case's state, a petitioner's role, an
    attachment's kind): without a name of their own they would get hash-suffixed names."""

    def __init__(self, choices_class: type[models.TextChoices], **kwargs: Any) -> None:
        self.enum_name = f"{choices_class.__name__}Enum"
        kwargs.setdefault("read_only", True)
        super().__init__(choices=choices_class.choices, **kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self) -> str | None:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Any:
        choices = self.target.choices
        return {
            "type": "string",
            "enum": list(choices),
            "description": build_choice_description_list(list(choices.items())),
        }


def _expected_version() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=EXPECTED_VERSION_HELP
    )


# --- input: screening ------------------------------------------------------------------------------


class ScreeningDecision:
    NOT_ACCEPT = "not_accept"
    REFER_OUT = "refer_out"
    LEGAL_PROCEDURE = "legal_procedure"

    CHOICES = [
        (NOT_ACCEPT, _("Not accepted (written notice with reasons)")),
        (REFER_OUT, _("Refer out to the competent organ")),
        (LEGAL_PROCEDURE, _("Route into legal procedure")),
    ]


class ScreenInputSerializer(serializers.Serializer):
    """A screening decision other than assignment or transfer (Art 22). Which fields a decision
    needs is checked by its service, which answers with field errors."""

    decision = serializers.ChoiceField(choices=ScreeningDecision.CHOICES)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=str(_("Required for not_accept and refer_out.")),
    )
    competent_organ = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=str(_("refer_out: the organ the petitioner should turn to.")),
    )
    organ = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=str(_("legal_procedure: the organ whose procedure takes the matter.")),
    )
    procedure = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=str(_("legal_procedure: the procedure (e.g. trial supervision).")),
    )
    legal_case_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=60,
        help_text=str(_("legal_procedure: the case number in that procedure (案号).")),
    )
    expected_version = _expected_version()


# --- input: assignment and transfer ----------------------------------------------------------------


class DepartmentDueInputSerializer(serializers.Serializer):
    department = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text=str(_("Department id."))
    )
    due_at = serializers.DateTimeField(
        help_text=str(_("When this department's part is due (ISO 8601)."))
    )


class AssignmentTargetsSerializer(serializers.Serializer):
    """The lead department and the assisting ones, each with its own due date. Department ids are
    resolved in one query; whether a department may take the case (its center, active, a due date
    in the future) is the service's check."""

    lead = DepartmentDueInputSerializer()
    assisting = DepartmentDueInputSerializer(many=True, required=False, default=list)
    expected_version = _expected_version()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        wanted = [attrs["lead"]["department"], *(a["department"] for a in attrs["assisting"])]
        departments = Department.objects.select_related("center").in_bulk(wanted)
        errors: dict[str, list[str]] = {}
        if attrs["lead"]["department"] not in departments:
            errors["lead"] = [str(_("No such department."))]
        unknown = [
            str(a["department"]) for a in attrs["assisting"] if a["department"] not in departments
        ]
        if unknown:
            errors["assisting"] = [
                str(_("No such department: %(ids)s.") % {"ids": ", ".join(unknown)})
            ]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["lead"] = DepartmentDue(
            departments[attrs["lead"]["department"]], attrs["lead"]["due_at"]
        )
        attrs["assisting"] = [
            DepartmentDue(departments[a["department"]], a["due_at"]) for a in attrs["assisting"]
        ]
        return attrs


class AssignInputSerializer(AssignmentTargetsSerializer):
    instructions = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=4000
    )


class ReassignInputSerializer(AssignmentTargetsSerializer):
    reason = serializers.CharField(
        max_length=2000, help_text=str(_("Shown in the case timeline and to the new departments."))
    )


class TransferInputSerializer(serializers.Serializer):
    to_center = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text=str(_("Center id."))
    )
    reason = serializers.CharField(max_length=2000)
    expected_version = _expected_version()

    def validate_to_center(self, value: int) -> Center:
        center = Center.objects.filter(pk=value).first()
        if center is None:
            raise serializers.ValidationError(_("No such center."))
        return center


class ConfirmReturnInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = _expected_version()


# --- input: the receiving department ---------------------------------------------------------------


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text=str(_("Why the assignment is wrong (Art 23 objection)."))
    )


class ContributionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000, trim_whitespace=False)


class ProgressNoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000, trim_whitespace=False)
    shared_with_center = serializers.BooleanField(
        default=False,
        help_text=str(_("Shared notes are seen by the center; others by your department only.")),
    )


class InboxQuerySerializer(serializers.Serializer):
    tab = serializers.ChoiceField(choices=INBOX_TABS, default="new")
    role = serializers.ChoiceField(
        choices=AssignmentRole.choices,
        required=False,
        help_text=str(_("Only lead or only assisting assignments.")),
    )


# --- output ------------------------------------------------------------------------------------------


class CaseStateSerializer(serializers.ModelSerializer):
    """Where the case stands after an action; ``version`` is what the next action sends back."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Case
        fields = ["id", "number", "state", "state_label", "version", "state_changed_at"]
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    kind = EnumField(NoticeKind)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = WrittenNotice
        fields = [
            "id",
            "kind",
            "kind_label",
            "number",
            "title",
            "body",
            "issuer",
            "issued_at",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, notice: WrittenNotice) -> str:
        path = reverse("api:routing-notice-pdf", args=[notice.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DepartmentRefSerializer(serializers.ModelSerializer):
    kind = EnumField(DepartmentKind)

    class Meta:
        model = Department
        fields = ["id", "name", "kind"]
        read_only_fields = fields


def _username(source: str) -> serializers.CharField:
    """A staff member by username; null where nobody has done it yet."""
    return serializers.CharField(source=f"{source}.username", read_only=True, allow_null=True)


class AssignmentSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer(read_only=True)
    role = EnumField(AssignmentRole)
    state = EnumField(AssignmentState)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    assigned_by = _username("assigned_by")
    signed_by = _username("signed_by")
    handler = _username("handler")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "case",
            "department",
            "role",
            "role_label",
            "state",
            "state_label",
            "due_at",
            "instructions",
            "assigned_by",
            "assigned_at",
            "signed_by",
            "signed_at",
            "handler",
            "accepted_at",
            "returned_at",
            "return_reason",
            "contribution",
        ]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    from_center = serializers.CharField(source="from_center.name", read_only=True)
    to_center = serializers.CharField(source="to_center.name", read_only=True)
    transferred_by = _username("transferred_by")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "from_center",
            "to_center",
            "reason",
            "transferred_by",
            "transferred_at",
        ]
        read_only_fields = fields


class ProgressNoteSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    author = _username("author")

    class Meta:
        model = ProgressNote
        fields = ["id", "text", "shared_with_center", "department", "author", "created_at"]
        read_only_fields = fields


class ScreenResultSerializer(serializers.Serializer):
    case = CaseStateSerializer(read_only=True)
    notice = NoticeSerializer(read_only=True)


class AssignResultSerializer(serializers.Serializer):
    case = CaseStateSerializer(read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)


class TransferResultSerializer(serializers.Serializer):
    case = CaseStateSerializer(read_only=True)
    transfer = TransferSerializer(read_only=True)
    notice = NoticeSerializer(read_only=True, allow_null=True)


class AssignmentActionResultSerializer(serializers.Serializer):
    case = CaseStateSerializer(read_only=True)
    assignment = AssignmentSerializer(read_only=True)
    notice = NoticeSerializer(
        read_only=True,
        allow_null=True,
        help_text=str(_("The written acceptance notice (accept only); otherwise null.")),
    )


# --- inbox ---------------------------------------------------------------------------------------------


class InboxCaseSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    category = serializers.CharField(source="category.name", read_only=True)
    main_petitioner = serializers.CharField(source="main_petitioner.name", read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "state",
            "state_label",
            "category",
            "main_petitioner",
            "is_major_urgent",
            "is_safety_risk",
            "is_group",
            "registered_at",
        ]
        read_only_fields = fields


class InboxRowSerializer(serializers.ModelSerializer):
    """An assignment of the user's department, with the state of its own due date (the same
    measure as the deadline colours: clocks.deadlines.warning_level_for)."""

    case = InboxCaseSerializer(read_only=True)
    role = EnumField(AssignmentRole)
    state = EnumField(AssignmentState)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    days_remaining = serializers.SerializerMethodField()
    warning_level = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "case",
            "role",
            "role_label",
            "state",
            "state_label",
            "due_at",
            "days_remaining",
            "warning_level",
            "assigned_at",
            "signed_at",
            "returned_at",
            "instructions",
        ]
        read_only_fields = fields

    def _now(self) -> Any:
        return self.context["now"]

    def get_days_remaining(self, assignment: Assignment) -> int:
        return days_remaining(assignment.due_at, self._now())

    @extend_schema_field(serializers.ChoiceField(choices=WarningLevel.choices))
    def get_warning_level(self, assignment: Assignment) -> str:
        return str(warning_level_for(assignment.due_at, self._now()).value)


class InboxCaseRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """InboxCaseSerializer's JSON from the ``case__`` keys of an inbox row (core.rows)."""

    id = serializers.IntegerField(source="case_id", read_only=True)
    number = serializers.CharField(source="case__number", read_only=True)
    state = serializers.CharField(source="case__state", read_only=True)
    state_label = ChoiceLabelField(CaseState.choices, source="case__state")
    category = serializers.CharField(source="case__category__name", read_only=True)
    main_petitioner = serializers.CharField(source="case__main_petitioner__name", read_only=True)
    is_major_urgent = serializers.BooleanField(source="case__is_major_urgent", read_only=True)
    is_safety_risk = serializers.BooleanField(source="case__is_safety_risk", read_only=True)
    is_group = serializers.BooleanField(source="case__is_group", read_only=True)
    registered_at = serializers.DateTimeField(source="case__registered_at", read_only=True)


class InboxRowValuesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """InboxRowSerializer's JSON from a ``.values(*InboxRowValuesSerializer.COLUMNS)`` row of
    the inbox (no model instances: core.rows). InboxRowSerializer stays the documented response;
    routing/tests/test_api_rows.py checks both write the same."""

    COLUMNS = (
        "id",
        "case_id",
        "case__number",
        "case__state",
        "case__category__name",
        "case__main_petitioner__name",
        "case__is_major_urgent",
        "case__is_safety_risk",
        "case__is_group",
        "case__registered_at",
        "role",
        "state",
        "due_at",
        "assigned_at",
        "signed_at",
        "returned_at",
        "instructions",
    )

    id = serializers.IntegerField(read_only=True)
    case = InboxCaseRowSerializer(source="*", read_only=True)
    role = EnumField(AssignmentRole)
    role_label = ChoiceLabelField(AssignmentRole.choices, source="role")
    state = EnumField(AssignmentState)
    state_label = ChoiceLabelField(AssignmentState.choices, source="state")
    due_at = serializers.DateTimeField(read_only=True)
    days_remaining = serializers.SerializerMethodField()
    warning_level = serializers.SerializerMethodField()
    assigned_at = serializers.DateTimeField(read_only=True)
    signed_at = serializers.DateTimeField(read_only=True)
    returned_at = serializers.DateTimeField(read_only=True)
    instructions = serializers.CharField(read_only=True)

    def get_days_remaining(self, row: dict[str, Any]) -> int:
        return days_remaining(row["due_at"], self.context["now"])

    def get_warning_level(self, row: dict[str, Any]) -> str:
        return str(warning_level_for(row["due_at"], self.context["now"]).value)


class InboxCountsSerializer(serializers.Serializer):
    new = serializers.IntegerField(read_only=True)
    mine = serializers.IntegerField(read_only=True)
    due_soon = serializers.IntegerField(read_only=True)
    overdue = serializers.IntegerField(read_only=True)
    returned = serializers.IntegerField(read_only=True)


class InboxPageSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(choices=INBOX_TABS, read_only=True)
    counts = InboxCountsSerializer(read_only=True)
    next = serializers.URLField(read_only=True, allow_null=True)
    previous = serializers.URLField(read_only=True, allow_null=True)
    results = InboxRowSerializer(many=True, read_only=True)


class InboxPageRowsSerializer(InboxPageSerializer):
    """InboxPageSerializer's JSON with the rows as .values() dicts (the view's; the schema is
    InboxPageSerializer's)."""

    results = InboxRowValuesSerializer(many=True, read_only=True)  # type: ignore[assignment]
