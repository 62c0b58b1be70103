"""Forms of the reply, evaluation, return-visit and closure pages. They check the shape of the
input; closure.services checks everything that depends on the case. Every case form carries the
case version it was rendered from (``expected_version``): a form from before someone else's
change is refused (StaleState) instead of applied to a case nobody saw."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from petitions.models import Case
from routing.forms import DateInput

from .models import (
    AgreementKind,
    Correction,
    DeliveryMethod,
    EvaluationChannel,
    Rating,
    ReexaminationOutcome,
    ReplyDecision,
    ReturnVisitMethod,
)

TEXTAREA = {"rows": 5}


class VersionedForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, case: Case | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case is not None and not self.is_bound:
            self.fields["expected_version"].initial = case.version


class ReplyForm(VersionedForm):
    request_summary = forms.CharField(
        label=_("The petitioner's request"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    facts_reasons = forms.CharField(
        label=_("Facts and reasons"),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("State the facts and reasons (Art 32).")},
        max_length=20000,
        help_text=_(
            "Printed for the petitioner. The assisting departments' contributions beside the "
            "draft are internal and are not printed."
        ),
    )
    decision = forms.ChoiceField(
        label=_("Handling decision"), choices=ReplyDecision.choices, widget=forms.RadioSelect
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _(
                "State the legal basis of the decision: laws, regulations or rules (Art 32)."
            )
        },
        max_length=5000,
        help_text=_("Laws, regulations or rules the decision rests on (Art 32). Required."),
    )
    review_route = forms.CharField(
        label=_("Route and time limit for review"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class SendBackForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for sending back"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ApproveForm(VersionedForm):
    pass


class ReissueLinkForm(VersionedForm):
    pass


class DeliveryForm(VersionedForm):
    method = forms.ChoiceField(
        label=_("Delivery method"), choices=DeliveryMethod.choices, widget=forms.RadioSelect
    )
    signed = forms.TypedChoiceField(
        label=_("Signed for"),
        choices=[("yes", _("Signed for")), ("no", _("Refused to sign"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    delivered_on = forms.DateField(label=_("Delivered on"), widget=DateInput, required=False)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class VerdictFields(forms.Form):
    center_rating = forms.ChoiceField(
        label=_("Rating of the center"), choices=Rating.choices, widget=forms.RadioSelect
    )
    department_rating = forms.ChoiceField(
        label=_("Rating of the department"), choices=Rating.choices, widget=forms.RadioSelect
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text=_("Required when dissatisfied."),
    )


class PublicEvaluationForm(VerdictFields):
    pass


class EvaluationForm(VersionedForm, VerdictFields):
    channel = forms.ChoiceField(
        label=_("Given"),
        choices=[
            (EvaluationChannel.DESK.value, EvaluationChannel.DESK.label),
            (EvaluationChannel.PHONE.value, EvaluationChannel.PHONE.label),
        ],
        widget=forms.RadioSelect,
    )
    given_by = forms.CharField(
        label=_("Given by (if not the petitioner)"), required=False, max_length=50
    )

    field_order = ["center_rating", "department_rating", "reasons", "channel", "given_by"]


class ScheduleVisitForm(VersionedForm):
    scheduled_for = forms.DateField(label=_("Scheduled for"), widget=DateInput)


class RecordVisitForm(VersionedForm):
    """A visit is dated when it is recorded (no date field). The new ratings are offered only to
    the center (``with_verdict``): the department being rated records its visit without them."""

    visit = forms.IntegerField(widget=forms.HiddenInput, required=False)
    visitors = forms.CharField(label=_("Who visited"), required=False, max_length=100)
    method = forms.ChoiceField(
        label=_("How"), choices=ReturnVisitMethod.choices, widget=forms.RadioSelect
    )
    outcome = forms.CharField(
        label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    center_rating = forms.ChoiceField(
        label=_("New rating of the center (if given)"),
        choices=[("", "—"), *Rating.choices],
        required=False,
    )
    department_rating = forms.ChoiceField(
        label=_("New rating of the department (if given)"),
        choices=[("", "—"), *Rating.choices],
        required=False,
    )

    def __init__(self, *args: Any, with_verdict: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_verdict:
            del self.fields["center_rating"]
            del self.fields["department_rating"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("center_rating")) != bool(data.get("department_rating")):
            raise forms.ValidationError(_("Give both new ratings, or neither."))
        return data


class CloseForm(VersionedForm):
    note = forms.CharField(
        label=_("Closing note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class AgreementForm(VersionedForm):
    kind = forms.ChoiceField(label=_("Agreement"), choices=AgreementKind.choices)
    agreement = forms.FileField(label=_("Signed agreement"))
    note = forms.CharField(
        label=_("Summary of the agreement"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class ArchiveForm(VersionedForm):
    override_reason = forms.CharField(
        label=_("Reason for archiving without a satisfied evaluation (supervisor)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,  # the service says what is missing, with the rule (a 409 message)
        max_length=2000,
    )

    def __init__(
        self,
        *args: Any,
        case: Case | None = None,
        needs_override: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """The override (a supervisor's reason for archiving without a satisfied evaluation) is
        offered only where the rule applies (services.archive_needs_override):
        never on a case rated satisfied or basically satisfied."""
        super().__init__(*args, case=case, **kwargs)
        if needs_override is None and case is not None:
            from .services import archive_needs_override

            needs_override = archive_needs_override(case)
        if not needs_override:
            del self.fields["override_reason"]


class ReopenForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for reopening"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ReexaminationForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=ReexaminationOutcome.choices, widget=forms.RadioSelect
    )
    corrections = forms.MultipleChoiceField(
        label=_("Corrections made"),
        choices=Correction.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    note = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
