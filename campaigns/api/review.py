"""Quality review (案件评查) API: score sheets, sampling, reviews, objections."""

urlpatterns: list = []
