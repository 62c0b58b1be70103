"""API of 下访 / 约访 (``/api/v1/cases/{id}/outreach/``) and of the reception days
(``/api/v1/reception-days/``): helper F."""

urlpatterns: list = []
