from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import Center, Department, PiiAccessLog, User, UserRole
from .roles import DEPARTMENT_ROLES, Role


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin):
    list_display = ["name", "region_code", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "region_code"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "center", "kind", "is_active"]
    list_filter = ["kind", "center"]
    search_fields = ["name"]


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


class StaffCreationForm(AdminUserCreationForm):
    """The admin's add form: the account and, in the same save, where the person works and what
    they do (center, department, roles), so a new staff member is usable at once. The department
    must be one of the center's (User.clean); a department role needs a department and any role
    a center."""

    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "center", "department")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        roles = set(cleaned.get("roles") or ())
        if roles and cleaned.get("center") is None and "center" not in self.errors:
            self.add_error("center", _("A staff member with a role belongs to a center."))
        if (
            roles & DEPARTMENT_ROLES
            and cleaned.get("department") is None
            and "department" not in self.errors
        ):
            self.add_error(
                "department",
                _("A department officer or head belongs to a department of the center."),
            )
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [UserRoleInline]
    list_display = ["username", "full_name", "center", "department", "is_active"]
    list_filter = ["center", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Organisation"), {"fields": ("full_name", "center", "department")}),
    )
    add_form = StaffCreationForm
    add_form_template = "core/admin_user_add_form.html"
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (_("Organisation"), {"fields": ("full_name", "center", "department", "roles")}),
    )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department":  # its label names the center: one query, not one each
            kwargs["queryset"] = Department.objects.select_related("center")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[Any]:
        # On the add form the roles are the form's checkboxes (validated with the department).
        return [] if obj is None else list(self.inlines)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and "roles" in form.cleaned_data:
            form.instance.set_roles(form.cleaned_data["roles"])

    def response_add(
        self, request: HttpRequest, obj: User, post_url_continue: str | None = None
    ) -> HttpResponse:
        # Everything is set in the one save: "Save" returns to the list like any other model
        # (auth's UserAdmin always reopens the new user for a second save).
        return admin.ModelAdmin.response_add(self, request, obj, post_url_continue)


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "petitioner", "case", "field", "ip"]
    readonly_fields = ["at", "user", "petitioner", "case", "field", "ip"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


def _translate_axes_admin() -> None:
    """django-axes (the login lockout) ships no Chinese: its verbose names and admin labels are
    in our catalogue (locale/), its app name is set in CoreConfig.ready(), and here the two
    column headers its admin derives from method names (untranslatable as they stand)."""
    try:
        from axes.admin import AccessAttemptAdmin
    except ImportError:  # pragma: no cover - axes is always installed
        return
    setattr(AccessAttemptAdmin.expiration, "short_description", _("Expires at"))  # noqa: B010
    setattr(AccessAttemptAdmin.status, "short_description", _("Status"))  # noqa: B010


_translate_axes_admin()
