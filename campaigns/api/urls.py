"""Campaigns under /api/v1/ (included by config.api_urls)."""

urlpatterns: list = []
