"""Outreach under /api/v1/ (included by config.api_urls): each part's module."""

from django.urls import include, path

urlpatterns = [
    path("", include("outreach.api.tours")),
    path("", include("outreach.api.visits")),
    path("", include("outreach.api.aid")),
    path("", include("outreach.api.messages")),
]
