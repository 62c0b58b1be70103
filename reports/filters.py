"""The filters every report takes (period, center with or without subordinates, department,
channel, category, law-related), parsed once for the pages, the API and the export job.

Scoping (STYLE.md: reads take the viewer): the centers a report may cover are the viewer's
``core.selectors.centers_visible_to`` (own center and below). A center outside that scope is
answered with 404, exactly like one that does not exist, so center ids cannot be probed. The
other filters are plain choices: a value outside the scope is "not a valid choice" (400).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.forms.models import ModelChoiceIterator
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Center, Department, User
from core.roles import Role
from core.selectors import centers_visible_to
from petitions.models import Channel, ContentCategory
from routing.models import Assignment, AssignmentRole, AssignmentState

from . import conf

CHINA_TZ = ZoneInfo("Asia/Shanghai")
REPORT_ROLES = (Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST)
# An assignment that ended without the department handling the case does not make it "theirs".
NOT_HANDLED_ASSIGNMENT_STATES = (AssignmentState.RETURNED, AssignmentState.CANCELLED)


BIGINT_MAX = 2**63 - 1


class IdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A model choice by id that refuses a number beyond the id column's range as an invalid
    choice (instead of letting the database raise "out of range")."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and (
            not str(value).isdigit() or int(str(value)) > BIGINT_MAX
        ):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class CategoryTreeIterator(ModelChoiceIterator):
    """Content categories in the order of the front desk and triage (intake.forms.
    category_choices): each top-level category in (sort_order, code) order, its sub-categories
    under it in an optgroup. The model's own ordering (sort_order, code) interleaves parents and
    children, since each level numbers its rows from 0. Unlike the desk, the parent itself is
    a choice here ("all of it"): a report filtered by it counts its sub-categories too. Inactive
    categories stay: past periods hold cases filed under them. One query, no per-row parent."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = list(self.queryset.order_by("sort_order", "code"))
        children: dict[int, list[ContentCategory]] = {}
        for row in rows:
            if row.parent_id is not None:
                children.setdefault(row.parent_id, []).append(row)
        placed: set[int] = set()
        for row in rows:
            if row.parent_id is not None:
                continue
            placed.add(row.pk)
            kids = children.get(row.pk, [])
            if not kids:
                yield (str(row.pk), row.name)
                continue
            placed.update(k.pk for k in kids)
            yield (
                row.name,
                [(str(row.pk), _("%(name)s (all)") % {"name": row.name})]
                + [(str(k.pk), k.name) for k in kids],
            )
        # deeper levels, should an administrator add them: after the tree, by their own order
        by_pk = {row.pk: row for row in rows}
        for row in rows:
            if row.pk not in placed:
                parent = by_pk.get(row.parent_id) if row.parent_id else None
                label = f"{parent.name} / {row.name}" if parent else row.name
                yield (str(row.pk), label)


class CategoryChoiceField(IdChoiceField):
    iterator = CategoryTreeIterator


def may_view_reports(user: User) -> bool:
    return bool(user.is_superuser or user.has_role(*REPORT_ROLES))


def day_start(day: date) -> datetime:
    """00:00 Beijing time: periods are Beijing days whatever the server's zone (as the clocks)."""
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)


def today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class ReportFilters:
    """A parsed, scoped report request. ``center_ids`` are the centers whose cases count."""

    start: date
    end: date  # inclusive
    center: Center | None
    subtree: bool
    center_ids: tuple[int, ...]
    department: Department | None = None
    channel: Channel | None = None
    category_ids: tuple[int, ...] = ()
    category: ContentCategory | None = None
    law_related: bool | None = None
    cessation_days: int = field(default_factory=conf.cessation_days)

    @property
    def since(self) -> datetime:
        return day_start(self.start)

    @property
    def until(self) -> datetime:
        """Exclusive upper bound: 00:00 of the day after ``end``."""
        return day_start(self.end + timedelta(days=1))

    def case_q(self, prefix: str = "", *, with_center: bool = True) -> Q:
        """The case-level filters as a Q on a model reaching the case through ``prefix``
        ("" on Case itself, "case__" on Deadline, Visit, ...)."""
        q = Q(**{f"{prefix}center_id__in": self.center_ids}) if with_center else Q()
        if self.channel is not None:
            q &= Q(**{f"{prefix}channel_id": self.channel.pk})
        if self.category_ids:
            q &= Q(**{f"{prefix}category_id__in": self.category_ids})
        if self.law_related is not None:
            q &= Q(**{f"{prefix}is_law_related": self.law_related})
        if self.department is not None:
            case_ref = "pk" if not prefix else f"{prefix}id"
            q &= Q(
                Exists(
                    Assignment.objects.filter(
                        case_id=OuterRef(case_ref),
                        department_id=self.department.pk,
                        role=AssignmentRole.LEAD,
                    ).exclude(state__in=NOT_HANDLED_ASSIGNMENT_STATES)
                )
            )
        return q

    def as_params(self) -> dict[str, str]:
        """Query parameters that give these filters back (links, export jobs)."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.center is not None:
            params["center"] = str(self.center.pk)
            params["subtree"] = "1" if self.subtree else "0"
        if self.department is not None:
            params["department"] = str(self.department.pk)
        if self.channel is not None:
            params["channel"] = str(self.channel.pk)
        if self.category is not None:
            params["category"] = str(self.category.pk)
        if self.law_related is not None:
            params["law_related"] = "1" if self.law_related else "0"
        if self.cessation_days != conf.cessation_days():
            params["cessation_days"] = str(self.cessation_days)
        return params

    def period_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": (self.end - self.start).days + 1,
            "center": self.center.pk if self.center else None,
            "center_name": self.center.name if self.center else None,
            "subtree": self.subtree,
            "department": self.department.pk if self.department else None,
            "channel": self.channel.pk if self.channel else None,
            "category": self.category.pk if self.category else None,
            "law_related": self.law_related,
            "cessation_days": self.cessation_days,
        }


BOOL_CHOICES = [("", gettext_lazy("All")), ("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))]


class ReportFilterForm(forms.Form):
    """The filters as submitted (query string). ``from``/``to`` are not Python names, so the
    form reads them under ``date_from``/``date_to`` (see ``from_query``)."""

    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False)
    center = forms.CharField(label=gettext_lazy("Center"), required=False)
    subtree = forms.ChoiceField(
        label=gettext_lazy("Include subordinate centers"),
        required=False,
        choices=[("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))],
    )
    department = IdChoiceField(
        label=gettext_lazy("Department"), required=False, queryset=Department.objects.none()
    )
    channel = IdChoiceField(
        label=gettext_lazy("Channel"), required=False, queryset=Channel.objects.all()
    )
    category = CategoryChoiceField(
        label=gettext_lazy("Content category"),
        required=False,
        queryset=ContentCategory.objects.all(),
    )
    law_related = forms.ChoiceField(
        label=gettext_lazy("Law/litigation-related"), required=False, choices=BOOL_CHOICES
    )
    cessation_days = forms.IntegerField(
        label=gettext_lazy("Cessation window (days)"),
        required=False,
        min_value=1,
        max_value=730,
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        self.scope = centers_visible_to(user)
        department_field = self.fields["department"]
        assert isinstance(department_field, forms.ModelChoiceField)
        department_field.queryset = Department.objects.filter(center__in=self.scope).select_related(
            "center"
        )
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"})

    @classmethod
    def from_query(cls, query: QueryDict | dict[str, Any], *, user: User) -> ReportFilterForm:
        data = {k: v for k, v in query.items() if k not in {"from", "to"}}
        data["date_from"] = query.get("from", "")
        data["date_to"] = query.get("to", "")
        return cls(data, user=user)

    def clean_center(self) -> Center | None:
        raw = (self.cleaned_data.get("center") or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise forms.ValidationError(_("Select a valid choice."), code="invalid_choice")
        if int(raw) > BIGINT_MAX:  # no such id
            raise Http404()
        try:
            return self.scope.get(pk=int(raw))
        except Center.DoesNotExist:
            # outside the viewer's scope is the same as not there: 404 (see module docstring)
            raise Http404() from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if "date_from" in self.errors or "date_to" in self.errors:
            return cleaned
        end = end or today()
        start = start or end.replace(month=1, day=1)
        if end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        else:
            try:
                limit = start.replace(year=start.year + 10)
            except ValueError:  # 29 February
                limit = start.replace(year=start.year + 10, day=28)
            if end >= limit:
                self.add_error("date_to", _("A period may cover at most 10 years."))
        cleaned["date_from"], cleaned["date_to"] = start, end
        return cleaned

    def filters(self) -> ReportFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        center: Center | None = data.get("center")
        subtree = data.get("subtree") != "0"
        if center is None:
            if self.user.center_id is not None and not self.user.is_superuser:
                center = self.user.center
            subtree = True
        if center is None:  # a superuser without a center: everything
            center_ids = tuple(Center.objects.values_list("pk", flat=True))
        elif subtree:
            center_ids = tuple(
                self.scope.filter(path__startswith=center.path).values_list("pk", flat=True)
            )
        else:
            center_ids = (center.pk,)
        department: Department | None = data.get("department")
        if department is not None and department.center_id not in center_ids:
            self.add_error("department", _("The department is not in the chosen center."))
            raise forms.ValidationError(self.errors)
        category: ContentCategory | None = data.get("category")
        category_ids: tuple[int, ...] = ()
        if category is not None:
            # a category counts with its sub-categories
            category_ids = (
                category.pk,
                *ContentCategory.objects.filter(parent=category).values_list("pk", flat=True),
            )
        law = data.get("law_related") or ""
        return ReportFilters(
            start=data["date_from"],
            end=data["date_to"],
            center=center,
            subtree=subtree,
            center_ids=center_ids,
            department=department,
            channel=data.get("channel"),
            category=category,
            category_ids=category_ids,
            law_related=None if law == "" else law == "1",
            cessation_days=data.get("cessation_days") or conf.cessation_days(),
        )


def parse_filters(
    query: QueryDict | dict[str, Any], *, user: User
) -> tuple[ReportFilters | None, ReportFilterForm]:
    """(filters, form): filters is None when the form has errors (show them / 400).
    Raises Http404 for a center outside the viewer's scope."""
    form = ReportFilterForm.from_query(query, user=user)
    if not form.is_valid():
        return None, form
    try:
        return form.filters(), form
    except forms.ValidationError:
        return None, form
