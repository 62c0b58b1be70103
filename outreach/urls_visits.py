"""Pages of 下访 / 约访 and of the leaders' reception days (helper F): views in
outreach/views_visits.py, templates in templates/outreach/visits/."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
