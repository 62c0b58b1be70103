"""Judicial aid forms (司法救助): the pages' input. The services check everything again; these
give the browser its fields and the first errors."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Department, DepartmentKind
from petitions.models import Petitioner

from .models import AidCircumstance, AidState, EligibilityAnswer, EligibilityQuestion


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _key() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class VersionForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _person_label(person: Petitioner) -> str:
    return person.name


def _department_label(department: Department) -> str:
    return f"{department.center.name} · {department.name}"


class ApplyForm(VersionForm):
    applicant = forms.ModelChoiceField(queryset=Petitioner.objects.none(), label=_("applicant"))
    circumstance = forms.ChoiceField(choices=AidCircumstance.choices, label=_("circumstances"))
    circumstances = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label=_("account of the circumstances")
    )
    requested_amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0.01, label=_("amount requested (yuan)")
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), label=_("deciding organ")
    )
    evidence = MultipleFileField(
        required=False,
        label=_("Evidence (the judgment, proof of hardship)"),
    )
    submission_key = _key()

    def __init__(
        self,
        *args: Any,
        applicants: list[Petitioner],
        departments: list[Department],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        applicant = self.fields["applicant"]
        department = self.fields["department"]
        assert isinstance(applicant, forms.ModelChoiceField)
        assert isinstance(department, forms.ModelChoiceField)
        applicant.queryset = Petitioner.objects.filter(pk__in=[p.pk for p in applicants])
        applicant.label_from_instance = _person_label  # type: ignore[method-assign,assignment]
        department.queryset = Department.objects.filter(
            pk__in=[d.pk for d in departments]
        ).select_related("center")
        department.label_from_instance = _department_label  # type: ignore[method-assign,assignment]
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)
            if applicants:
                self.initial.setdefault("applicant", applicants[0].pk)
            if departments:
                self.initial.setdefault("department", departments[0].pk)


class EligibilityForm(VersionForm):
    """One answer and reason per active question (fields ``answer_<id>`` / ``reason_<id>``);
    a question left without an answer is not sent."""

    def __init__(self, *args: Any, questions: list[EligibilityQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        choices = [("", "—"), *EligibilityAnswer.choices]
        for q in questions:
            self.fields[f"answer_{q.pk}"] = forms.ChoiceField(
                choices=choices, required=False, label=q.text
            )
            self.fields[f"reason_{q.pk}"] = forms.CharField(
                required=False, label=_("reason"), max_length=2000
            )

    def rows(self) -> list[tuple[EligibilityQuestion, Any, Any]]:
        return [(q, self[f"answer_{q.pk}"], self[f"reason_{q.pk}"]) for q in self.questions]

    def answers(self) -> list[dict[str, Any]]:
        out = []
        for q in self.questions:
            answer = self.cleaned_data.get(f"answer_{q.pk}") or ""
            reason = self.cleaned_data.get(f"reason_{q.pk}") or ""
            if answer or reason:
                out.append({"question": q.pk, "answer": answer, "reason": reason})
        return out


DECISIONS = [("grant", _("Grant")), ("refuse", _("Refuse"))]


class DecideForm(VersionForm):
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect, label=_("decision"))
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        label=_("amount granted (yuan)"),
    )
    reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("reasons")
    )


class ApproveForm(VersionForm):
    approve = forms.TypedChoiceField(
        choices=[("yes", _("Approve")), ("no", _("Refuse"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label=_("leader's decision"),
    )
    reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("reasons")
    )


class PayForm(VersionForm):
    paid_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("paid on"))
    method = forms.CharField(max_length=40, label=_("payment method"))
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label=_("amount paid (yuan)"))
    voucher = forms.FileField(label=_("voucher"))


class LedgerFilterForm(forms.Form):
    since = forms.DateField(
        required=False, label=_("applied from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=_("applied until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    organ = forms.ChoiceField(
        required=False,
        label=_("deciding organ"),
        choices=[
            ("", "—"),
            *[(k, label) for k, label in DepartmentKind.choices if k != DepartmentKind.OTHER],
        ],
    )
    state = forms.ChoiceField(
        required=False, label=_("state"), choices=[("", "—"), *AidState.choices]
    )
