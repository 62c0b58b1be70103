"""The case supervision page and its actions. Included by config.urls at the root:
``path("", include("supervision.case_urls"))``."""

from django.urls import path

from . import case_views as views

app_name = "supervision_case"
urlpatterns = [
    path("supervision/cases/<int:pk>/", views.case_supervision, name="detail"),
    path(
        "supervision/cases/<int:pk>/extensions/",
        views.request_extension,
        name="request_extension",
    ),
    path(
        "supervision/extensions/<int:pk>/decide/", views.decide_extension, name="decide_extension"
    ),
    path("supervision/cases/<int:pk>/orders/", views.issue_order, name="issue_order"),
    path("supervision/orders/<int:pk>/respond/", views.respond_to_order, name="respond_order"),
    path("supervision/orders/<int:pk>/close/", views.close_order, name="close_order"),
    path("supervision/cases/<int:pk>/reminders/", views.send_reminder, name="send_reminder"),
    path(
        "supervision/cases/<int:pk>/leader-responsibility/",
        views.assign_responsibility,
        name="assign_responsibility",
    ),
    path(
        "supervision/leader-responsibilities/<int:pk>/resolve/",
        views.resolve_responsibility,
        name="resolve_responsibility",
    ),
    path(
        "supervision/cases/<int:pk>/consultations/",
        views.record_consultation,
        name="record_consultation",
    ),
    path("supervision/cases/<int:pk>/findings/", views.record_finding, name="record_finding"),
    path("supervision/cases/<int:pk>/bulletins/", views.issue_bulletin, name="issue_bulletin"),
]
