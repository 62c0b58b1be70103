"""Closure actions under /api/v1/ (included by config.api_urls); names prefixed "closure-"."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/reply/", views.ReplyView.as_view(), name="closure-reply"),
    path("cases/<int:pk>/reply/approve/", views.ApproveView.as_view(), name="closure-approve"),
    path("cases/<int:pk>/reply/send-back/", views.SendBackView.as_view(), name="closure-send-back"),
    path("cases/<int:pk>/reply/deliver/", views.DeliverView.as_view(), name="closure-deliver"),
    path(
        "cases/<int:pk>/reply/evaluation-link/",
        views.EvaluationLinkView.as_view(),
        name="closure-evaluation-link",
    ),
    path(
        "cases/<int:pk>/evaluations/", views.EvaluationsView.as_view(), name="closure-evaluations"
    ),
    path(
        "cases/<int:pk>/return-visits/",
        views.ReturnVisitsView.as_view(),
        name="closure-return-visits",
    ),
    path("cases/<int:pk>/close/", views.CloseView.as_view(), name="closure-close"),
    path("cases/<int:pk>/agreement/", views.AgreementView.as_view(), name="closure-agreement"),
    path("cases/<int:pk>/archive/", views.ArchiveView.as_view(), name="closure-archive"),
    path("cases/<int:pk>/reopen/", views.ReopenView.as_view(), name="closure-reopen"),
    path(
        "cases/<int:pk>/reexamination/",
        views.ReexaminationView.as_view(),
        name="closure-reexamination",
    ),
]
