"""Sweep (排查) pages, included by campaigns/urls.py under app_name "campaigns"."""

from django.urls import path

from . import views_sweep

urlpatterns = [
    path("campaigns/<int:pk>/sweep/", views_sweep.sweep, name="sweep"),
    path(
        "campaigns/<int:pk>/sweep/<int:cid>/",
        views_sweep.sweep_candidate,
        name="sweep_candidate",
    ),
]
