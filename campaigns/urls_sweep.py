"""Sweep (排查) pages, included by campaigns/urls.py under app_name "campaigns"."""

urlpatterns: list = []
