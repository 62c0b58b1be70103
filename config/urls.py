from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from core import api_views as core_api_views
from core import views as core_views
from core.forms import LoginForm

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", core_api_views.SchemaView.as_view(), name="schema"),
    path("api/docs/", core_api_views.api_docs, name="api-docs"),
    path("", include("petitions.urls")),
    path("", include("intake.urls")),
    path("", include("routing.urls")),
    path("", include("supervision.urls")),
    path("", include("supervision.case_urls")),
    path("", include("closure.urls")),
    path("", include("closure.public_urls")),
    path("", include("appeals.urls")),
    path("", include("reports.urls")),
    path("", include("campaigns.urls")),
    path("", include("outreach.urls")),
]

# No URL serves MEDIA_ROOT, in any mode: attachments are read only through
# petitions.views.attachment_download, which checks the case's visibility.
