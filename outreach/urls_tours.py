"""带案巡视 pages (included by outreach.urls, namespace "outreach")."""

from django.urls import path

from . import views_tours as views

urlpatterns = [
    path("tours/", views.tour_list, name="tours"),
    path("tours/plan/", views.tour_plan, name="tour_plan"),
    path("tours/<int:pk>/", views.tour_detail, name="tour"),
    path("tours/<int:pk>/cases/", views.tour_add_cases, name="tour_add_cases"),
    path(
        "tours/<int:pk>/cases/<int:case_id>/remove/",
        views.tour_remove_case,
        name="tour_remove_case",
    ),
    path(
        "tours/<int:pk>/cases/<int:case_id>/finding/",
        views.tour_finding,
        name="tour_finding",
    ),
    path("tours/<int:pk>/receptions/", views.tour_reception, name="tour_reception"),
    path("tours/<int:pk>/meetings/", views.tour_meeting, name="tour_meeting"),
    path("tours/<int:pk>/report/", views.tour_report, name="tour_report"),
    path("tours/<int:pk>/report.pdf", views.tour_report_pdf, name="tour_report_pdf"),
]
