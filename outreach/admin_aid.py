"""Judicial aid reference data in the admin: the eligibility checklist (questions, order, active)
and the yearly cap rules, whose average monthly wage figure the administrator enters for each
province and year (the seeded 河北 rule's figure is only an example: outreach.defaults_aid)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import AidCapRule, EligibilityQuestion


@admin.register(EligibilityQuestion)
class EligibilityQuestionAdmin(SimpleHistoryAdmin):
    list_display = ["text", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["text"]


@admin.register(AidCapRule)
class AidCapRuleAdmin(SimpleHistoryAdmin):
    list_display = [
        "province_region_code",
        "year",
        "average_monthly_wage",
        "months",
        "cap_display",
        "leader_threshold",
    ]
    list_filter = ["year"]
    search_fields = ["province_region_code"]
    ordering = ["-year", "province_region_code"]

    @admin.display(description=_("cap (yuan)"))
    def cap_display(self, obj: AidCapRule) -> str:
        return f"{obj.cap:,.2f}"
