"""Forms of the screening queue, the screening page, the inbox and the assignment page.

They validate input for routing.services and offer only lawful choices (departments of the case's
center, active centers of the province); the services check everything again. Every decision form
carries the case version it was rendered from (``expected_version``), so a decision taken on a page
someone else has since changed is refused (StaleState) instead of applied to a case nobody saw.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clocks.deadlines import CHINA_TZ, END_OF_DAY
from core.listing import FastSelect
from core.models import Center, Department
from petitions.models import AttachmentKind, Case, Channel, ContentCategory, Organ

from .models import AssignmentRole
from .selectors import QUEUE_FLAGS, case_departments, transfer_targets
from .services import DepartmentDue

DEFAULT_HANDLING_DAYS = 60  # Art 34: sixty days to finish once accepted


def beijing_today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def default_due_date() -> date:
    return beijing_today() + timedelta(days=DEFAULT_HANDLING_DAYS)


def end_of_day(day: date) -> datetime:
    """A due date falls due at the end of its day in Beijing, as statutory clocks do
    (clocks.deadlines), so "due 3 May" means the whole of 3 May."""
    return datetime.combine(day, END_OF_DAY, tzinfo=CHINA_TZ)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DueDateField(forms.DateField):
    """A due date that is not in the past (Beijing days)."""

    widget = DateInput

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and value < beijing_today():
            raise ValidationError(_("The due date must be in the future."), code="past")


class DepartmentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Department)
        return obj.name  # the center is the case's own; Department.__str__ would query it per row


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Department)
        return obj.name


class CenterChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Center)
        return f"{obj.name} ({obj.get_level_display()})"


class VersionedForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["expected_version"].initial = case.version


def _reason_field(label: Any = None, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- screening decisions ------------------------------------------------------------------------------


class AssignForm(VersionedForm):
    """交办: one lead department and optional assisting departments, each with its own due date."""

    # An explicit empty choice: without a routing suggestion nothing is preselected, so the lead
    # is always a decision, never the first department in the list by accident.
    lead = DepartmentChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.none(),
        empty_label=_("Choose a department"),
    )
    lead_due = DueDateField(label=_("Lead department due date"))
    assisting = DepartmentMultipleChoiceField(
        label=_("Assisting departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, case: Case, suggested: Department | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, case=case, **kwargs)
        departments = case_departments(case)
        self.departments: list[Department] = list(departments)
        lead = self.fields["lead"]
        assisting = self.fields["assisting"]
        assert isinstance(lead, forms.ModelChoiceField)
        assert isinstance(assisting, forms.ModelMultipleChoiceField)
        lead.queryset = departments
        assisting.queryset = departments
        if suggested is not None:
            lead.initial = suggested.pk
        default = default_due_date()
        self.fields["lead_due"].initial = default
        for department in self.departments:
            self.fields[self.due_field_name(department.pk)] = DueDateField(
                label=_("Due date for %(department)s") % {"department": department.name},
                required=False,
                initial=default,
            )
        lead.widget.attrs["autofocus"] = True

    @staticmethod
    def due_field_name(department_pk: int | str) -> str:
        return f"assisting_due_{department_pk}"

    def assist_rows(self) -> list[tuple[Any, forms.BoundField]]:
        """(checkbox, its due date field) per department, for the template."""
        rows = []
        for widget in self["assisting"]:
            value = widget.data["value"]
            pk = getattr(value, "value", value)
            rows.append((widget, self[self.due_field_name(pk)]))
        return rows

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lead = cleaned.get("lead")
        assisting = list(cleaned.get("assisting") or [])
        if lead is not None and lead in assisting:
            self.add_error("assisting", _("The lead department cannot also assist."))
        for department in assisting:
            name = self.due_field_name(department.pk)
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("Give each assisting department a due date."))
        return cleaned

    def targets(self) -> tuple[DepartmentDue, list[DepartmentDue]]:
        data = self.cleaned_data
        lead = DepartmentDue(department=data["lead"], due_at=end_of_day(data["lead_due"]))
        assisting = [
            DepartmentDue(
                department=department,
                due_at=end_of_day(data[self.due_field_name(department.pk)]),
            )
            for department in data.get("assisting") or []
        ]
        return lead, assisting

    # Service errors come back keyed "lead", "lead_due", "assisting", "assisting_due".
    service_error_fields = {"assisting_due": "assisting"}


class ReassignForm(AssignForm):
    reason = _reason_field(_("Reason for reassignment"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reassign")
        super().__init__(*args, **kwargs)
        self.fields.pop("instructions")  # the reason is the new assignment's instruction


class NotAcceptForm(VersionedForm):
    reason = _reason_field(_("Reason for not accepting"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "not_accept")
        super().__init__(*args, **kwargs)


class ReferOutForm(VersionedForm):
    competent_organ = forms.CharField(label=_("Competent organ"), max_length=100)
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "refer")
        super().__init__(*args, **kwargs)


PROCEDURE_SUGGESTIONS = [
    _("Trial supervision (retrial application)"),
    _("Enforcement procedure"),
    _("Procuratorial supervision"),
    _("Administrative reconsideration"),
    _("State compensation"),
    _("Criminal complaint (filing a case)"),
]


class LegalProcedureForm(VersionedForm):
    """诉访分离: the matter goes into the organ's legal procedure and that procedure's clocks."""

    organ = forms.CharField(label=_("Organ"), max_length=100)
    procedure = forms.CharField(label=_("Legal procedure"), max_length=100)
    legal_case_number = forms.CharField(label=_("Legal case number"), max_length=60)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "legal")
        super().__init__(*args, **kwargs)
        self.fields["organ"].widget.attrs["list"] = "organ-suggestions"
        self.fields["procedure"].widget.attrs["list"] = "procedure-suggestions"
        if self.case.organ_id and self.case.organ is not None:
            self.fields["organ"].initial = self.case.organ.name
        self.fields["legal_case_number"].initial = self.case.legal_case_number

    @staticmethod
    def organ_suggestions() -> list[str]:
        return list(Organ.objects.filter(is_active=True).values_list("name", flat=True))

    @staticmethod
    def procedure_suggestions() -> list[str]:
        return [str(p) for p in PROCEDURE_SUGGESTIONS]


class TransferForm(VersionedForm):
    """转办 to another center of the province; the centers below this one are listed first."""

    to_center = CenterChoiceField(label=_("Transfer to"), queryset=Center.objects.none())
    reason = _reason_field(_("Reason for transfer"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "transfer")
        super().__init__(*args, **kwargs)
        field = self.fields["to_center"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = transfer_targets(self.case)


class ConfirmReturnForm(VersionedForm):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "confirm")
        super().__init__(*args, **kwargs)


# --- receiving side -----------------------------------------------------------------------------------


class ReturnForm(forms.Form):
    reason = _reason_field(_("Reason for returning (objection)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "return")
        super().__init__(*args, **kwargs)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Progress note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    shared_with_center = forms.BooleanField(
        label=_("Share with the center"),
        required=False,
        help_text=_("Unshared notes are seen only by your department."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "note")
        super().__init__(*args, **kwargs)


class ContributionForm(forms.Form):
    text = forms.CharField(
        label=_("Contribution"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What your department found or did; the lead department uses it in the reply."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "contribution")
        super().__init__(*args, **kwargs)


class AssignmentAttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=AttachmentKind.choices, initial=AttachmentKind.OTHER
    )
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "attachment")
        super().__init__(*args, **kwargs)


# --- list filters -------------------------------------------------------------------------------------


def _category_field() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(
        label=_("Content category"),
        # __str__ shows "parent / child": select the parent so the options render in one query.
        queryset=ContentCategory.objects.select_related("parent").order_by(
            "parent__sort_order", "parent__code", "sort_order", "code"
        ),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )


QUEUE_FLAG_LABELS = {
    "group": _("Group visit"),
    "major_urgent": _("Major and urgent"),
    "safety_risk": _("Safety risk"),
    "skip_level": _("Skip-level"),
    "repeat": _("Repeat visits"),
}
assert set(QUEUE_FLAG_LABELS) == set(QUEUE_FLAGS)


class QueueFilterForm(forms.Form):
    category = _category_field()
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.filter(is_active=True),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )
    flags = forms.MultipleChoiceField(
        label=_("Only cases flagged"),
        choices=list(QUEUE_FLAG_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.attrs["autofocus"] = True


class InboxFilterForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("", _("Any")), *AssignmentRole.choices],
        required=False,
        widget=FastSelect,
    )
    category = _category_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.attrs["autofocus"] = True
