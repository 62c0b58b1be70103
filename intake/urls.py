from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/receipt/<int:case_id>/", views.receipt, name="receipt"),
    path("status/", views.status, name="status"),
]
