"""Forms of the score sheet pages (评查评分表): one row per item, a formset for the sheet.

They check the shape and the sheet's sums so the page can put each message next to its row;
campaigns.services.review.replace_score_items checks the same rules again and is the one that
writes. A row left empty (no item behind it, no criterion, no points) is ignored: the page shows a
blank row per section to add an item without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ScoreSection
from .services.review import SHEET_TOTAL

SECTION_ORDER = {value: n for n, value in enumerate(ScoreSection.values)}


class SheetCopyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the new sheet"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("Empty: the center's name followed by the copied sheet's name."),
    )
    source = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ScoreItemForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    section = forms.ChoiceField(label=gettext_lazy("Section"), choices=ScoreSection.choices)
    criterion = forms.CharField(
        label=gettext_lazy("Criterion"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    points = forms.IntegerField(
        label=gettext_lazy("Points"),
        required=False,
        min_value=1,
        max_value=SHEET_TOTAL,
        error_messages={
            "invalid": gettext_lazy("Points must be a whole number of at least 1."),
            "min_value": gettext_lazy("Points must be a whole number of at least 1."),
            "max_value": gettext_lazy("Points cannot exceed %(limit_value)s."),
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": SHEET_TOTAL, "class": "points"}),
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("id") and not data.get("criterion") and data.get("points") is None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() or data.get("DELETE"):
            return data
        if not (data.get("criterion") or "").strip() and "criterion" not in self.errors:
            self.add_error("criterion", _("Write the criterion."))
        if data.get("points") is None and "points" not in self.errors:
            self.add_error("points", _("Points must be a whole number of at least 1."))
        return data


class BaseScoreItemFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[ScoreItemForm]:
        """The rows that stay on the sheet: neither deleted nor left blank."""
        kept = []
        for form in self.forms:
            assert isinstance(form, ScoreItemForm)
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or form.is_blank():
                continue
            kept.append(form)
        return kept

    def clean(self) -> None:
        if any(self.errors):
            return
        kept = self.kept_forms()
        if not kept:
            raise forms.ValidationError(_("A score sheet needs at least one item."))
        total = sum(f.cleaned_data["points"] for f in kept)
        if total != SHEET_TOTAL:
            raise forms.ValidationError(
                _("The items total %(total)d points; they must total %(want)d.")
                % {"total": total, "want": SHEET_TOTAL}
            )

    def items(self) -> list[dict[str, Any]]:
        """What replace_score_items takes: the kept rows, grouped by section in the sheet's
        order (a row moved to another section joins it at its end), in page order within one."""
        kept = sorted(
            enumerate(self.kept_forms()),
            key=lambda pair: (SECTION_ORDER[pair[1].cleaned_data["section"]], pair[0]),
        )
        return [
            {
                "id": form.cleaned_data.get("id") or None,
                "section": form.cleaned_data["section"],
                "criterion": form.cleaned_data["criterion"].strip(),
                "points": form.cleaned_data["points"],
            }
            for _n, form in kept
        ]


ScoreItemFormSet = forms.formset_factory(
    ScoreItemForm,
    formset=BaseScoreItemFormSet,
    extra=0,
    can_delete=True,
    max_num=200,
    absolute_max=200,
    validate_max=True,
)
