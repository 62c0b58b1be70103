"""Forms of the quality review pages (案件评查). They check the shape; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.models import Department, User

from .models import ScoreItem, ScoreSection
from .services.review import MAX_DRAW, OUTSIDE_REVIEWER_KINDS


class SampleForm(forms.Form):
    dissatisfied = forms.BooleanField(label=_("All cases rated dissatisfied"), required=False)
    repeat = forms.BooleanField(label=_("All repeat petitions"), required=False)
    per_department = forms.IntegerField(
        label=_("Cases per department"), required=False, min_value=1, max_value=MAX_DRAW
    )
    random = forms.IntegerField(
        label=_("Cases at random"), required=False, min_value=1, max_value=MAX_DRAW
    )
    registered_from = forms.DateField(
        label=_("Registered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the campaign's start."),
    )
    registered_to = forms.DateField(
        label=_("Registered until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the campaign's end."),
    )

    def rules(self) -> dict[str, Any]:
        data = self.cleaned_data
        rules: dict[str, Any] = {}
        for key in ("dissatisfied", "repeat"):
            if data.get(key):
                rules[key] = True
        for key in ("per_department", "random"):
            if data.get(key):
                rules[key] = data[key]
        for key in ("registered_from", "registered_to"):
            if data.get(key):
                rules[key] = data[key].isoformat()
        return rules


class ReviewersForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, choices: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewers"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = choices


class OutsideReviewerForm(forms.Form):
    full_name = forms.CharField(label=_("Name"), max_length=40)
    kind = forms.ChoiceField(label=_("Reviewer is a"), choices=list(OUTSIDE_REVIEWER_KINDS.items()))
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Give it to the reviewer in person; it is not shown again."),
    )


class ScoreForm(forms.Form):
    """One points field (0 to the item's points) and one note per item, a comment, and the
    review's version when it is edited."""

    comment = forms.CharField(label=_("Overall comment"), required=False, widget=forms.Textarea)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, items: list[ScoreItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"points_{item.pk}"] = forms.IntegerField(
                label=item.criterion,
                min_value=0,
                max_value=item.points,
                widget=forms.NumberInput(attrs={"min": 0, "max": item.points, "step": 1}),
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"), required=False, max_length=1000
            )

    def sections(self) -> list[dict[str, Any]]:
        """The items grouped by section, in sheet order, with their bound fields."""
        labels = dict(ScoreSection.choices)
        grouped: list[dict[str, Any]] = []
        for n, item in enumerate(self.items, start=1):
            if not grouped or grouped[-1]["key"] != item.section:
                grouped.append(
                    {"key": item.section, "label": labels.get(item.section), "rows": [], "max": 0}
                )
            grouped[-1]["rows"].append(
                {
                    "n": n,
                    "item": item,
                    "points": self[f"points_{item.pk}"],
                    "note": self[f"note_{item.pk}"],
                }
            )
            grouped[-1]["max"] += item.points
        return grouped

    def scores(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item.pk,
                "points": self.cleaned_data[f"points_{item.pk}"],
                "note": self.cleaned_data.get(f"note_{item.pk}") or "",
            }
            for item in self.items
        ]


class ObjectionForm(forms.Form):
    reasons = forms.CharField(label=_("Reasons for the objection"), widget=forms.Textarea)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Uphold the objection")), ("0", _("Reject the objection"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    adjusted_total = forms.IntegerField(
        label=_("Adjusted total (when upheld)"), required=False, min_value=0
    )
    note = forms.CharField(label=_("Reasons for the decision"), widget=forms.Textarea)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class FindingForm(forms.Form):
    finding = forms.CharField(label=_("Finding (责任倒查)"), widget=forms.Textarea)
    department = forms.ModelChoiceField(
        label=_("Department found responsible"), queryset=Department.objects.none(), required=False
    )
    measures = forms.CharField(label=_("Measures taken"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments


class BulletinForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea)
