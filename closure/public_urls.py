"""The petitioner's evaluation page: no login, linked (and QR-coded) from the printed reply."""

from django.urls import path

from . import views

app_name = "closure_public"
urlpatterns = [
    path("evaluate/<int:case_id>/<str:token>/", views.public_evaluate, name="evaluate"),
]
