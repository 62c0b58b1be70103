"""Reports under /api/v1/ (included by config.api_urls); names prefixed "reports-"."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/indicators/", views.IndicatorsView.as_view(), name="reports-indicators"),
    path("reports/exports/", views.ExportsView.as_view(), name="reports-exports"),
    path(
        "reports/exports/<int:pk>/", views.ExportDetailView.as_view(), name="reports-export-detail"
    ),
    path(
        "reports/exports/<int:pk>/download/",
        views.ExportDownloadView.as_view(),
        name="reports-export-download",
    ),
]
