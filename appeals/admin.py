"""Administration of appeals: read-only, with change history. Requests, decisions, terminations and
finality are written only by appeals.services and appeals.tasks (one write path)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import Finality, ReviewRequest, Termination


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = [
        "case",
        "kind",
        "reviewing_center",
        "requested_at",
        "decision_due_at",
        "decision",
        "decided_at",
        "document_number",
    ]
    list_filter = ["kind", "decision", "reviewing_center"]
    list_select_related = ["case", "reviewing_center"]
    search_fields = ["case__number", "document_number"]
    raw_id_fields = ["case", "reply", "previous"]


@admin.register(Termination)
class TerminationAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "state", "department", "proposed_at", "approving_body", "approval_date"]
    list_filter = ["state"]
    list_select_related = ["case", "department"]
    search_fields = ["case__number", "approving_body"]
    raw_id_fields = ["case"]


@admin.register(Finality)
class FinalityAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "reason", "final_at"]
    list_filter = ["reason"]
    list_select_related = ["case"]
    search_fields = ["case__number"]
    raw_id_fields = ["case", "review", "termination"]
