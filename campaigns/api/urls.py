"""Campaigns under /api/v1/ (included by config.api_urls). Names are prefixed "campaign-" because
the API namespace is shared with the other apps. The sweep (排查) and quality review (案件评查)
endpoints live in their own modules, included here."""

from django.urls import include, path

urlpatterns = [
    path("", include("campaigns.api.sweep")),
    path("", include("campaigns.api.review")),
]
