"""Outreach pages: each part's urls module is included here (app namespace "outreach")."""

from django.urls import include, path

app_name = "outreach"
urlpatterns = [
    path("", include("outreach.urls_tours")),
    path("", include("outreach.urls_visits")),
    path("", include("outreach.urls_aid")),
    path("", include("outreach.urls_messages")),
]
