"""Administration of routing. Routing rules are data an administrator edits (which department kind
a category/organ goes to). Assignments, transfers and notices are written only by routing.services,
so they are read-only here, with their change history (simple-history) where they keep one."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import Assignment, RoutingRule, Transfer, WrittenNotice


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "category", "organ", "department_kind", "is_active"]
    list_filter = ["department_kind", "is_active", "organ"]
    list_editable = ["is_active"]
    list_select_related = ["category__parent", "organ"]
    search_fields = ["category__name", "category__code", "organ__name"]


class ReadOnlyMixin:
    """Nothing is added, changed or deleted here: the services are the one write path."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "department", "role", "state", "due_at", "assigned_at", "handler"]
    list_filter = ["role", "state", "department__kind", "department__center"]
    list_select_related = ["case", "department__center", "handler"]
    search_fields = ["case__number"]
    raw_id_fields = ["case"]
    date_hierarchy = "assigned_at"


@admin.register(Transfer)
class TransferAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "from_center", "to_center", "transferred_by", "transferred_at"]
    list_filter = ["from_center", "to_center"]
    list_select_related = ["case", "from_center", "to_center", "transferred_by"]
    search_fields = ["case__number"]
    raw_id_fields = ["case"]
    date_hierarchy = "transferred_at"


@admin.register(WrittenNotice)
class WrittenNoticeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A notice's text is frozen when issued (what was sent is what is kept)."""

    list_display = ["number", "title", "kind", "case", "issuer", "issued_at"]
    list_filter = ["kind"]
    list_select_related = ["case"]
    search_fields = ["number", "case__number"]
    raw_id_fields = ["case"]
    date_hierarchy = "issued_at"
