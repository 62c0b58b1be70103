"""Quality review (案件评查) pages, included by campaigns.urls (app_name "campaigns")."""

from django.urls import path

from . import views_review as views
from . import views_sheets

urlpatterns = [
    path("campaigns/<int:pk>/review/", views.review_results_view, name="review_results"),
    path("campaigns/<int:pk>/review/sample/", views.review_sample, name="review_sample"),
    path(
        "campaigns/<int:pk>/review/reviewers/new/",
        views.review_outside_reviewer,
        name="review_outside_reviewer",
    ),
    path("campaigns/<int:pk>/review/bulletin/", views.review_bulletin, name="review_bulletin"),
    path("campaigns/<int:pk>/review/cases/<int:case>/", views.review_case, name="review_case"),
    path(
        "campaigns/<int:pk>/review/cases/<int:case>/reviewers/",
        views.review_assign,
        name="review_assign",
    ),
    path(
        "campaigns/<int:pk>/review/cases/<int:case>/score/",
        views.review_score,
        name="review_score",
    ),
    path("campaign-reviews/<int:rid>/objection/", views.review_object, name="review_object"),
    path("campaign-reviews/<int:rid>/decision/", views.review_decide, name="review_decide"),
    path("campaign-reviews/<int:rid>/finding/", views.review_finding, name="review_finding"),
    path("review-tasks/", views.reviewer_home, name="reviewer_home"),
    # score sheets (评查评分表)
    path("campaigns/score-sheets/", views_sheets.sheet_list, name="sheet_list"),
    path("campaigns/score-sheets/copy/", views_sheets.sheet_copy, name="sheet_copy"),
    path("campaigns/score-sheets/<int:pk>/", views_sheets.sheet_edit, name="sheet_edit"),
]
