"""Judicial aid pages (司法救助): outreach.views_aid."""

from django.urls import path

from . import views_aid as views

urlpatterns = [
    path("cases/<int:pk>/judicial-aid/apply/", views.aid_apply, name="aid_apply"),
    path("cases/<int:pk>/judicial-aid/<int:aid>/", views.aid_detail, name="aid_detail"),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/complete/",
        views.aid_complete,
        name="aid_complete",
    ),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/eligibility/",
        views.aid_eligibility,
        name="aid_eligibility",
    ),
    path("cases/<int:pk>/judicial-aid/<int:aid>/decide/", views.aid_decide, name="aid_decide"),
    path("cases/<int:pk>/judicial-aid/<int:aid>/approve/", views.aid_approve, name="aid_approve"),
    path("cases/<int:pk>/judicial-aid/<int:aid>/pay/", views.aid_pay, name="aid_pay"),
    path("cases/<int:pk>/judicial-aid/<int:aid>/notice/", views.aid_notice, name="aid_notice"),
    path(
        "cases/<int:pk>/judicial-aid/<int:aid>/notice.pdf",
        views.aid_notice_pdf,
        name="aid_notice_pdf",
    ),
    path("judicial-aid/", views.aid_ledger, name="aid_ledger"),
    path("judicial-aid/export.xlsx", views.aid_ledger_export, name="aid_ledger_export"),
]
