from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .authentication import account_locked
from .models import User
from .parsers import SafeJSONParser
from .services import RevokeReason, issue_token, revoke_tokens


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    center = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """Who the token or session belongs to, with roles: what clients use to build their menus."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "username": user.username,
            "full_name": user.full_name,
            "center": str(user.center) if user.center_id else None,
            "department": user.department.name if user.department_id else None,
            "roles": sorted(user.role_codes),
        }
        return Response(MeSerializer(data).data)


# --- schema and docs --------------------------------------------------------------------------


def docs_are_public() -> bool:
    """The schema and Swagger UI need a login unless API_DOCS_PUBLIC (never in production)."""
    return bool(getattr(settings, "API_DOCS_PUBLIC", False))


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema; login required (checked per request, so settings overrides apply)."""

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if docs_are_public() else [IsAuthenticated()]


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar package. The split view serves its start-up script as a file
    (``?script``), so the page needs no inline script; the one inline ``<style>`` of the page
    carries the CSP nonce (templates/core/swagger_ui.html)."""

    template_name = "core/swagger_ui.html"

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if docs_are_public() else [IsAuthenticated()]


_swagger_view = SwaggerView.as_view(url_name="schema")


def api_docs(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
    """Swagger UI. A visitor who is not logged in goes to the login page and comes back."""
    if not docs_are_public() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger_view(request, *args, **kwargs)


# --- API tokens -------------------------------------------------------------------------------


def lockout_minutes() -> int:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cooloff, timedelta):
        return max(1, math.ceil(cooloff.total_seconds() / 60))
    return 0


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"

    def __init__(self) -> None:
        minutes = lockout_minutes()
        if minutes:
            message = _(
                "This account is locked after too many failed logins. Try again in "
                "%(minutes)d minutes, or ask an administrator to unlock it."
            ) % {"minutes": minutes}
        else:
            message = _(
                "This account is locked after too many failed logins. Ask an administrator "
                "to unlock it."
            )
        super().__init__({"detail": message, "code": self.default_code})
        self.wait = minutes * 60 if minutes else None


class ObtainTokenView(ObtainAuthToken):
    """POST username and password for a token; DELETE with the token to log out of the API.

    A locked account gets 429 with a message that says so (not the generic wrong-credentials
    400), before and at the failure that locks it. Every login issues a fresh token and the
    previous one stops working (core.services: one token per user)."""

    parser_classes = (SafeJSONParser, *ObtainAuthToken.parser_classes[:2])  # type: ignore[assignment]

    def get_permissions(self) -> list[BasePermission]:
        # The login is open to anyone; the logout needs the credentials it ends. Unauthenticated,
        # DELETE answers 401 with WWW-Authenticate: Token (the first authentication class).
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return []

    @extend_schema(
        summary="Obtain an API token",
        description=(
            "Answers a new token for the user; the user's previous token stops working (one "
            "token per user: a login on another device ends the first device's token). A token "
            "expires after the configured idle time (TOKEN_IDLE_MINUTES), stops working while "
            "the account is locked or deactivated, and is revoked by DELETE on this path, a "
            "password change, a deactivation and a logout from the web pages."
        ),
        request=inline_serializer(
            "TokenRequest",
            {
                "username": serializers.CharField(min_length=1, max_length=150),
                "password": serializers.CharField(min_length=1, max_length=128),
            },
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="The account is locked after failed logins."),
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        # Only a plausible username is looked up (a NUL character would reach the database);
        # anything else gets the serializer's field errors.
        if not isinstance(username, str) or "\x00" in username or len(username) > 150:
            username = ""
        django_request = request._request
        if account_locked(django_request, username):
            raise AccountLocked()
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if account_locked(django_request, username):
                raise AccountLocked()
            raise exceptions.ValidationError(serializer.errors)
        token = issue_token(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(
        summary="Log out of the API (revoke the token)",
        description=(
            "Revokes the token sent in the Authorization header: it answers 401 from then on, "
            "and the client logs in again (POST) for a new one. Called with a web session "
            "instead (CSRF-checked), revokes the session user's token."
        ),
        request=None,
        responses={
            204: OpenApiResponse(description="The token is revoked."),
            401: OpenApiResponse(
                description="No valid credentials (a revoked or expired token, or none)."
            ),
        },
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One token per user, so the token sent and "the user's tokens" are the same row; by
        # user, a session caller (no token in request.auth) revokes theirs too.
        revoke_tokens(user=cast(User, request.user), reason=RevokeReason.API_LOGOUT)
        return Response(status=status.HTTP_204_NO_CONTENT)
