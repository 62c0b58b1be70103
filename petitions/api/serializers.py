"""Input serializers validate; services write; output serializers render (STYLE.md: thin API views).

Input serializers never save: each has a ``to_*`` helper that turns validated data into the
dataclass the service takes. Free text (request, facts, notes, answers) is kept as typed, without
trimming or escaping: it is JSON on the way out, and escaping is the client's job.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import User
from core.roles import Role
from core.rows import ChoiceLabelField, RowObjectField
from petitions.codetables import active_by_code
from petitions.models import (
    Attachment,
    AttachmentKind,
    Case,
    CaseEvent,
    CasePetitioner,
    Channel,
    ContentCategory,
    IdType,
    Organ,
    Petitioner,
    PetitionerRole,
    Purpose,
    Sex,
    Visit,
)
from petitions.selectors import can_act_on
from petitions.services import (
    MAX_HEADCOUNT,
    MAX_REASON_LENGTH,
    MAX_REPRESENTATIVES,
    CaseData,
    PetitionerData,
    Registration,
)
from petitions.states import CaseState, allowed_transitions
from petitions.validation import (
    MAX_TEXT_LENGTH,
    identity_hints,
    validate_attachment,
    validate_id_number,
    validate_lookup_id_number,
    validate_phone,
    validate_region_code,
)

# Fields of a petitioner file that an update leaves alone when the client does not send them.
_KEPT_WHEN_OMITTED = (
    "sex",
    "birth_date",
    "address",
    "household_registration",
    "occupation",
    "notes",
)


def _django_errors(exc: DjangoValidationError) -> list[str]:
    return list(exc.messages)


# --- shared output pieces -------------------------------------------------------------------------


class CodeItemSerializer(serializers.Serializer):
    """An entry of an administrator-edited code table (channel, purpose, category, organ)."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CenterRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class UserRefField(serializers.CharField):
    """A staff member shown by username (null when the record has no user, e.g. a system task)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return str(value.username) if isinstance(value, User) else str(value)


# --- petitioners ----------------------------------------------------------------------------------


class PetitionerSerializer(serializers.ModelSerializer):
    """A petitioner file with ID and phone numbers masked (full numbers only through /reveal/)."""

    case_count = serializers.IntegerField(
        read_only=True,
        default=None,
        allow_null=True,
        help_text=str(_("Cases of this person that you can see.")),
    )

    class Meta:
        model = Petitioner
        fields = [
            "id",
            "name",
            "sex",
            "id_type",
            "id_number_masked",
            "phone_masked",
            "address",
            "household_registration",
            "occupation",
            "sms_opt_out",
            "case_count",
        ]
        read_only_fields = fields


class PetitionerRefSerializer(serializers.ModelSerializer):
    """A petitioner as shown inside a case: masked numbers, no file details."""

    class Meta:
        model = Petitioner
        fields = ["id", "name", "sex", "id_type", "id_number_masked", "phone_masked"]
        read_only_fields = fields


class PetitionerLookupSerializer(serializers.Serializer):
    """Query parameters of the name search (GET). Full ID and phone numbers are not accepted in
    a URL (access logs and proxies record URLs): those lookups are POSTed to
    /api/v1/petitioners/lookup/."""

    name = serializers.CharField(
        max_length=50,
        help_text=str(
            _(
                "Beginning of the name (traditional and simplified characters match). Only "
                "people on cases you may see, or whom you found by an exact lookup, are listed."
            )
        ),
    )


class PetitionerExactLookupSerializer(serializers.Serializer):
    """Body of POST /api/v1/petitioners/lookup/: an exact ID number, or a name with a phone
    number. A resident ID number is checked (check character, birth date, region) and may be
    given in its old 15-digit form."""

    id_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    id_type = serializers.ChoiceField(
        choices=IdType.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text=str(_("Narrows an ID number lookup to one ID type.")),
    )
    name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["id_number"]:
            try:
                attrs["id_number"] = validate_lookup_id_number(
                    attrs["id_number"], attrs.get("id_type")
                )
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"id_number": _django_errors(exc)}) from None
            return attrs
        if attrs["name"].strip() and attrs["phone"].strip():
            try:
                attrs["phone"] = validate_phone(attrs["phone"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"phone": _django_errors(exc)}) from None
            attrs["name"] = attrs["name"].strip()
            return attrs
        message = _("Give an ID number, or a name together with a phone number.")
        raise serializers.ValidationError({"id_number": [message], "phone": [message]})


class PetitionerInputSerializer(serializers.Serializer):
    """A person as typed at the desk. The ID number is checked for its type (a resident ID's check
    character, birth date and region); the phone for its digits."""

    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=str(_("Taken from a resident ID number when not given.")),
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    household_registration = serializers.CharField(max_length=200, required=False, allow_blank=True)
    occupation = serializers.CharField(max_length=50, required=False, allow_blank=True)
    notes = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_LENGTH
    )
    sms_opt_out = serializers.BooleanField(
        required=False,
        default=False,
        help_text=str(_("No text messages to this person (asked at the desk).")),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        try:
            attrs["id_number"] = validate_id_number(attrs["id_type"], attrs.get("id_number", ""))
        except DjangoValidationError as exc:
            errors["id_number"] = _django_errors(exc)
        try:
            attrs["phone"] = validate_phone(attrs.get("phone", ""))
        except DjangoValidationError as exc:
            errors["phone"] = _django_errors(exc)
        if errors:
            raise serializers.ValidationError(errors)
        hints = identity_hints(attrs["id_number"]) if attrs["id_type"] == IdType.RESIDENT else None
        if hints is not None:
            # A resident ID states sex and birth date: a birth date given must agree with it;
            # missing ones (and an unknown sex) are taken from it. A typed sex is kept as typed
            # (the desk warns about a contradiction; the file can be corrected).
            sex, born = hints
            if attrs.get("birth_date") and attrs["birth_date"] != born:
                raise serializers.ValidationError(
                    {
                        "birth_date": [
                            _(
                                "The ID number gives the birth date %(born)s. Check the birth "
                                "date and the ID number: one of them is mistyped."
                            )
                            % {"born": born.isoformat()}
                        ]
                    }
                )
            attrs["birth_date"] = born
            if attrs.get("sex") in (None, Sex.UNKNOWN):
                attrs["sex"] = sex
        return attrs


def petitioner_data(attrs: dict[str, Any], existing: Petitioner | None) -> PetitionerData:
    """The service's input for validated ``attrs``. The service writes every field of the file, so
    fields the client left out keep the existing file's values instead of being blanked."""
    values: dict[str, Any] = {
        "name": attrs["name"],
        "id_type": attrs["id_type"],
        "id_number": attrs.get("id_number", ""),
        "phone": attrs.get("phone", ""),
        "sms_opt_out": bool(attrs.get("sms_opt_out", False)),
    }
    for key in _KEPT_WHEN_OMITTED:
        if key in attrs:
            values[key] = attrs[key]
        elif existing is not None:
            values[key] = getattr(existing, key)
    values.setdefault("sex", Sex.UNKNOWN)
    return PetitionerData(**values)


class FieldDifferenceOutputSerializer(serializers.Serializer):
    """A value typed for a known person that differs from the file and was not applied."""

    petitioner_id = serializers.IntegerField()
    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see ActionSerializer.label
    on_file = serializers.CharField(help_text=str(_("The file's value (numbers masked).")))
    typed = serializers.CharField(help_text=str(_("The value typed (numbers masked).")))
    message = serializers.SerializerMethodField()

    def get_message(self, difference: Any) -> str:
        return str(difference.message())


class OpenCaseConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    open_case_id = serializers.IntegerField()
    open_case_number = serializers.CharField()


class VisitReportOutputSerializer(serializers.Serializer):
    notified = serializers.IntegerField(
        help_text=str(_("Notifications written (0 for a repeated submission)."))
    )
    center = CenterRefSerializer()


class CorrectionInputSerializer(serializers.Serializer):
    """A correction of a person's file: only the fields given change; ``reason`` is required and
    kept in the file's history with the user."""

    name = serializers.CharField(max_length=50, required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    birth_date = serializers.DateField(required=False, allow_null=True)
    id_type = serializers.ChoiceField(choices=IdType.choices, required=False)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    household_registration = serializers.CharField(max_length=200, required=False, allow_blank=True)
    occupation = serializers.CharField(max_length=50, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH)
    sms_opt_out = serializers.BooleanField(required=False)
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.validated_data.items() if k != "reason"}


class RevealInputSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=[("id_number", "id_number"), ("phone", "phone")])
    case_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=str(
            _(
                "The case of this person through which you see them (logged with the reveal). "
                "Default: their newest case that you may see."
            )
        ),
    )


class RevealOutputSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


# --- cases: input ---------------------------------------------------------------------------------


class CodeField(serializers.SlugRelatedField):
    """An active row of a code table by its code, from the in-process cache
    (petitions.codetables): no query per request. Same errors as a SlugRelatedField."""

    def __init__(self, model: type[Any], **kwargs: Any) -> None:
        self.model = model
        super().__init__(slug_field="code", queryset=model.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        found = active_by_code(self.model, data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return found


def _code_field(model: type[Any], **kwargs: Any) -> serializers.SlugRelatedField:
    return CodeField(model, **kwargs)


# The largest value of a BigAutoField primary key: an id beyond it is a field error, not a 500.
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1  # PositiveIntegerField


def headcount_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_HEADCOUNT,
        default=1,
        error_messages={
            "max_value": _("Headcount cannot exceed {max_value}; check the number."),
            "min_value": _("Headcount must be at least 1."),
        },
    )


class CaseIntakeSerializer(serializers.Serializer):
    """Registering a case at the desk: the person (an existing file or a new one), the matter,
    and a group visit's representatives (at most five, Art 20, and no more than the headcount).

    A person with an open case on the same matter (petitions.services.is_same_matter) is refused
    with 409 ``open_case_exists`` and the open case's id, unless ``new_case_reason`` is given; a
    final matter (不再受理) with 400 unless ``final_matter_confirmed`` and ``final_matter_reason``
    are given."""

    petitioner_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=str(_("An existing petitioner file; or send `petitioner` instead.")),
    )
    petitioner = PetitionerInputSerializer(required=False, allow_null=True)
    channel = _code_field(Channel)
    purpose = _code_field(Purpose)
    category = _code_field(ContentCategory)
    organ = _code_field(Organ, required=False, allow_null=True)
    request = serializers.CharField(trim_whitespace=False, max_length=MAX_TEXT_LENGTH)
    facts_reasons = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        default="",
        max_length=MAX_TEXT_LENGTH,
    )
    legal_case_number = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    problem_region_code = serializers.CharField(
        max_length=6, required=False, allow_blank=True, default=""
    )
    is_law_related = serializers.BooleanField(default=True)
    is_major_urgent = serializers.BooleanField(default=False)
    is_safety_risk = serializers.BooleanField(default=False)
    is_skip_level = serializers.BooleanField(default=False)
    headcount = headcount_field()
    representatives = PetitionerInputSerializer(many=True, required=False)
    new_case_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_REASON_LENGTH,
        help_text=str(
            _(
                "Why this is a new case although the person has an open case on the same matter "
                "(without it such a registration is refused with 409 open_case_exists)."
            )
        ),
    )
    final_matter_confirmed = serializers.BooleanField(
        default=False,
        help_text=str(
            _(
                "Register a new case although the person's matter is final (不再受理: re-review "
                "decided, a review window lapsed, or lawfully terminated; Arts 35-37). Without "
                "it and `final_matter_reason` such a registration is refused with 400 and field "
                "errors."
            )
        ),
    )
    final_matter_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_REASON_LENGTH,
        help_text=str(_("Why a final matter is registered again (new facts or reasons).")),
    )

    def validate_request(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("State the request (Art 19)."))
        return value

    def validate_problem_region_code(self, value: str) -> str:
        try:
            return validate_region_code(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from None

    def validate_representatives(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > MAX_REPRESENTATIVES:
            raise serializers.ValidationError(
                _("A group visit may choose at most %(n)d representatives (Art 20).")
                % {"n": MAX_REPRESENTATIVES}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        reps = len(attrs.get("representatives") or [])
        if reps > attrs["headcount"]:
            raise serializers.ValidationError(
                {
                    "representatives": [
                        _(
                            "%(reps)d representatives cannot come from %(n)d people: check the "
                            "headcount."
                        )
                        % {"reps": reps, "n": attrs["headcount"]}
                    ]
                }
            )
        has_id = attrs.get("petitioner_id") is not None
        has_new = attrs.get("petitioner") is not None
        if has_id == has_new:
            message = _("Give either petitioner_id or petitioner, not both.")
            if not has_id:
                message = _("Give the petitioner: petitioner_id or a petitioner object.")
            raise serializers.ValidationError({"petitioner": [message]})
        if has_id:
            from petitions.selectors import petitioners_visible_to

            user = self.context["request"].user
            found = petitioners_visible_to(user).filter(pk=attrs["petitioner_id"]).first()
            if found is None:
                raise serializers.ValidationError({"petitioner_id": [_("No such petitioner.")]})
            attrs["existing_petitioner"] = found
        return attrs

    def to_case_data(self) -> CaseData:
        d = self.validated_data
        return CaseData(
            channel=d["channel"],
            purpose=d["purpose"],
            category=d["category"],
            organ=d.get("organ"),
            request=d["request"],
            facts_reasons=d["facts_reasons"],
            legal_case_number=d["legal_case_number"],
            problem_region_code=d["problem_region_code"],
            is_law_related=d["is_law_related"],
            is_major_urgent=d["is_major_urgent"],
            is_safety_risk=d["is_safety_risk"],
            is_skip_level=d["is_skip_level"],
            headcount=d["headcount"],
        )


class VisitInputSerializer(serializers.Serializer):
    petitioner_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=str(_("A petitioner on this case."))
    )
    channel = _code_field(Channel)
    headcount = headcount_field()
    notes = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default=""
    )


class AnswerInputSerializer(serializers.Serializer):
    answer = serializers.CharField(trim_whitespace=False, max_length=MAX_TEXT_LENGTH)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=str(_("The case version you saw; refused with 409 if it changed since.")),
    )

    def validate_answer(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Write down the answer given."))
        return value


class AttachmentInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, default=AttachmentKind.OTHER)

    def validate_file(self, value: Any) -> Any:
        # Checked here too (the service checks again) so the error is on the "file" field.
        try:
            validate_attachment(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from None
        return value


# --- cases: output --------------------------------------------------------------------------------


class CaseListSerializer(serializers.ModelSerializer):
    """A row of the case list: only what case_list_for() has already joined."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    center = CenterRefSerializer(read_only=True)
    channel = CodeItemSerializer(read_only=True)
    purpose = CodeItemSerializer(read_only=True)
    category = CodeItemSerializer(read_only=True)
    main_petitioner = PetitionerRefSerializer(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "state",
            "state_label",
            "center",
            "channel",
            "purpose",
            "category",
            "main_petitioner",
            "request",
            "headcount",
            "is_group",
            "is_major_urgent",
            "is_safety_risk",
            "is_skip_level",
            "visit_count",
            "registered_at",
            "next_due_at",
        ]
        read_only_fields = fields


class CaseListRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """CaseListSerializer's JSON from a ``.values(*CaseListRowSerializer.COLUMNS)`` row (a page
    of the case list without model instances: core.rows). CaseListSerializer stays the
    documented response; petitions/tests/test_api_rows.py checks both write the same."""

    COLUMNS = (
        "id",
        "number",
        "state",
        "center_id",
        "center__name",
        "channel__code",
        "channel__name",
        "purpose__code",
        "purpose__name",
        "category__code",
        "category__name",
        "main_petitioner_id",
        "main_petitioner__name",
        "main_petitioner__sex",
        "main_petitioner__id_type",
        "main_petitioner__id_number_masked",
        "main_petitioner__phone_masked",
        "request",
        "headcount",
        "is_group",
        "is_major_urgent",
        "is_safety_risk",
        "is_skip_level",
        "visit_count",
        "registered_at",
        "next_due_at",
    )

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    state_label = ChoiceLabelField(CaseState.choices, source="state")
    center = RowObjectField({"id": "center_id", "name": "center__name"})
    channel = RowObjectField({"code": "channel__code", "name": "channel__name"})
    purpose = RowObjectField({"code": "purpose__code", "name": "purpose__name"})
    category = RowObjectField({"code": "category__code", "name": "category__name"})
    main_petitioner = RowObjectField(
        {
            "id": "main_petitioner_id",
            "name": "main_petitioner__name",
            "sex": "main_petitioner__sex",
            "id_type": "main_petitioner__id_type",
            "id_number_masked": "main_petitioner__id_number_masked",
            "phone_masked": "main_petitioner__phone_masked",
        }
    )
    request = serializers.CharField(read_only=True)
    headcount = serializers.IntegerField(read_only=True)
    is_group = serializers.BooleanField(read_only=True)
    is_major_urgent = serializers.BooleanField(read_only=True)
    is_safety_risk = serializers.BooleanField(read_only=True)
    is_skip_level = serializers.BooleanField(read_only=True)
    visit_count = serializers.IntegerField(read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)
    next_due_at = serializers.DateTimeField(read_only=True)


class CasePetitionerSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=PetitionerRole.choices, read_only=True)
    petitioner = PetitionerRefSerializer(read_only=True)

    class Meta:
        model = CasePetitioner
        fields = ["role", "petitioner"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = UserRefField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "original_name",
            "size",
            "content_type",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    # "label" shadows Field.label for the type checker only: DRF moves declared fields off the class.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    # A plain string: the values are those of the case's `state` (one enum in the schema).
    target = serializers.CharField(read_only=True, help_text=str(_("The state the case moves to.")))


class CaseDetailSerializer(CaseListSerializer):
    """The whole case, petitioners masked, with the actions the viewer may take now."""

    origin_center = CenterRefSerializer(read_only=True)
    organ = CodeItemSerializer(read_only=True, allow_null=True)
    registered_by = UserRefField()
    petitioners = CasePetitionerSerializer(source="case_petitioners", many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "origin_center",
            "state_changed_at",
            "version",
            "organ",
            "legal_case_number",
            "problem_region_code",
            "is_law_related",
            "facts_reasons",
            "petitioners",
            "registered_by",
            "closed_at",
            "outcome",
            "attachments",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ActionSerializer(many=True))
    def get_allowed_actions(self, case: Case) -> list[dict[str, str]]:
        user = self.context["request"].user
        if not can_act_on(user, case):
            return []
        roles = frozenset(Role.values) if user.is_superuser else user.role_codes
        return [
            {"name": t.name, "label": str(t.label), "target": t.target}
            for t in allowed_transitions(case.state, roles)
        ]


class CaseRegisteredSerializer(CaseDetailSerializer):
    """The intake response: the case, its one-time query code and what the desk must see."""

    query_code = serializers.SerializerMethodField(
        help_text=str(
            _(
                "Shown once, for the petitioner's receipt; null when a repeated "
                "submission returned the case registered the first time."
            )
        )
    )
    warnings = serializers.SerializerMethodField()
    differences = serializers.SerializerMethodField(
        help_text=str(
            _(
                "Values typed for a known person that differ from their file and were not "
                "applied (identity fields, or contact fields of a file another center holds). "
                "Correct the file with POST /api/v1/petitioners/{id}/correct/ if it is wrong."
            )
        )
    )

    class Meta(CaseDetailSerializer.Meta):
        fields = [*CaseDetailSerializer.Meta.fields, "query_code", "warnings", "differences"]
        read_only_fields = fields

    def _registration(self) -> Registration:
        registration: Registration = self.context["registration"]
        return registration

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_query_code(self, case: Case) -> str | None:
        return self._registration().query_code

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, case: Case) -> list[str]:
        return self._registration().warnings

    @extend_schema_field(FieldDifferenceOutputSerializer(many=True))
    def get_differences(self, case: Case) -> list[dict[str, Any]]:
        differences = self.context.get("differences") or []
        return FieldDifferenceOutputSerializer(differences, many=True).data  # type: ignore[return-value]


_DATETIME = serializers.DateTimeField()  # DRF's own rendering (time zone, "Z"), no binding needed


def _when(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _choice(value: Any) -> Any:
    # DRF's ChoiceField writes the stored value ("" and None as they are); str() of a TextChoices
    # member is its value.
    return value if value in ("", None) else str(value)


def _username(user: Any) -> str | None:
    if user is None:
        return None
    return str(user.username) if isinstance(user, User) else str(user)


def _code_item(item: Any) -> dict[str, str] | None:
    return None if item is None else {"code": str(item.code), "name": str(item.name)}


def _person_ref(person: Petitioner) -> dict[str, Any]:
    return {
        "id": int(person.pk),
        "name": str(person.name),
        "sex": _choice(person.sex),
        "id_type": _choice(person.id_type),
        "id_number_masked": str(person.id_number_masked),
        "phone_masked": str(person.phone_masked),
    }


def registered_case_body(
    case: Case,
    *,
    user: Any,
    registration: Registration,
    differences: list[Any],
) -> dict[str, Any]:
    """CaseRegisteredSerializer's JSON written directly from the objects in memory (the 201 of
    POST /api/v1/cases/): no serializer fields built per request. CaseRegisteredSerializer stays
    the documented response; petitions/tests/test_api_registered_body.py checks both write the
    same JSON, in English and in Chinese. A field added to one must be added to the other."""
    center, origin = case.center, case.origin_center
    if can_act_on(user, case):
        roles = frozenset(Role.values) if user.is_superuser else user.role_codes
        actions = [
            {"name": str(t.name), "label": str(t.label), "target": str(t.target)}
            for t in allowed_transitions(case.state, roles)
        ]
    else:
        actions = []
    return {
        "id": int(case.pk),
        "number": str(case.number),
        "state": _choice(case.state),
        "state_label": str(case.get_state_display()),
        "center": {"id": int(center.pk), "name": str(center.name)},
        "channel": _code_item(case.channel),
        "purpose": _code_item(case.purpose),
        "category": _code_item(case.category),
        "main_petitioner": _person_ref(case.main_petitioner),
        "request": str(case.request),
        "headcount": int(case.headcount),
        "is_group": bool(case.is_group),
        "is_major_urgent": bool(case.is_major_urgent),
        "is_safety_risk": bool(case.is_safety_risk),
        "is_skip_level": bool(case.is_skip_level),
        "visit_count": int(case.visit_count),
        "registered_at": _when(case.registered_at),
        "next_due_at": _when(case.next_due_at),
        "origin_center": {"id": int(origin.pk), "name": str(origin.name)},
        "state_changed_at": _when(case.state_changed_at),
        "version": int(case.version),
        "organ": _code_item(case.organ),
        "legal_case_number": str(case.legal_case_number),
        "problem_region_code": str(case.problem_region_code),
        "is_law_related": bool(case.is_law_related),
        "facts_reasons": str(case.facts_reasons),
        "petitioners": [
            {"role": _choice(link.role), "petitioner": _person_ref(link.petitioner)}
            for link in case.case_petitioners.all()
        ],
        "registered_by": _username(case.registered_by),
        "closed_at": _when(case.closed_at),
        "outcome": str(case.outcome),
        "attachments": [
            {
                "id": int(a.pk),
                "kind": _choice(a.kind),
                "original_name": str(a.original_name),
                "size": int(a.size),
                "content_type": str(a.content_type),
                "uploaded_by": _username(a.uploaded_by),
                "uploaded_at": _when(a.uploaded_at),
            }
            for a in case.attachments.all()
        ],
        "allowed_actions": actions,
        "query_code": registration.query_code,
        "warnings": registration.warnings,
        "differences": [
            {
                "petitioner_id": int(d.petitioner_id),
                "field": str(d.field),
                "label": str(d.label),
                "on_file": str(d.on_file),
                "typed": str(d.typed),
                "message": str(d.message()),
            }
            for d in differences
        ],
    }


class VisitSerializer(serializers.ModelSerializer):
    petitioner = PetitionerRefSerializer(read_only=True)
    center = CenterRefSerializer(read_only=True)
    channel = CodeItemSerializer(read_only=True)
    received_by = UserRefField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "petitioner",
            "center",
            "channel",
            "at",
            "is_repeat",
            "headcount",
            "notes",
            "received_by",
        ]
        read_only_fields = fields


# --- history --------------------------------------------------------------------------------------


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see ActionSerializer.label
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryRecordSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.ChoiceField(
        choices=[("+", "created"), ("~", "changed"), ("-", "deleted")]
    )
    history_user = serializers.CharField(allow_null=True)
    change_reason = serializers.CharField(allow_null=True)
    changes = FieldChangeSerializer(many=True)


class CaseEventSerializer(serializers.ModelSerializer):
    actor = UserRefField()

    class Meta:
        model = CaseEvent
        fields = ["id", "kind", "from_state", "to_state", "actor", "at", "message", "data"]
        read_only_fields = fields


class CaseHistorySerializer(serializers.Serializer):
    records = HistoryRecordSerializer(many=True)
    events = CaseEventSerializer(many=True)
