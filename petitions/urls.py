from django.urls import path

from . import views

app_name = "petitions"
urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path(
        "cases/<int:pk>/petitioners/<int:petitioner_pk>/reveal/<str:field>/",
        views.reveal_pii_view,
        name="reveal_pii",
    ),
    path("cases/<int:pk>/attachments/add/", views.attachment_add, name="attachment_add"),
    path(
        "cases/<int:pk>/attachments/<int:att_pk>/",
        views.attachment_download,
        name="attachment_download",
    ),
]
