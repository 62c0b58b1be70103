"""Supervision overlays under /api/v1/ (included by config.api_urls). Names are prefixed
"supervision-" because the API namespace is shared with the other apps."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "cases/<int:pk>/supervision/",
        views.CaseSupervisionView.as_view(),
        name="supervision-case",
    ),
    path(
        "cases/<int:pk>/extensions/", views.ExtensionsView.as_view(), name="supervision-extensions"
    ),
    path(
        "extensions/<int:pk>/decide/",
        views.ExtensionDecisionView.as_view(),
        name="supervision-extension-decide",
    ),
    path(
        "cases/<int:pk>/supervision-orders/",
        views.SupervisionOrdersView.as_view(),
        name="supervision-orders",
    ),
    path(
        "supervision-orders/<int:pk>/respond/",
        views.OrderResponseView.as_view(),
        name="supervision-order-respond",
    ),
    path(
        "supervision-orders/<int:pk>/close/",
        views.OrderCloseView.as_view(),
        name="supervision-order-close",
    ),
    path("cases/<int:pk>/reminders/", views.RemindersView.as_view(), name="supervision-reminders"),
    path(
        "cases/<int:pk>/leader-responsibility/",
        views.LeaderResponsibilityView.as_view(),
        name="supervision-leader-responsibility",
    ),
    path(
        "leader-responsibilities/<int:pk>/resolve/",
        views.ResolveResponsibilityView.as_view(),
        name="supervision-leader-responsibility-resolve",
    ),
    path(
        "cases/<int:pk>/consultations/",
        views.ConsultationsView.as_view(),
        name="supervision-consultations",
    ),
    path("cases/<int:pk>/findings/", views.FindingsView.as_view(), name="supervision-findings"),
    path("bulletins/", views.BulletinsView.as_view(), name="supervision-bulletins"),
]
