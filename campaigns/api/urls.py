"""Campaigns under /api/v1/ (included by config.api_urls). Names are prefixed "campaign-" because
the API namespace is shared with the other apps. The sweep (排查) and quality review (案件评查)
endpoints live in their own modules, included here."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("campaigns/", views.CampaignsView.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", views.CampaignView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/close/", views.CampaignCloseView.as_view(), name="campaign-close"),
    path("campaigns/<int:pk>/matters/", views.MattersView.as_view(), name="campaign-matters"),
    path(
        "campaigns/<int:pk>/matters/<int:mid>/",
        views.MatterView.as_view(),
        name="campaign-matter",
    ),
    path(
        "campaigns/<int:pk>/matters/<int:mid>/sign/",
        views.MatterSignView.as_view(),
        name="campaign-matter-sign",
    ),
    path(
        "campaigns/<int:pk>/matters/<int:mid>/progress/",
        views.MatterProgressView.as_view(),
        name="campaign-matter-progress",
    ),
    path("campaigns/<int:pk>/summary/", views.SummaryView.as_view(), name="campaign-summary"),
    path("", include("campaigns.api.sweep")),
    path("", include("campaigns.api.review")),
]
