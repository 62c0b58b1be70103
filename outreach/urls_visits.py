"""Pages of 下访 / 约访 and of the leaders' reception days (helper F): views in
outreach/views_visits.py, templates in templates/outreach/visits/."""

from django.urls import path

from . import views_visits as views

urlpatterns = [
    path(
        "outreach/cases/<int:pk>/<str:kind>/",
        views.record_outreach,
        name="record_outreach",
    ),
    path(
        "outreach/cases/<int:pk>/appointments/<int:oid>/<str:step>/",
        views.appointment_step,
        name="appointment_step",
    ),
    path("outreach/reception-days/", views.my_schedule, name="my_reception_days"),
    path("outreach/centers/<int:cid>/reception-days/", views.schedule, name="reception_days"),
    path("outreach/reception-days/<int:pk>/cancel/", views.cancel_day, name="reception_day_cancel"),
    path(
        "outreach/centers/<int:cid>/reception-days/<int:year>/<int:month>/notice/",
        views.notice,
        name="reception_notice",
    ),
    path(
        "outreach/centers/<int:cid>/reception-days/<int:year>/<int:month>/notice.pdf",
        views.notice_pdf,
        name="reception_notice_pdf",
    ),
]
