"""Campaign pages."""

urlpatterns: list = []
