"""Front-desk forms. Validation of numbers and files is shared with the API (petitions.validation);
these forms only add what the desk decides: which fields a new matter needs, and the choice
between a repeat visit and a new case."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from petitions.codetables import active_by_pk, active_codes
from petitions.models import (
    AttachmentKind,
    Case,
    Channel,
    ContentCategory,
    IdType,
    Organ,
    Petitioner,
    Purpose,
    Sex,
)
from petitions.services import (
    MAX_HEADCOUNT,
    MAX_REASON_LENGTH,
    MAX_REPRESENTATIVES,
    CaseData,
    PetitionerData,
)
from petitions.validation import (
    MAX_TEXT_LENGTH,
    identity_hints,
    validate_attachment,
    validate_id_number,
    validate_lookup_id_number,
    validate_phone,
    validate_region_code,
)

NEW_MATTER = "new"


def sex_mismatch_message(sex: str, born: date | None) -> str:
    """The warning for a typed sex that contradicts a resident ID number (``born`` None leaves
    a ``{born}`` placeholder for the page's script)."""
    return str(
        _(
            "This ID number is that of a %(sex)s born on %(born)s, which does not match the sex "
            "chosen. Check the sex and the ID number: one of them is mistyped."
        )
        % {"sex": Sex(sex).label, "born": born.isoformat() if born else "{born}"}
    )


class LookupForm(forms.Form):
    """Step 1: find the person by ID number, or by name and phone number."""

    id_number = forms.CharField(label=_("ID number"), max_length=40, required=False)
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "lookup")
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}
        )
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        self.fields["phone"].widget = forms.TextInput(
            attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        id_number = (data.get("id_number") or "").strip()
        name = (data.get("name") or "").strip()
        phone = (data.get("phone") or "").strip()
        data.update(id_number=id_number, name=name, phone=phone)
        if id_number:
            # A resident ID is checked here too (check character, birth date, region): a typing
            # error must be reported, not end in "nobody found" and a duplicate file. The number
            # is kept as typed (15 or 18 characters); the lookup finds either form.
            try:
                data["id_number"] = validate_lookup_id_number(id_number)
            except ValidationError as exc:
                self.add_error("id_number", exc)
            return data
        if name and phone:
            try:
                data["phone"] = validate_phone(phone)
            except ValidationError as exc:
                self.add_error("phone", exc)
            return data
        raise ValidationError(
            _("Enter an ID number, or a name together with a phone number."), code="incomplete"
        )


# --- registration -------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data if item]
        return [single_clean(data, initial)] if data else []


# The empty choice, in the words of Django 6.1's own blank choice (translated in our catalogue),
# not ModelChoiceField's untranslatable "---------".
BLANK_LABEL = _("- Select an option -")


def category_choices() -> tuple[list[Any], dict[str, ContentCategory]]:
    """Content categories grouped under their parent (optgroups), from the cache, no query. A
    top-level category without active children is offered on its own. The instances are shared:
    clean_category hands out a copy."""
    rows = list(active_codes(ContentCategory))  # the in-process cache (petitions.codetables)
    by_pk = {str(c.pk): c for c in rows}
    children: dict[int, list[ContentCategory]] = {}
    for c in rows:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    choices: list[Any] = [("", BLANK_LABEL)]
    placed: set[int] = set()
    for c in rows:
        if c.parent_id is not None:
            continue
        kids = children.get(c.pk, [])
        if kids:
            choices.append((c.name, [(str(k.pk), k.name) for k in kids]))
            placed.update(k.pk for k in kids)
        else:
            choices.append((str(c.pk), c.name))
    # children of an inactive parent still need a home
    orphans: dict[str, list[tuple[str, str]]] = {}
    for c in rows:
        if c.parent_id is not None and c.pk not in placed and c.parent is not None:
            orphans.setdefault(c.parent.name, []).append((str(c.pk), c.name))
    choices.extend(orphans.items())
    return choices, by_pk


class _CachedCodeIterator(ModelChoiceIterator):
    """The choices of a CodeChoiceField, from the code tables' cache."""

    field: CodeChoiceField

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in active_codes(self.field.code_model):
            yield self.choice(obj)

    def __len__(self) -> int:
        blank = 1 if self.field.empty_label is not None else 0
        return blank + len(active_codes(self.field.code_model))

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(active_codes(self.field.code_model))


class CodeChoiceField(forms.ModelChoiceField):
    """An active row of a code table, chosen by its id; choices and lookups from the in-process
    cache (petitions.codetables), so the desk's page and its POST read no code table."""

    iterator = _CachedCodeIterator

    def __init__(self, model: type[Any], **kwargs: Any) -> None:
        self.code_model = model
        super().__init__(queryset=model.objects.filter(is_active=True), **kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        found = active_by_pk(self.code_model, value)
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


def case_choice_label(case: Case, own_center_id: int | None = None) -> str:
    if own_center_id is not None and case.center_id != own_center_id:
        # Another center's case (one below: read-only here). The visit is reported to that
        # center instead of being recorded on its case (petitions.services).
        return str(
            _(
                "Report this visit to %(center)s, which holds case %(number)s (%(category)s, "
                "%(state)s); your center cannot record visits on it"
            )
            % {
                "center": case.center.name,
                "number": case.number,
                "category": case.category.name,
                "state": case.get_state_display(),
            }
        )
    return str(
        _("Repeat visit of case %(number)s (%(category)s, %(state)s)")
        % {
            "number": case.number,
            "category": case.category.name,
            "state": case.get_state_display(),
        }
    )


class RegistrationForm(forms.Form):
    """Step 2: one form for a repeat visit on an open case or a new case (with the person's file
    when they are not known yet). ``petitioner`` is the person found in step 1, if any."""

    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    visit_of = forms.ChoiceField(label=_("This visit is"), widget=forms.RadioSelect)
    channel = CodeChoiceField(Channel, label=_("Channel"), empty_label=None)
    headcount = forms.IntegerField(
        label=_("Headcount"),
        min_value=1,
        max_value=MAX_HEADCOUNT,
        initial=1,
        error_messages={
            "max_value": _("Headcount cannot exceed %(limit_value)s; check the number."),
            "min_value": _("Headcount must be at least 1."),
        },
    )
    new_case_reason = forms.CharField(
        label=_("Reason for a new case while a case on the same matter is open"),
        max_length=MAX_REASON_LENGTH,
        required=False,
        help_text=_("Leave empty when this is a repeat visit: choose the open case above."),
    )
    # Shown and required only when the matter typed is final (不再受理, Arts 35-37): the service
    # refuses the registration without both (petitions.services.FinalMatterUnconfirmed).
    final_matter_confirmed = forms.BooleanField(
        label=_("Register a new case although the matter is final (new facts or reasons)"),
        required=False,
    )
    final_matter_reason = forms.CharField(
        label=_("Reason for registering a final matter again"),
        max_length=MAX_REASON_LENGTH,
        required=False,
        help_text=_(
            "The same matter on the same facts and reasons is not accepted again: state what is "
            "new."
        ),
    )
    visit_notes = forms.CharField(
        label=_("Notes on this visit"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    # the new case (CaseData)
    purpose = CodeChoiceField(Purpose, label=_("Purpose"), required=False, empty_label=BLANK_LABEL)
    category = forms.ChoiceField(label=_("Content category"), required=False)
    organ = CodeChoiceField(
        Organ, label=_("Organ concerned"), required=False, empty_label=BLANK_LABEL
    )
    legal_case_number = forms.CharField(
        label=_("Related legal case number"), max_length=60, required=False
    )
    problem_region_code = forms.CharField(
        label=_("Region code where the problem arose"),
        max_length=6,
        required=False,
        help_text=_("Six-digit county code (GB/T 2260)."),
    )
    is_law_related = forms.BooleanField(
        label=_("Law/litigation-related"), required=False, initial=True
    )
    is_major_urgent = forms.BooleanField(label=_("Major and urgent"), required=False)
    is_safety_risk = forms.BooleanField(
        label=_("Safety risk (threatening statements)"), required=False
    )
    is_skip_level = forms.BooleanField(label=_("Skip-level visit"), required=False)
    request = forms.CharField(
        label=_("Request"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    facts_reasons = forms.CharField(
        label=_("Facts and reasons"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachment_kind = forms.ChoiceField(
        label=_("Type of the attached files"),
        choices=AttachmentKind.choices,
        initial=AttachmentKind.OTHER,
        required=False,
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    answered_on_spot = forms.BooleanField(label=_("Answered on the spot"), required=False)
    answer = forms.CharField(
        label=_("Answer given"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # the person (only when step 1 found nobody)
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(label=_("ID number"), max_length=40, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    household_registration = forms.CharField(
        label=_("Household registration"), max_length=200, required=False
    )
    occupation = forms.CharField(label=_("Occupation"), max_length=50, required=False)
    notes = forms.CharField(
        label=_("Notes on the person"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sms_opt_out = forms.BooleanField(
        label=_("No text messages"),
        required=False,
        help_text=_("The person does not want text messages about their cases."),
    )

    PETITIONER_FIELDS = (
        "name",
        "sex",
        "id_type",
        "id_number",
        "phone",
        "address",
        "household_registration",
        "occupation",
        "notes",
        "sms_opt_out",
    )
    CASE_FIELDS = (
        "purpose",
        "category",
        "organ",
        "legal_case_number",
        "problem_region_code",
        "is_law_related",
        "is_major_urgent",
        "is_safety_risk",
        "is_skip_level",
        "request",
        "facts_reasons",
        "attachment_kind",
        "attachments",
        "answered_on_spot",
        "answer",
    )

    def __init__(
        self,
        *args: Any,
        petitioner: Petitioner | None = None,
        open_cases: Sequence[Case] = (),
        own_center_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.petitioner = petitioner
        self.open_cases = {str(c.pk): c for c in open_cases}
        self.own_center_id = own_center_id
        # Set by the desk when the service refused a new case: the open case on the same matter.
        self.open_case_conflict: Case | None = None
        # ... or the case whose matter is final (不再受理): a choice and a reason are asked for.
        self.final_matter_conflict: Case | None = None
        choices = [(pk, case_choice_label(c, own_center_id)) for pk, c in self.open_cases.items()]
        choices.append((NEW_MATTER, str(_("A new matter: register a new case"))))
        visit_of = cast(forms.ChoiceField, self.fields["visit_of"])
        visit_of.choices = choices
        # With open cases nothing is preselected: the clerk chooses, explicitly, a repeat visit of
        # one of them or a new matter (a page shown again by the Back button must not record a
        # visit, or a second case, without that choice: issue 12 #2).
        visit_of.initial = None if self.open_cases else NEW_MATTER
        visit_of.error_messages["required"] = _(
            "This person has open cases: choose whether this visit is a repeat visit of one of "
            "them or a new matter."
        )
        category_field = cast(forms.ChoiceField, self.fields["category"])
        category_field.choices, self._categories = category_choices()
        if not self.is_bound and not self.initial.get("submission_key"):
            self.initial["submission_key"] = str(uuid.uuid4())
        self.fields["submission_key"].initial = self.initial.get("submission_key")
        if petitioner is not None:
            for name in self.PETITIONER_FIELDS:
                del self.fields[name]
        for name in ("id_number", "problem_region_code", "legal_case_number"):
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"autocomplete": "off", "spellcheck": "false"}
                )
        self.identity_warnings: list[str] = []
        if "sex" in self.fields:
            # static/js/identity.js: sex from the typed resident ID, and a warning when the
            # chosen sex contradicts it ({born} is filled in on the page).
            self.fields["sex"].widget.attrs.update(
                {
                    "data-identity-sex": "",
                    "data-warn-m": sex_mismatch_message(Sex.MALE, None),
                    "data-warn-f": sex_mismatch_message(Sex.FEMALE, None),
                }
            )

    # --- helpers for the view and the template ---

    def offer_leaders(self, duties: Sequence[Any]) -> None:
        """On a reception day (领导接访日), the choice of which of today's scheduled leaders
        received the visit in person (intake.LeaderDuty rows with their leader)."""
        if not duties:
            return
        self.duty_leaders = {str(d.leader_id): d.leader for d in duties}
        self.fields["received_by_leader"] = forms.ChoiceField(
            label=_("Received in person by the leader on duty"),
            required=False,
            choices=[("", _("— no —"))] + [(str(d.leader_id), str(d.leader)) for d in duties],
        )

    def receiving_leader(self) -> Any:
        """The leader chosen above (a User), or None."""
        chosen = (self.cleaned_data.get("received_by_leader") or "") if self.is_bound else ""
        return getattr(self, "duty_leaders", {}).get(chosen)

    @property
    def is_new_person(self) -> bool:
        return self.petitioner is None

    def petitioner_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.PETITIONER_FIELDS if n in self.fields]

    @property
    def is_new_matter(self) -> bool:
        return self.cleaned_data.get("visit_of") == NEW_MATTER

    @property
    def asks_final_matter(self) -> bool:
        """Whether the page shows the final-matter choice: after the service found the matter
        final, or when it was already answered (kept on a page shown again)."""
        return bool(
            self.final_matter_conflict is not None
            or (
                self.is_bound
                and (
                    self.data.get("final_matter_confirmed")
                    or self.data.get("final_matter_reason")
                    or "final_matter_confirmed" in self.errors
                    or "final_matter_reason" in self.errors
                )
            )
            or self.initial.get("final_matter_confirmed")
            or self.initial.get("final_matter_reason")
        )

    def selected_case(self) -> Case | None:
        return self.open_cases.get(self.cleaned_data.get("visit_of") or "")

    # --- validation ---

    def clean_submission_key(self) -> str:
        value = self.cleaned_data["submission_key"]
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValidationError(
                _("The form has expired; reload the page and try again."), code="key"
            ) from None

    def clean_category(self) -> ContentCategory | None:
        value = self.cleaned_data.get("category") or ""
        found = self._categories.get(value)
        return copy.copy(found) if found is not None else None

    def clean_problem_region_code(self) -> str:
        return validate_region_code(self.cleaned_data.get("problem_region_code") or "")

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data.get("phone") or "")

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        errors: list[ValidationError] = []
        for upload in files:
            try:
                validate_attachment(upload)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise ValidationError(errors)
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "id_number" in self.fields and "id_number" not in self.errors:
            try:
                data["id_number"] = validate_id_number(
                    data.get("id_type") or IdType.RESIDENT, data.get("id_number") or ""
                )
            except ValidationError as exc:
                self.add_error("id_number", exc)
            else:
                self._check_identity_hints(data)
        if self.is_new_person and not (data.get("name") or "").strip():
            self.add_error("name", ValidationError(_("Enter the person's name."), code="required"))
        if data.get("visit_of") == NEW_MATTER:
            required = {
                "purpose": _("Choose the purpose."),
                "category": _("Choose the content category."),
                "request": _("State the request (Art 19)."),
            }
            for name, message in required.items():
                value = data.get(name)
                if name not in self.errors and (not value or not str(value).strip()):
                    self.add_error(name, ValidationError(message, code="required"))
        elif data.get("answered_on_spot"):
            self.add_error(
                "answered_on_spot",
                ValidationError(
                    _("Only a new matter can be answered and closed on the spot."),
                    code="not_new",
                ),
            )
        if data.get("answered_on_spot") and not (data.get("answer") or "").strip():
            self.add_error(
                "answer", ValidationError(_("Write down the answer given."), code="required")
            )
        return data

    def _check_identity_hints(self, data: dict[str, Any]) -> None:
        """A resident ID states sex and birth date: the birth date is taken from it, an unknown
        sex too. A typed sex that contradicts the number is kept but warned about (one of the
        two is mistyped): ``identity_warnings``, and live on the page (static/js/identity.js)."""
        if (data.get("id_type") or IdType.RESIDENT) != IdType.RESIDENT:
            return
        hints = identity_hints(data.get("id_number") or "")
        if hints is None:
            return
        sex, born = hints
        data["birth_date"] = born
        typed = data.get("sex") or Sex.UNKNOWN
        if typed == Sex.UNKNOWN:
            data["sex"] = sex
        elif typed != sex:
            self.identity_warnings.append(sex_mismatch_message(sex, born))

    # --- to the services ---

    def case_data(self) -> CaseData:
        d = self.cleaned_data
        return CaseData(
            channel=d["channel"],
            purpose=d["purpose"],
            category=d["category"],
            request=d["request"],
            organ=d.get("organ"),
            facts_reasons=d.get("facts_reasons") or "",
            legal_case_number=d.get("legal_case_number") or "",
            problem_region_code=d.get("problem_region_code") or "",
            is_law_related=bool(d.get("is_law_related")),
            is_major_urgent=bool(d.get("is_major_urgent")),
            is_safety_risk=bool(d.get("is_safety_risk")),
            is_skip_level=bool(d.get("is_skip_level")),
            headcount=d["headcount"],
        )

    def petitioner_data(self) -> PetitionerData:
        d = self.cleaned_data
        return PetitionerData(
            name=d["name"].strip(),
            id_type=d.get("id_type") or IdType.RESIDENT,
            id_number=d.get("id_number") or "",
            phone=d.get("phone") or "",
            sex=d.get("sex") or Sex.UNKNOWN,
            birth_date=d.get("birth_date"),
            address=d.get("address") or "",
            household_registration=d.get("household_registration") or "",
            occupation=d.get("occupation") or "",
            notes=d.get("notes") or "",
            sms_opt_out=bool(d.get("sms_opt_out")),
        )


class RepresentativeForm(forms.Form):
    """One representative of a group visit (Art 20): name and ID number."""

    name = forms.CharField(label=_("Name"), max_length=50)
    id_type = forms.ChoiceField(
        label=_("ID type"),
        choices=[(v, lbl) for v, lbl in IdType.choices if v != IdType.NONE],
        initial=IdType.RESIDENT,
    )
    id_number = forms.CharField(label=_("ID number"), max_length=40)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("id_number") and "id_type" in data:
            try:
                data["id_number"] = validate_id_number(data["id_type"], data["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data

    def petitioner_data(self) -> PetitionerData:
        d = self.cleaned_data
        return PetitionerData(
            name=d["name"].strip(), id_type=d["id_type"], id_number=d["id_number"]
        )


class BaseRepresentativeFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": _("A group visit may choose at most %(num)d representatives (Art 20)."),
    }

    def filled_forms(self) -> list[RepresentativeForm]:
        return [f for f in self.forms if f.has_changed() and f.cleaned_data]


RepresentativeFormSet = cast(
    type[BaseRepresentativeFormSet],
    forms.formset_factory(
        RepresentativeForm,
        formset=BaseRepresentativeFormSet,
        extra=MAX_REPRESENTATIVES,
        max_num=MAX_REPRESENTATIVES,
        validate_max=True,
    ),
)


class CorrectionForm(forms.Form):
    """Correct a person's file (信访人档案): what was typed wrongly, with the reason, which goes
    into the file's history (petitions.services.correct_petitioner). Prefilled with the file;
    only the fields that differ from it are sent to the service."""

    name = forms.CharField(label=_("Name"), max_length=50)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to keep the number on file."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        help_text=_("Leave empty to keep the number on file."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    household_registration = forms.CharField(
        label=_("Household registration"), max_length=200, required=False
    )
    occupation = forms.CharField(label=_("Occupation"), max_length=50, required=False)
    notes = forms.CharField(
        label=_("Notes on the person"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sms_opt_out = forms.BooleanField(
        label=_("No text messages"),
        required=False,
        help_text=_("The person does not want text messages about their cases."),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=MAX_REASON_LENGTH,
        help_text=_("Kept in the file's history with your name."),
    )

    TEXT_FIELDS = ("name", "address", "household_registration", "occupation", "notes")

    def __init__(self, *args: Any, petitioner: Petitioner, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": petitioner.name,
                "sex": petitioner.sex,
                "birth_date": petitioner.birth_date,
                "id_type": petitioner.id_type,
                "sms_opt_out": petitioner.sms_opt_out,
                **{n: getattr(petitioner, n) for n in self.TEXT_FIELDS if n != "name"},
            },
        )
        super().__init__(*args, **kwargs)
        self.petitioner = petitioner
        # The numbers are never put into the page: the masked ones are shown as placeholders.
        self.fields["id_number"].widget.attrs.update(
            {
                "placeholder": petitioner.id_number_masked,
                "autocomplete": "off",
                "spellcheck": "false",
            }
        )
        self.fields["phone"].widget.attrs.update(
            {"placeholder": petitioner.phone_masked, "autocomplete": "off"}
        )

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the file (numbers only when typed)."""
        d = self.cleaned_data
        p = self.petitioner
        changes: dict[str, Any] = {}
        for name in (*self.TEXT_FIELDS, "sex", "birth_date"):
            value = d.get(name)
            if (value or "") != (getattr(p, name) or ""):
                changes[name] = value
        if (d.get("id_number") or "").strip() or d.get("id_type") != p.id_type:
            changes["id_type"] = d.get("id_type")
            if (d.get("id_number") or "").strip():
                changes["id_number"] = d["id_number"]
        if (d.get("phone") or "").strip():
            changes["phone"] = d["phone"]
        if bool(d.get("sms_opt_out")) != p.sms_opt_out:
            changes["sms_opt_out"] = bool(d.get("sms_opt_out"))
        return changes
