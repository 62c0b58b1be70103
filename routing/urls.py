from django.urls import path

from . import views

app_name = "routing"
urlpatterns = [
    path("triage/", views.triage_queue_view, name="triage_queue"),
    path("triage/<int:pk>/", views.screen, name="screen"),
    path("triage/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("inbox/", views.inbox_view, name="inbox"),
    path("inbox/assignments/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("inbox/assignments/<int:pk>/sign/", views.assignment_sign, name="assignment_sign"),
    path("inbox/assignments/<int:pk>/return/", views.assignment_return, name="assignment_return"),
    path("inbox/assignments/<int:pk>/accept/", views.assignment_accept, name="assignment_accept"),
    path("inbox/assignments/<int:pk>/notes/", views.assignment_note, name="assignment_note"),
    path(
        "inbox/assignments/<int:pk>/contribution/",
        views.assignment_contribute,
        name="assignment_contribute",
    ),
    path(
        "inbox/assignments/<int:pk>/attachments/",
        views.assignment_attachment,
        name="assignment_attachment",
    ),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("notices/<int:pk>/pdf/", views.notice_pdf_view, name="notice_pdf"),
]
