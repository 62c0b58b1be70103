from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/ledger/", views.ledger, name="ledger"),
    path("reports/exports/<int:pk>/", views.export_detail, name="export"),
    path("reports/exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("reports/league/", views.league, name="league"),
    path("reports/staff/", views.staff, name="staff"),
    path("reports/staff/<int:pk>/", views.staff_record, name="staff_record"),
    path("reports/bulletin/", views.bulletin, name="bulletin"),
    path("reports/notice/", views.notice, name="notice"),
    path("reports/suggestions/", views.suggestions, name="suggestions"),
    path("reports/suggestions/<int:pk>/", views.suggestion, name="suggestion"),
]
