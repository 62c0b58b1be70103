"""Sweep (排查) API: run the sweep, list and decide its candidates."""

urlpatterns: list = []
