"""Quality review (案件评查) pages."""

urlpatterns: list = []
