"""Routing actions under /api/v1/ (included by config.api_urls). Names are prefixed "routing-"
because the API namespace is shared with the other apps."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/screen/", views.ScreenView.as_view(), name="routing-screen"),
    path("cases/<int:pk>/assign/", views.AssignView.as_view(), name="routing-assign"),
    path("cases/<int:pk>/reassign/", views.ReassignView.as_view(), name="routing-reassign"),
    path("cases/<int:pk>/transfer/", views.TransferView.as_view(), name="routing-transfer"),
    path(
        "cases/<int:pk>/confirm-return/",
        views.ConfirmReturnView.as_view(),
        name="routing-confirm-return",
    ),
    path("cases/<int:pk>/sign/", views.SignView.as_view(), name="routing-sign"),
    path("cases/<int:pk>/return/", views.ReturnView.as_view(), name="routing-return"),
    path("cases/<int:pk>/accept/", views.AcceptView.as_view(), name="routing-accept"),
    path(
        "cases/<int:pk>/contribution/",
        views.ContributionView.as_view(),
        name="routing-contribution",
    ),
    path("cases/<int:pk>/notes/", views.NotesView.as_view(), name="routing-notes"),
    path(
        "cases/<int:pk>/assignments/", views.AssignmentsView.as_view(), name="routing-assignments"
    ),
    path("cases/<int:pk>/notices/", views.NoticesView.as_view(), name="routing-notices"),
    path("notices/<int:pk>/pdf/", views.NoticePdfView.as_view(), name="routing-notice-pdf"),
    path("inbox/", views.InboxView.as_view(), name="routing-inbox"),
    path("inbox/counts/", views.InboxCountsView.as_view(), name="routing-inbox-counts"),
]
