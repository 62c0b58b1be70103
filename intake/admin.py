from django.contrib import admin

from .models import LeaderDuty


@admin.register(LeaderDuty)
class LeaderDutyAdmin(admin.ModelAdmin):
    list_display = ["date", "center", "leader", "note"]
    list_filter = ["center"]
    date_hierarchy = "date"
    list_select_related = ["center", "leader"]
