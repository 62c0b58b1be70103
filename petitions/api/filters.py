"""Filters of the case list (django-filter). Code-table filters take codes, not ids, so that a
client's query survives an administrator renumbering the tables."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import IdFilter, SafeDateTimeFilter
from petitions.models import Case
from petitions.states import CaseState


class CaseFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=CaseState.choices, help_text=_("One or more states (repeat the parameter).")
    )
    center = IdFilter(
        field_name="center_id", help_text=_("Id of the center that holds the case now.")
    )
    channel = django_filters.CharFilter(field_name="channel__code", help_text=_("Channel code."))
    purpose = django_filters.CharFilter(field_name="purpose__code", help_text=_("Purpose code."))
    category = django_filters.CharFilter(
        method="filter_category",
        help_text=_("Content category code; a parent code matches its sub-categories too."),
    )
    registered_after = SafeDateTimeFilter(
        field_name="registered_at",
        lookup_expr="gte",
        help_text=_("Registered at or after (ISO 8601 date or date-time)."),
    )
    registered_before = SafeDateTimeFilter(
        field_name="registered_at",
        lookup_expr="lt",
        help_text=_("Registered before (ISO 8601 date or date-time)."),
    )
    is_group = django_filters.BooleanFilter(help_text=_("Group visits only (or none)."))
    is_major_urgent = django_filters.BooleanFilter(help_text=_("Major and urgent cases."))
    number = django_filters.CharFilter(field_name="number", help_text=_("Exact case number."))

    class Meta:
        model = Case
        fields = [
            "state",
            "center",
            "channel",
            "purpose",
            "category",
            "registered_after",
            "registered_before",
            "is_group",
            "is_major_urgent",
            "number",
        ]

    def filter_category(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value))
