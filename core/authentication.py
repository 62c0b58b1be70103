"""API token authentication with the same limits as a session.

- A token expires after ``TOKEN_IDLE_MINUTES`` without use (default 480, a working day, like
  SESSION_COOKIE_AGE). Last use is kept in core.TokenActivity and written at most once a minute,
  so a busy client costs one UPDATE a minute, not one per request. An expired token is deleted:
  the client logs in again for a new one.
- A token stops working while its account is locked out by django-axes (repeated failed logins)
  and when the account is deactivated.
- Tokens are issued and revoked only in core.services: a login replaces the user's token, and
  DELETE on the token endpoint, a password change, a deactivation and a page logout delete it
  (core.signals). The per-request ``is_active`` check stays: a deactivation by
  ``QuerySet.update()`` sends no signal.
- The token endpoint (core.api_views.ObtainTokenView) answers 429 with a clear message while
  the account is locked, the same status as the login page (django-axes), and Retry-After.
- This class is the first authentication class, so an API call without credentials answers
  401 with ``WWW-Authenticate: Token`` (DRF takes the header from the first class).

No view imports here: DRF imports authentication classes while rest_framework.views loads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from .models import TokenActivity, User

# Last use is written when the stored value is at least this old.
TOUCH_INTERVAL = timedelta(minutes=1)


def token_idle_limit() -> timedelta:
    return timedelta(minutes=getattr(settings, "TOKEN_IDLE_MINUTES", 480))


def account_locked(request: HttpRequest, username: str) -> bool:
    """Whether django-axes has locked this account out (failures within the cool-off time)."""
    if not getattr(settings, "AXES_ENABLED", True) or not username:
        return False
    return bool(AxesProxyHandler.is_locked(request, credentials={"username": username}))


def _last_use(token: Token) -> datetime:
    try:
        return token.activity.last_used_at  # type: ignore[attr-defined,no-any-return]
    except TokenActivity.DoesNotExist:
        return token.created


def token_is_idle(token: Token, now: datetime | None = None) -> bool:
    return (now or timezone.now()) - _last_use(token) > token_idle_limit()


def touch(token: Token, now: datetime | None = None) -> None:
    """Record a use of the token, at most once per TOUCH_INTERVAL."""
    now = now or timezone.now()
    if now - _last_use(token) < TOUCH_INTERVAL and hasattr(token, "activity"):
        return
    # One statement (INSERT ... ON CONFLICT DO UPDATE), not a locked read and a write.
    TokenActivity.objects.bulk_create(
        [TokenActivity(token=token, last_used_at=now)],
        update_conflicts=True,
        unique_fields=["token"],
        update_fields=["last_used_at"],
    )


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication plus idle expiry, lockout and deactivation (module doc)."""

    def authenticate(self, request: Request) -> tuple[User, Token] | None:  # type: ignore[override]
        self._request = request
        return super().authenticate(request)  # type: ignore[return-value]

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        token = (
            Token.objects.select_related("user", "activity").filter(key=key).first()
            if len(key) <= 40
            else None
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user: User = token.user  # type: ignore[assignment]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        now = timezone.now()
        if token_is_idle(token, now):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("The token expired after %(minutes)d idle minutes: log in again for a new one.")
                % {"minutes": int(token_idle_limit().total_seconds() // 60)}
            )
        request = getattr(self, "_request", None)
        django_request = getattr(request, "_request", request)
        if django_request is not None and account_locked(django_request, user.get_username()):
            raise exceptions.AuthenticationFailed(
                _("This account is locked after too many failed logins.")
            )
        touch(token, now)
        return user, token
