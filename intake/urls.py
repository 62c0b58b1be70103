from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/receipt/<int:case_id>/", views.receipt, name="receipt"),
    path("desk/person/<int:petitioner_id>/correct/", views.correct_file, name="correct"),
    path("status/", views.status, name="status"),
]
