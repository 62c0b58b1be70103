from django.urls import include, path

from core.api_views import ObtainTokenView

app_name = "api"
urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("", include("core.api_urls")),
    path("", include("petitions.api_urls")),
    path("", include("routing.api.urls")),
    path("", include("supervision.api.urls")),
    path("", include("closure.api.urls")),
    path("", include("appeals.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("outreach.api.urls")),
]
