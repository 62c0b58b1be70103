from django.urls import path

from core.dbrouter import replica_reads

from . import views

app_name = "supervision"
urlpatterns = [
    # The dashboard's aggregates read on the replica when one is configured (core.dbrouter).
    path("supervision/", replica_reads(views.dashboard), name="dashboard"),
    path("supervision/cases/", views.case_list, name="case_list"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.mark_notifications_read, name="mark_read"),
]
