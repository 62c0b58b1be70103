from django.urls import path

from . import views

app_name = "closure"
urlpatterns = [
    path("closure/inbox/", views.inbox, name="inbox"),
    path("cases/<int:pk>/closure/", views.case_closure, name="case"),
    path("cases/<int:pk>/closure/reply/", views.reply_save, name="reply_save"),
    path("cases/<int:pk>/closure/reply/approve/", views.reply_approve, name="reply_approve"),
    path("cases/<int:pk>/closure/reply/send-back/", views.reply_send_back, name="reply_send_back"),
    path("cases/<int:pk>/closure/reply/deliver/", views.reply_deliver, name="reply_deliver"),
    path("cases/<int:pk>/closure/reply/print/", views.reply_print, name="reply_print"),
    path("cases/<int:pk>/closure/reply/pdf/", views.reply_pdf_view, name="reply_pdf"),
    path(
        "cases/<int:pk>/closure/reply/evaluation-link/",
        views.reissue_link,
        name="reissue_link",
    ),
    path("cases/<int:pk>/closure/evaluations/", views.evaluation_record, name="evaluate"),
    path(
        "cases/<int:pk>/closure/return-visits/schedule/",
        views.return_visit_schedule,
        name="visit_schedule",
    ),
    path("cases/<int:pk>/closure/return-visits/", views.return_visit_record, name="visit_record"),
    path("cases/<int:pk>/closure/close/", views.close, name="close"),
    path("cases/<int:pk>/closure/agreement/", views.agreement, name="agreement"),
    path("cases/<int:pk>/closure/archive/", views.archive, name="archive"),
    path("cases/<int:pk>/closure/reopen/", views.reopen, name="reopen"),
    path("cases/<int:pk>/closure/reexamination/", views.reexamination, name="reexamination"),
]
