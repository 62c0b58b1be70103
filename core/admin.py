from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Center, Department, PiiAccessLog, User, UserRole


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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [UserRoleInline]
    list_display = ["username", "full_name", "center", "department", "is_active"]
    list_filter = ["center", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Organisation"), {"fields": ("full_name", "center", "department")}),
    )


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "petitioner", "case", "field", "ip"]
    readonly_fields = ["at", "user", "petitioner", "case", "field", "ip"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
