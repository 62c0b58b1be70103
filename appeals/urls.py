from django.urls import path

from . import views

app_name = "appeals"
urlpatterns = [
    path("appeals/", views.queue, name="queue"),
    path("cases/<int:pk>/appeals/", views.case_page, name="case"),
    path("cases/<int:pk>/appeals/review/", views.request_review_view, name="request_review"),
    path("cases/<int:pk>/appeals/decide/", views.decide_review_view, name="decide_review"),
    path(
        "cases/<int:pk>/appeals/termination/",
        views.propose_termination_view,
        name="propose_termination",
    ),
    path(
        "cases/<int:pk>/appeals/termination/decide/",
        views.decide_termination_view,
        name="decide_termination",
    ),
    path("appeals/answers/<int:pk>/", views.answer_print, name="answer"),
    path("appeals/answers/<int:pk>/pdf/", views.answer_pdf, name="answer_pdf"),
    path("cases/<int:pk>/appeals/record/", views.record_print, name="record"),
    path("cases/<int:pk>/appeals/record/pdf/", views.record_pdf, name="record_pdf"),
]
