from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import CalendarYear, Deadline, DeadlineRule, Holiday
from .schedule import recompute_provisional_deadlines


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The State Council's notice for next year comes out late in the year: administrators enter
    it here (and add the year under calendar years so deadlines stop being provisional)."""

    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """Adding a year says its official schedule is complete: the provisional clocks are counted
    again on it (clocks.schedule; ``manage.py import_holidays`` does both from a file)."""

    list_display = ["year", "source"]
    list_filter = ["source"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            recompute_provisional_deadlines()


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "province_region_code",
        "length",
        "day_type",
        "max_extension_days",
        "basis",
    ]
    list_filter = ["kind", "day_type"]
    search_fields = ["province_region_code", "basis"]


@admin.register(Deadline)
class DeadlineAdmin(SimpleHistoryAdmin):
    """Read-only: clocks are opened, met and extended by clocks.deadlines only."""

    list_display = ["case", "kind", "due_at", "warning_level", "met_at", "is_provisional"]
    list_filter = ["kind", "warning_level", "is_provisional"]
    search_fields = ["case__number"]
    raw_id_fields = ["case"]
    date_hierarchy = "due_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
