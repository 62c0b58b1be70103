"""Forms of the staff case pages: the case list filter and adding an attachment."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.listing import FastSelect
from core.models import Center, User
from core.selectors import centers_visible_to

from .models import AttachmentKind, Case, Channel, ContentCategory, Purpose
from .states import CaseState

OPEN = "open"
OVERDUE = "overdue"
YES, NO = "yes", "no"
FLAG_CHOICES = [("", _("Any")), (YES, _("Yes")), (NO, _("No"))]
FLAG_FIELDS = {
    "is_group": _("Group visit"),
    "is_major_urgent": _("Major and urgent"),
    "is_safety_risk": _("Safety risk"),
    "is_law_related": _("Law/litigation-related"),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the active time zone (Beijing), as an aware datetime, so that the
    range is a plain comparison on registered_at and can use the (center, -registered_at) index."""
    return timezone.make_aware(datetime.combine(day, time.min))


class CaseFilterForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"),
        required=False,
        max_length=32,
        help_text=_("The full number or its beginning."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )
    state = forms.ChoiceField(label=_("State"), required=False, widget=FastSelect)
    center = forms.ModelChoiceField(
        label=_("Center"),
        queryset=Center.objects.none(),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.all(),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )
    purpose = forms.ModelChoiceField(
        label=_("Purpose"),
        queryset=Purpose.objects.all(),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )
    category = forms.ModelChoiceField(
        label=_("Content category"),
        # __str__ shows "parent / child": select the parent so the options render in one query.
        queryset=ContentCategory.objects.select_related("parent").order_by(
            "parent__sort_order", "parent__code", "sort_order", "code"
        ),
        required=False,
        empty_label=_("Any"),
        widget=FastSelect,
    )
    registered_from = forms.DateField(
        label=_("Registered from"), required=False, widget=DateInput()
    )
    registered_to = forms.DateField(label=_("Registered until"), required=False, widget=DateInput())
    is_group = forms.ChoiceField(
        label=FLAG_FIELDS["is_group"], choices=FLAG_CHOICES, required=False, widget=FastSelect
    )
    is_major_urgent = forms.ChoiceField(
        label=FLAG_FIELDS["is_major_urgent"],
        choices=FLAG_CHOICES,
        required=False,
        widget=FastSelect,
    )
    is_safety_risk = forms.ChoiceField(
        label=FLAG_FIELDS["is_safety_risk"], choices=FLAG_CHOICES, required=False, widget=FastSelect
    )
    is_law_related = forms.ChoiceField(
        label=FLAG_FIELDS["is_law_related"], choices=FLAG_CHOICES, required=False, widget=FastSelect
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only centers the user may see are offered (and accepted).
        center_field = self.fields["center"]
        assert isinstance(center_field, forms.ModelChoiceField)
        center_field.queryset = centers_visible_to(user).order_by("path")
        state_field = self.fields["state"]
        assert isinstance(state_field, forms.ChoiceField)
        state_field.choices = [
            ("", _("Any")),
            (OPEN, _("Any open state")),
            (OVERDUE, _("Open and overdue")),
            *CaseState.choices,
        ]

    def clean_number(self) -> str:
        return "".join(str(self.cleaned_data.get("number") or "").split()).upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("registered_from"), cleaned.get("registered_to")
        if start and end and end < start:
            self.add_error("registered_to", _("The end date is before the start date."))
        return cleaned

    def filter(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """Apply the valid filters to ``qs``; an invalid one is reported on the form, not applied."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data keeps the fields that are valid
            data = self.cleaned_data
        if number := data.get("number"):
            # Exact number is the unique index; a prefix is a LIKE 'x%' on the same column.
            qs = qs.filter(number__startswith=number)
        state = data.get("state")
        if state == OPEN:
            qs = qs.filter(state__in=CaseState.open_states())
        elif state == OVERDUE:
            qs = qs.filter(state__in=CaseState.open_states(), next_due_at__lt=timezone.now())
        elif state:
            qs = qs.filter(state=state)
        if center := data.get("center"):
            qs = qs.filter(center=center)
        if channel := data.get("channel"):
            qs = qs.filter(channel=channel)
        if purpose := data.get("purpose"):
            qs = qs.filter(purpose=purpose)
        if category := data.get("category"):
            # A top-level category stands for itself and everything under it.
            qs = qs.filter(Q(category=category) | Q(category__parent=category))
        if start := data.get("registered_from"):
            qs = qs.filter(registered_at__gte=_start_of_day(start))
        if end := data.get("registered_to"):
            qs = qs.filter(registered_at__lt=_start_of_day(end + timedelta(days=1)))
        for flag in FLAG_FIELDS:
            value = data.get(flag)
            if value in (YES, NO):
                qs = qs.filter(**{flag: value == YES})
        return qs

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            self.data.get(name) for name in self.fields if name in self.data
        )


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=AttachmentKind.choices, initial=AttachmentKind.OTHER
    )
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "attachment")
        super().__init__(*args, **kwargs)
