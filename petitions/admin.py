"""Administration of petition data.

Code tables are data an administrator edits (DOMAIN.md §3). Petitioners and cases are shown
read-only: cases change only through petitions.services (one write path, with its event and
history), and personal numbers appear only masked — the encrypted and hashed columns never.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core.models import User
from core.pii import blind_index, id_number_lookup_keys
from core.roles import Role
from core.text import name_key

from .models import Case, CasePetitioner, Channel, ContentCategory, Organ, Petitioner, Purpose


def _is_administrator(request: HttpRequest) -> bool:
    user = request.user
    return isinstance(user, User) and user.is_active and user.has_role(Role.ADMIN)


@admin.action(description=_("Activate the selected entries"))
def activate(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    count = queryset.update(is_active=True)
    modeladmin.message_user(
        request,
        ngettext("%(n)d entry activated.", "%(n)d entries activated.", count) % {"n": count},
    )


@admin.action(description=_("Deactivate the selected entries"))
def deactivate(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    count = queryset.update(is_active=False)
    modeladmin.message_user(
        request,
        ngettext("%(n)d entry deactivated.", "%(n)d entries deactivated.", count) % {"n": count},
        messages.SUCCESS,
    )


class CodeItemAdmin(admin.ModelAdmin):
    """A code table. Entries in use cannot be deleted (PROTECT); deactivate them instead so that
    old cases keep their code and new ones can no longer choose it."""

    list_display = ["code", "name", "sort_order", "is_active"]
    list_display_links = ["code", "name"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    ordering = ["sort_order", "code"]
    actions = [activate, deactivate]

    # Holders of the administrator role manage code tables besides Django's model permissions.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_administrator(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request) or super().has_change_permission(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_administrator(request) or super().has_module_permission(request)


@admin.register(Channel)
class ChannelAdmin(CodeItemAdmin):
    pass


@admin.register(Purpose)
class PurposeAdmin(CodeItemAdmin):
    pass


@admin.register(Organ)
class OrganAdmin(CodeItemAdmin):
    list_display = [*CodeItemAdmin.list_display, "department_kind"]


class TopLevelCategoryFilter(admin.SimpleListFilter):
    title = _("parent")
    parameter_name = "parent"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[Any, str]]:
        return [
            ("none", str(_("(top level)"))),
            *(
                (c.pk, c.name)
                for c in ContentCategory.objects.filter(parent__isnull=True).order_by(
                    "sort_order", "code"
                )
            ),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(parent__isnull=True)
        if value and value.isdigit():
            return queryset.filter(parent_id=value)
        return queryset


@admin.register(ContentCategory)
class ContentCategoryAdmin(CodeItemAdmin):
    list_display = ["code", "name", "parent", "sort_order", "is_active"]
    list_filter = [TopLevelCategoryFilter, "is_active"]
    list_select_related = ["parent"]
    ordering = ["parent__sort_order", "parent__code", "sort_order", "code"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # The table has two levels: a parent is always a top-level category.
        if db_field.name == "parent":
            kwargs["queryset"] = ContentCategory.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Masked copies only: the encrypted and hashed number columns are never shown.
PETITIONER_FIELDS: tuple[str, ...] = (
    "name",
    "sex",
    "id_type",
    "id_number_masked",
    "phone_masked",
    "birth_date",
    "address",
    "household_registration",
    "occupation",
    "notes",
    "created_at",
    "created_by",
)


@admin.register(Petitioner)
class PetitionerAdmin(ReadOnlyAdmin):
    """One file per person, view only. Numbers are shown masked; an exact ID or phone number
    typed into the search box is matched through its blind index, never in clear."""

    list_display = ["name", "sex", "id_type", "id_number_masked", "phone_masked", "created_at"]
    list_filter = ["id_type", "sex"]
    search_fields = ["name"]
    ordering = ["-created_at", "-id"]
    fields = PETITIONER_FIELDS
    readonly_fields = PETITIONER_FIELDS
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if term and any(ch.isdigit() for ch in term):
            # an ID number in either resident-ID form, or a phone number
            keys = id_number_lookup_keys(term)
            return queryset.filter(id_number_hash__in=keys) | queryset.filter(
                phone_hash=blind_index(term)
            ), False
        if term:  # traditional and simplified characters match (core.text.name_key)
            return queryset.filter(name_key__contains=name_key(term)), False
        return super().get_search_results(request, queryset, term)


class CasePetitionerInline(admin.TabularInline):
    model = CasePetitioner
    fields = ["petitioner", "role"]
    readonly_fields = ["petitioner", "role"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    """Cases are read here, never written: every change goes through petitions.services."""

    list_display = ["number", "registered_at", "center", "state", "main_petitioner", "category"]
    list_filter = ["state", "center", "channel", "purpose", "is_group", "is_major_urgent"]
    list_select_related = ["center", "main_petitioner", "category__parent"]
    search_fields = ["=number"]
    ordering = ["-registered_at", "-id"]
    show_full_result_count = False
    inlines = [CasePetitionerInline]
    exclude = ["query_code_hash", "submission_key"]

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # simple-history's history form saves a POST after checking only *view* permission:
        # a revert here would bypass the services (and their events), so it is refused.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
