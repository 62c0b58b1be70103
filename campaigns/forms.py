"""Forms of the campaign pages (campaigns.views).

They check the shape of the input and offer only likely choices (the viewer's centers, the
campaign's receivers and their staff); campaigns.services checks everything again and answers
with field errors of the same names, so a rule lives in one place. Targets are typed as
percentages and handed to the services as fractions ({"resolution_rate": 0.8}).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.models import Center, Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from petitions.models import Case
from petitions.selectors import cases_visible_to
from routing.forms import CenterChoiceField, DateInput, DueDateField

from .models import Campaign, CampaignKind, MatterOutcome

TARGET_KEYS = ("resolution_rate", "cessation_rate")
# Outcomes a progress entry may report; lawful termination comes from the case (appeals).
PROGRESS_OUTCOMES = [
    (MatterOutcome.IN_HAND.value, _("In hand")),
    (MatterOutcome.RESOLVED.value, _("Resolved")),
    (MatterOutcome.STALLED.value, _("Stalled")),
]


def _text(label: Any, *, required: bool = False, rows: int = 3, max_length: int = 4000) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _key() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


def _version() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A staff member shown with their center and department (selected with the queryset)."""

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, User)
        parts = [str(obj), obj.center.name if obj.center else ""]
        if obj.department is not None:
            parts.append(obj.department.name)
        return " · ".join(p for p in parts if p)


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Model) -> str:
        return StaffChoiceField.label_from_instance(self, obj)  # type: ignore[arg-type]


def staff(qs: QuerySet[User]) -> QuerySet[User]:
    return (
        qs.filter(is_active=True)
        .select_related("center", "department")
        .distinct()
        .order_by("center_id", "full_name", "username")
    )


def managed_centers(user: User) -> QuerySet[Center]:
    """Centers whose campaigns the user may open: their own and the ones below it."""
    return centers_visible_to(user).order_by("path")


class PercentField(forms.DecimalField):
    """A target typed as a percentage (80 → 0.8 in the targets)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=0, max_value=100, max_digits=5, decimal_places=1, **kwargs)


# --- the campaign ---------------------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=CampaignKind.choices)
    center = CenterChoiceField(label=_("Center"), queryset=Center.objects.none())
    include_subordinates = forms.BooleanField(
        label=_("Include the subordinate centers"), required=False
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on (deadline)"), widget=DateInput)
    group_leader = StaffChoiceField(
        label=_("Head of the leading group"), queryset=User.objects.none(), required=False
    )
    office = forms.CharField(label=_("Campaign office"), max_length=200, required=False)
    members = StaffMultipleChoiceField(
        label=_("Members of the leading group"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    resolution_target = PercentField(
        label=_("Target resolution rate (%)"), help_text=_("For example 80.")
    )
    cessation_target = PercentField(
        label=_("Target cessation rate (%)"), help_text=_("For example 60.")
    )
    progress_interval_days = forms.IntegerField(
        label=_("Progress report every (days)"), min_value=1, max_value=90, initial=7
    )
    observation_days = forms.IntegerField(
        label=_("Observation window for ceased petitioning (days)"),
        min_value=1,
        max_value=730,
        initial=90,
    )
    description = _text(_("Description"))
    submission_key = _key()
    expected_version = _version()

    def __init__(self, *args: Any, actor: User, campaign: Campaign | None = None, **kw: Any):
        if campaign is not None and "initial" not in kw:
            kw["initial"] = initial_for(campaign)
        super().__init__(*args, **kw)
        self.actor = actor
        self.campaign = campaign
        centers = managed_centers(actor)
        center_field = self.fields["center"]
        assert isinstance(center_field, forms.ModelChoiceField)
        center_field.queryset = centers
        people = staff(
            User.objects.filter(
                center__in=centers,
                roles__role__in=[Role.LEADER, Role.SUPERVISOR, Role.HEAD],
            )
        )
        for name in ("group_leader", "members"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = people
        if campaign is not None:
            # The kind and the center make the campaign what it is: fixed once opened.
            self.fields["kind"].disabled = True
            self.fields["center"].disabled = True
        else:
            if not self.is_bound and actor.center_id:
                self.initial.setdefault("center", actor.center_id)
            if not self.is_bound:
                self.initial.setdefault("submission_key", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end date must not be before the start date."))
        return data

    def targets(self) -> dict[str, float]:
        d = self.cleaned_data
        out = {}
        for key, name in zip(TARGET_KEYS, ("resolution_target", "cessation_target"), strict=True):
            value = d.get(name)
            if value is not None:
                out[key] = float(Decimal(value) / 100)
        return out

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of create_campaign / update_campaign."""
        d = self.cleaned_data
        fields: dict[str, Any] = {
            "name": d["name"],
            "starts_on": d["starts_on"],
            "ends_on": d["ends_on"],
            "include_subordinates": d["include_subordinates"],
            "targets": self.targets(),
            "group_leader": d.get("group_leader"),
            "office": d.get("office") or "",
            "members": list(d.get("members") or []),
            "progress_interval_days": d["progress_interval_days"],
            "observation_days": d["observation_days"],
            "description": d.get("description") or "",
        }
        if self.campaign is None:
            fields["kind"] = d["kind"]
            fields["center"] = d["center"]
        return fields


def _percent(value: Any) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(str(value)) * 100).quantize(Decimal("0.1")).normalize()


def initial_for(campaign: Campaign) -> dict[str, Any]:
    targets = campaign.targets or {}
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "center": campaign.center_id,
        "include_subordinates": campaign.include_subordinates,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "group_leader": campaign.group_leader_id,
        "office": campaign.office,
        "members": [m.pk for m in campaign.members.all()],
        "resolution_target": _percent(targets.get("resolution_rate")),
        "cessation_target": _percent(targets.get("cessation_rate")),
        "progress_interval_days": campaign.progress_interval_days,
        "observation_days": campaign.observation_days,
        "description": campaign.description,
        "expected_version": campaign.version,
    }


# --- handing a matter down ------------------------------------------------------------------------


def receiving_centers(campaign: Campaign) -> QuerySet[Center]:
    """The centers below the campaign's center (a lower center receives a matter)."""
    return (
        Center.objects.filter(path__startswith=campaign.center.path)
        .exclude(pk=campaign.center_id)
        .order_by("path")
    )


def receiving_departments(campaign: Campaign) -> QuerySet[Department]:
    """The departments of the campaign's center (and of its subordinate centers when the
    campaign reaches them)."""
    centers: Q = Q(center_id=campaign.center_id)
    if campaign.include_subordinates:
        centers |= Q(center__path__startswith=campaign.center.path)
    return (
        Department.objects.filter(centers, is_active=True)
        .select_related("center")
        .order_by("center__path", "pk")
    )


def receiver_staff(campaign: Campaign) -> QuerySet[User]:
    """Whoever may lead or handle a matter: staff of the campaign's center and those below it."""
    return staff(User.objects.filter(center__path__startswith=campaign.center.path))


class HandDownForm(forms.Form):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=40,
        help_text=_("A case you can read; register an old-ledger matter at the desk first."),
    )
    receiver = forms.ChoiceField(label=_("Handed down to"))
    leader = StaffChoiceField(
        label=_("Responsible leader"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Left empty: the head of the receiving organ."),
    )
    handler = StaffChoiceField(label=_("Handler"), queryset=User.objects.none(), required=False)
    due_on = DueDateField(label=_("Due on"))
    target_result = _text(_("Target result"), required=True, rows=2, max_length=2000)
    summary = _text(_("The matter"))
    since = forms.DateField(label=_("Petitioning since"), required=False, widget=DateInput)
    work_done = _text(_("What has been done"))
    obstacle = _text(_("Obstacle"), rows=2)
    next_step = _text(_("Next step"), rows=2)

    def __init__(self, *args: Any, actor: User, campaign: Campaign, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "handdown")
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.campaign = campaign
        self.case: Case | None = None
        centers = [(f"c:{c.pk}", c.name) for c in receiving_centers(campaign)]
        departments = [
            (f"d:{d.pk}", f"{d.center.name} · {d.name}") for d in receiving_departments(campaign)
        ]
        receiver = self.fields["receiver"]
        assert isinstance(receiver, forms.ChoiceField)
        receiver.choices = [
            ("", "---------"),
            *([(str(_("Lower centers")), centers)] if centers else []),
            *([(str(_("Departments")), departments)] if departments else []),
        ]
        people = receiver_staff(campaign)
        for name in ("leader", "handler"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = people

    def clean_case_number(self) -> str:
        number = self.cleaned_data["case_number"].strip()
        case = cases_visible_to(self.actor).filter(number=number).first()
        if case is None:
            raise ValidationError(
                _("No case with this number that you can read."), code="not_found"
            )
        self.case = case
        return number

    def clean_receiver(self) -> dict[str, Any]:
        raw = self.cleaned_data["receiver"]
        kind, _sep, pk = raw.partition(":")
        if kind == "c" and pk.isdigit():
            center = receiving_centers(self.campaign).filter(pk=int(pk)).first()
            if center is not None:
                return {"center": center}
        if kind == "d" and pk.isdigit():
            department = receiving_departments(self.campaign).filter(pk=int(pk)).first()
            if department is not None:
                return {"department": department}
        raise ValidationError(_("Select a valid choice."), code="invalid_choice")

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "case": self.case,
            **d["receiver"],
            "leader": d.get("leader"),
            "handler": d.get("handler"),
            "due_on": d["due_on"],
            "target_result": d["target_result"],
            "summary": d.get("summary") or "",
            "since": d.get("since"),
            "work_done": d.get("work_done") or "",
            "obstacle": d.get("obstacle") or "",
            "next_step": d.get("next_step") or "",
        }


# --- a matter -------------------------------------------------------------------------------------


class LedgerForm(forms.Form):
    """The 个案台账: what, since when, what has been done, the obstacle, the next step."""

    summary = _text(_("The matter"))
    since = forms.DateField(label=_("Petitioning since"), required=False, widget=DateInput)
    work_done = _text(_("What has been done"), rows=4)
    obstacle = _text(_("Obstacle"), rows=2)
    next_step = _text(_("Next step"), rows=2)
    expected_version = _version()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "ledger")
        super().__init__(*args, **kwargs)

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "summary": d.get("summary") or "",
            "since": d.get("since"),
            "work_done": d.get("work_done") or "",
            "obstacle": d.get("obstacle") or "",
            "next_step": d.get("next_step") or "",
        }


class ProgressForm(forms.Form):
    text = _text(_("Progress"), required=True, rows=3)
    outcome = forms.ChoiceField(
        label=_("Where it stands"),
        choices=PROGRESS_OUTCOMES,
        initial=MatterOutcome.IN_HAND,
        widget=forms.RadioSelect,
    )
    resolution = _text(_("How it was resolved"), rows=2)
    obstacle = _text(_("Obstacle"), rows=2)
    expected_version = _version()
    submission_key = _key()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "progress")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        if outcome == MatterOutcome.RESOLVED and not (data.get("resolution") or "").strip():
            self.add_error("resolution", _("Say how the matter was resolved."))
        if outcome == MatterOutcome.STALLED and not (data.get("obstacle") or "").strip():
            self.add_error("obstacle", _("Name the obstacle."))
        return data


class SignForm(forms.Form):
    expected_version = _version()


# --- the ledger's filters -------------------------------------------------------------------------


# Computed states the ledger filters by, beyond the stored outcomes.
CEASED = "ceased"
OVERDUE = "overdue"


class MatterFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    center = forms.TypedChoiceField(
        label=_("Receiving center"), required=False, coerce=int, empty_value=None
    )
    department = forms.TypedChoiceField(
        label=_("Receiving department"), required=False, coerce=int, empty_value=None
    )
    leader = forms.TypedChoiceField(
        label=_("Responsible leader"), required=False, coerce=int, empty_value=None
    )
    week = forms.DateField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        centers: list[tuple[int, str]],
        departments: list[tuple[int, str]],
        leaders: list[tuple[int, str]],
    ) -> None:
        super().__init__(data)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [
            ("", _("All states")),
            *MatterOutcome.choices,
            (CEASED, _("Ceased petitioning (息诉罢访)")),
            (OVERDUE, _("Overdue")),
        ]
        for name, rows, empty in (
            ("center", centers, _("All centers")),
            ("department", departments, _("All departments")),
            ("leader", leaders, _("All leaders")),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", empty), *rows]
