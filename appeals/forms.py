"""Forms of the appeals pages. They check the shape of the input; the services check the rest."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Department, User
from petitions.models import Case

from .models import RequestChannel, ReviewDecision, ReviewKind

TEXT_MAX = 20_000


class _CaseForm(forms.Form):
    """Carries the case version the page was rendered from (optimistic check) and a submission
    key (a double-clicked submit is recorded once)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["expected_version"].initial = case.version
        self.fields["submission_key"].initial = secrets.token_urlsafe(24)


def _text(label: Any, rows: int = 4, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReviewRequestForm(_CaseForm):
    kind = forms.ChoiceField(
        label=_("Kind of request"), choices=ReviewKind.choices, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(
        label=_("How it was received"),
        choices=RequestChannel.choices,
        initial=RequestChannel.IN_PERSON,
    )
    reason = _text(_("Why the petitioner is dissatisfied"))


class ReviewDecisionForm(_CaseForm):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    answer = _text(_("Written answer to the petitioner"), rows=8)


class TerminationProposalForm(_CaseForm):
    grounds = _text(_("Grounds: why the legal procedures are exhausted"), rows=6)
    support_unit = forms.ModelChoiceField(
        label=_("Unit responsible for support afterwards"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("The proposing department"),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        field = self.fields["support_unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(center_id=case.center_id, is_active=True)


class TerminationDecisionForm(_CaseForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Agree to the proposal")),
            ("reject", _("Do not agree to the proposal")),
        ],
        widget=forms.RadioSelect,
    )
    opinion = _text(_("Opinion (required when not approving)"), rows=3, required=False)


class TerminationApprovalForm(TerminationDecisionForm):
    """Provincial approval. Approving needs the approving body and the date of approval (the
    service refuses without them), so both are required, marked so and prefilled: the approver's
    center and today. Refusing needs neither, only the opinion."""

    approving_body = forms.CharField(label=_("Approving body"), max_length=100)
    approval_date = forms.DateField(
        label=_("Date of approval"),
        # ISO, whatever the language: an <input type=date> shows nothing for "2026/10/09".
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, case: Case, approver: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["approval_date"].initial = timezone.localdate()
        center = approver.center if approver is not None else None
        if center is not None:
            self.fields["approving_body"].initial = center.name
        if self.is_bound and self.data.get("decision") == "reject":
            for name in ("approving_body", "approval_date"):
                self.fields[name].required = False


class ForwardedOutcomeForm(_CaseForm):
    """The outcome of a re-review forwarded upward (Art 36), as received from the organ above:
    recorded by the province center that forwarded it."""

    decision = forms.ChoiceField(
        label=_("Decision received"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    answer = _text(_("The re-review opinion received (its text or summary)"), rows=6)
    outcome_date = forms.DateField(
        label=_("Date of the decision received"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    document_number = forms.CharField(label=_("Its document number"), max_length=40)
