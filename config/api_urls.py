from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token

app_name = "api"
urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token"),
    path("", include("core.api_urls")),
    path("", include("petitions.api_urls")),
    path("", include("routing.api.urls")),
    path("", include("supervision.api.urls")),
    path("", include("closure.api.urls")),
    path("", include("appeals.api.urls")),
]
