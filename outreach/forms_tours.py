"""Forms of the 带案巡视 pages. They check the shape of the input and offer the choices the actor
has; outreach.services.tours checks the rest (roles, scope, dates) and answers with field errors
of the same names."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import CampaignState, Matter
from campaigns.selectors import matters_visible_to
from clocks.deadlines import CHINA_TZ
from core.models import Center, Department, User
from core.orgcache import subtree_ids
from core.roles import Role
from petitions.models import Case
from petitions.selectors import cases_visible_to

from .models import Tour, TourCase

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _key() -> str:
    return uuid.uuid4().hex


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.username)


class UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name or obj.username)


class MatterChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.case.number} · {obj.campaign.name}"


def _case_numbers(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,，;；、]+", text or "") if n]


def _cases_by_number(actor: User, text: str) -> tuple[list[Case], list[str]]:
    numbers = _case_numbers(text)
    found = {c.number: c for c in cases_visible_to(actor).filter(number__in=numbers)}
    return [found[n] for n in numbers if n in found], [n for n in numbers if n not in found]


class CasePickMixin(forms.Form):
    """Cases by number (any separator), and matters of running campaigns below the actor."""

    case_numbers = forms.CharField(
        label=_("Case numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Open cases of the center visited or of the centers below it, one per line."),
    )

    def _setup_matters(self, actor: User, below: list[int]) -> None:
        self.actor = actor
        self.fields["matters"] = MatterChoice(
            label=_("From a campaign's backlog (积案)"),
            required=False,
            queryset=matters_visible_to(actor)
            .filter(campaign__state=CampaignState.OPEN, case__center_id__in=below)
            .select_related("case", "campaign")
            .order_by("campaign_id", "case__number"),
            widget=forms.CheckboxSelectMultiple,
        )

    def clean_case_numbers(self) -> list[Case]:
        cases, unknown = _cases_by_number(self.actor, self.cleaned_data.get("case_numbers", ""))
        if unknown:
            raise forms.ValidationError(
                _("No such case: %(numbers)s") % {"numbers": ", ".join(unknown)}
            )
        return cases


class TourForm(CasePickMixin):
    title = forms.CharField(label=_("title"), max_length=120, required=False)
    target_center = forms.ModelChoiceField(
        label=_("center visited"), queryset=Center.objects.none()
    )
    starts_on = forms.DateField(label=_("starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("ends on"), widget=DATE)
    leader = UserChoice(label=_("tour leader"), queryset=User.objects.none())
    members = UsersChoice(
        label=_("members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = [
        "title",
        "target_center",
        "starts_on",
        "ends_on",
        "leader",
        "members",
        "case_numbers",
        "matters",
    ]

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        center = actor.center
        below = [pk for pk in subtree_ids(center) if pk != center.pk] if center else []
        self.fields["target_center"].queryset = Center.objects.filter(pk__in=below).order_by("path")  # type: ignore[attr-defined]
        staff = User.objects.filter(center=center, is_active=True).order_by("pk")
        self.fields["leader"].queryset = staff.filter(roles__role=Role.LEADER).distinct()  # type: ignore[attr-defined]
        self.fields["members"].queryset = staff  # type: ignore[attr-defined]
        self._setup_matters(actor, below)
        self.order_fields(self.field_order)
        if not self.is_bound:
            self.initial.setdefault("submission_key", _key())

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d.get("title") or "",
            "target_center": d["target_center"],
            "starts_on": d["starts_on"],
            "ends_on": d["ends_on"],
            "leader": d["leader"],
            "members": list(d.get("members") or []),
            "cases": d.get("case_numbers") or [],
            "matters": list(d.get("matters") or []),
            "submission_key": d.get("submission_key") or "",
        }


class AddCasesForm(CasePickMixin):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: User, tour: Tour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup_matters(actor, subtree_ids(tour.target_center))


class VersionForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _carried_choices(tour: Tour) -> list[tuple[int, str]]:
    return [
        (tc.case_id, f"{tc.case.number} · {tc.case.main_petitioner.name}")
        for tc in TourCase.objects.filter(tour=tour).select_related("case__main_petitioner")
    ]


def _now_local() -> datetime:
    return timezone.now().astimezone(CHINA_TZ).replace(second=0, microsecond=0, tzinfo=None)


class ReceptionForm(forms.Form):
    case = forms.TypedChoiceField(label=_("Case"), coerce=int)
    at = forms.DateTimeField(label=_("time"), widget=DATETIME)
    headcount = forms.IntegerField(label=_("headcount"), min_value=1, initial=1)
    notes = forms.CharField(
        label=_("What the petitioner said and what was answered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, tour: Tour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = _carried_choices(tour)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("submission_key", _key())
            self.initial.setdefault("at", _now_local())


class MeetingForm(forms.Form):
    case = forms.TypedChoiceField(label=_("Case"), coerce=int)
    held_at = forms.DateTimeField(label=_("held at"), widget=DATETIME)
    departments = forms.ModelMultipleChoiceField(
        label=_("Organs present"),
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    participants = forms.CharField(label=_("participants"), required=False)
    decisions = forms.CharField(
        label=_("decisions"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, tour: Tour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = _carried_choices(tour)  # type: ignore[attr-defined]
        self.fields["departments"].queryset = (  # type: ignore[attr-defined]
            Department.objects.filter(center_id__in=subtree_ids(tour.target_center), is_active=True)
            .select_related("center")
            .order_by("center__path", "pk")
        )
        self.fields["departments"].label_from_instance = lambda d: f"{d.center.name} · {d.name}"  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("held_at", _now_local())


class FindingForm(forms.Form):
    findings = forms.CharField(
        label=_("found"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    decision = forms.CharField(
        label=_("decided"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    instruction = forms.CharField(
        label=_("instruction"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    instruction_due = forms.DateField(label=_("instruction due"), widget=DATE, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReportForm(forms.Form):
    summary = forms.CharField(
        label=_("overall findings"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


__all__ = [
    "AddCasesForm",
    "FindingForm",
    "Matter",
    "MeetingForm",
    "ReceptionForm",
    "ReportForm",
    "TourForm",
    "VersionForm",
]
