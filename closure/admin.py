"""Administration of closure: replies, evaluations, return visits and case closures are written
only by closure.services, so they are read-only here, with their change history where they keep
one. Token hashes and salts of evaluation links are not shown."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from routing.admin import ReadOnlyMixin

from .models import CaseClosure, Evaluation, EvaluationLink, Reply, ReturnVisit


@admin.register(Reply)
class ReplyAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["document_number", "case", "department", "decision", "status", "delivered_at"]
    list_filter = ["status", "decision", "mediated", "department__kind"]
    list_select_related = ["case", "department__center"]
    search_fields = ["document_number", "case__number"]
    raw_id_fields = ["case", "agreement"]
    date_hierarchy = "drafted_at"


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "center_rating", "department_rating", "channel", "evaluated_at"]
    list_filter = ["center_rating", "department_rating", "channel"]
    list_select_related = ["case"]
    search_fields = ["case__number"]
    raw_id_fields = ["case", "reply"]
    date_hierarchy = "evaluated_at"


@admin.register(EvaluationLink)
class EvaluationLinkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "created_at", "expires_at", "used_at"]
    list_select_related = ["case"]
    search_fields = ["case__number"]
    exclude = ["salt", "token_hash"]
    raw_id_fields = ["case", "reply"]


@admin.register(ReturnVisit)
class ReturnVisitAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "department", "reason", "scheduled_for", "done_at", "method"]
    list_filter = ["reason", "method", "department__kind"]
    list_select_related = ["case", "department__center"]
    search_fields = ["case__number"]
    raw_id_fields = ["case", "evaluation"]


@admin.register(CaseClosure)
class CaseClosureAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["case", "archive_number", "closed_at", "archived_at", "reopened_at"]
    list_filter = ["reexamination_outcome"]
    list_select_related = ["case"]
    search_fields = ["archive_number", "case__number"]
    raw_id_fields = ["case"]
