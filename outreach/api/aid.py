"""Judicial aid API (司法救助): filled in below."""

urlpatterns: list = []
