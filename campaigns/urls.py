"""Campaign pages (专项活动). The sweep (B) and quality review (C) pages live in their own url
modules, included here under the one app_name so every page reverses as ``campaigns:<name>``."""

from django.urls import include, path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_create, name="create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="close"),
    path("campaigns/<int:pk>/matters/", views.matter_list, name="matters"),
    path("campaigns/<int:pk>/matters/new/", views.matter_create, name="matter_create"),
    path("campaigns/<int:pk>/matters/<int:mid>/", views.matter_detail, name="matter"),
    path("campaigns/<int:pk>/matters/<int:mid>/sign/", views.matter_sign, name="matter_sign"),
    path(
        "campaigns/<int:pk>/matters/<int:mid>/progress/",
        views.matter_progress,
        name="matter_progress",
    ),
    path(
        "campaigns/<int:pk>/matters/<int:mid>/ledger/",
        views.matter_ledger,
        name="matter_ledger",
    ),
    path("campaigns/<int:pk>/ledger.xlsx", views.ledger_export, name="ledger_export"),
    path("campaigns/<int:pk>/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("", include("campaigns.urls_sweep")),
    path("", include("campaigns.urls_review")),
]
