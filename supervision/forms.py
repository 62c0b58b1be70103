"""Forms of the case supervision page (supervision.case_views).

They validate the shape of the input and offer only likely, lawful choices (departments with a part
in the case, leaders who can see it); supervision.services checks everything again and answers with
field errors of the same names, so a rule lives in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from petitions.models import Case
from routing.forms import (
    DepartmentChoiceField,
    DepartmentMultipleChoiceField,
    DueDateField,
    beijing_today,
    end_of_day,
)
from routing.selectors import case_departments

from .services import (
    MAX_EXTENSION_DAYS,
    finding_departments,
    finding_officers,
    order_departments,
)

DEFAULT_ORDER_DAYS = 15  # the seeded default for a supervision order's response (DeadlineRule)
DEFAULT_RESPONSIBILITY_DAYS = 30


def _text(label: Any, *, required: bool = True, rows: int = 3, max_length: int = 4000) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A staff member shown with their center (the queryset selects it: one query)."""

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, User)
        parts = [str(obj), obj.center.name if obj.center else ""]
        if obj.department is not None:
            parts.append(obj.department.name)
        return " · ".join(p for p in parts if p)


def _staff(qs: QuerySet[User]) -> QuerySet[User]:
    return (
        qs.filter(is_active=True)
        .select_related("center", "department")
        .distinct()
        .order_by("center_id", "full_name", "username")
    )


def leaders_for(case: Case, actor: User) -> QuerySet[User]:
    """Leaders who can see the case (its center or one above it) within the actor's centers."""
    above = [int(pk) for pk in case.center.path.strip("/").split("/") if pk.isdigit()]
    return _staff(
        User.objects.filter(
            roles__role=Role.LEADER,
            center_id__in=centers_visible_to(actor).filter(pk__in=above).values("pk"),
        )
    )


def department_staff_of(case: Case) -> QuerySet[User]:
    """Officers and heads of the case's center."""
    return _staff(
        User.objects.filter(
            center_id=case.center_id, roles__role__in=[Role.OFFICER, Role.HEAD]
        ).exclude(department=None)
    )


class CaseForm(forms.Form):
    """A form about one case, for one viewer (choices depend on both)."""

    def __init__(self, *args: Any, case: Case, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.actor = actor


# --- extensions ---------------------------------------------------------------------------------


class ExtensionRequestForm(CaseForm):
    days = forms.IntegerField(
        label=_("Days of extension"),
        min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        help_text=_("At most 30 days, once (Art 34)."),
    )
    reason = _text(_("Reason (the petitioner is told it)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "extension")
        super().__init__(*args, **kwargs)


class ExtensionDecisionForm(forms.Form):
    """The head's decision: the two submit buttons carry ``decision`` (approve / reject)."""

    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))],
        widget=forms.HiddenInput,
    )
    note = _text(_("Note (required when rejecting)"), required=False, rows=2)

    @property
    def approve(self) -> bool:
        return bool(self.cleaned_data["decision"] == self.APPROVE)


# --- supervision orders -------------------------------------------------------------------------


class SupervisionOrderForm(CaseForm):
    requirement = _text(_("Requirement"), rows=4)
    due = DueDateField(label=_("Written response due"))
    department = DepartmentChoiceField(
        label=_("Addressed to"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("The lead department (screening while the case is unassigned)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "order")
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = order_departments(self.case)
        self.fields["due"].initial = beijing_today() + timedelta(days=DEFAULT_ORDER_DAYS)

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.cleaned_data["due"])


class OrderResponseForm(forms.Form):
    response = _text(_("Written response"), rows=4)


class CloseOrderForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


# --- reminders ----------------------------------------------------------------------------------


class ReminderForm(CaseForm):
    message = _text(_("Reminder"), rows=2, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reminder")
        super().__init__(*args, **kwargs)


# --- leader responsibility ----------------------------------------------------------------------


class LeaderResponsibilityForm(CaseForm):
    leader = StaffChoiceField(label=_("Responsible leader"), queryset=User.objects.none())
    handler = StaffChoiceField(
        label=_("Handler"), queryset=User.objects.none(), required=False, empty_label=_("None")
    )
    due = DueDateField(label=_("Due"))
    target_result = _text(_("Target result"), rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "responsibility")
        super().__init__(*args, **kwargs)
        leader = self.fields["leader"]
        handler = self.fields["handler"]
        assert isinstance(leader, forms.ModelChoiceField)
        assert isinstance(handler, forms.ModelChoiceField)
        leader.queryset = leaders_for(self.case, self.actor)
        handler.queryset = department_staff_of(self.case)
        self.fields["due"].initial = beijing_today() + timedelta(days=DEFAULT_RESPONSIBILITY_DAYS)

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.cleaned_data["due"])


class ResolveResponsibilityForm(forms.Form):
    result = _text(_("Result reached"), rows=3)


# --- consultations, findings, bulletins ---------------------------------------------------------


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ConsultationForm(CaseForm):
    held_at = forms.DateTimeField(label=_("Held at"), widget=DateTimeLocalInput)
    departments = DepartmentMultipleChoiceField(
        label=_("Organs present"),
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    participants = _text(_("Participants"), required=False, rows=2)
    decisions = _text(_("Decisions"), rows=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "consultation")
        super().__init__(*args, **kwargs)
        field = self.fields["departments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = case_departments(self.case)
        self.fields["held_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class FindingForm(CaseForm):
    department = DepartmentChoiceField(
        label=_("Department found responsible"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    officer = StaffChoiceField(
        label=_("Officer found responsible"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    finding = _text(_("Finding"), rows=4)
    measures = _text(_("Measures taken"), required=False, rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "finding")
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        officer = self.fields["officer"]
        assert isinstance(department, forms.ModelChoiceField)
        assert isinstance(officer, forms.ModelChoiceField)
        # only those who had a part in the case (supervision.services.findings)
        department.queryset = finding_departments(self.case)
        officer.queryset = finding_officers(self.case)
        self.fields["department"].help_text = _("Name the department, the officer, or both.")


class BulletinForm(CaseForm):
    """A bulletin (通报) naming this case and units of its center."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = _text(_("Text"), rows=5, max_length=20000)
    departments = DepartmentMultipleChoiceField(
        label=_("Units named"),
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "bulletin")
        super().__init__(*args, **kwargs)
        field = self.fields["departments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = case_departments(self.case)
