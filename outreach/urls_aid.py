"""Judicial aid pages (司法救助): filled in by views_aid."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
