"""Appeals actions under /api/v1/ (included by config.api_urls); names prefixed "appeals-"."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/review/", views.ReviewView.as_view(), name="appeals-review"),
    path(
        "cases/<int:pk>/review/decide/",
        views.ReviewDecideView.as_view(),
        name="appeals-review-decide",
    ),
    path(
        "cases/<int:pk>/termination/", views.TerminationView.as_view(), name="appeals-termination"
    ),
    path(
        "cases/<int:pk>/termination/approve/",
        views.TerminationApproveView.as_view(),
        name="appeals-termination-approve",
    ),
]
