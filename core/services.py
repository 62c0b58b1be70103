"""Accounts: the one write path for API tokens (issued at login, revoked at logout, password
change, deactivation and page logout).

One token per user (DRF's ``Token`` is one-to-one with the user). Every login replaces it, so a
second device's login ends the first device's token: the staff API is used by one client per
person (a desk application or a script), and "a new login ends the old token" is what makes a
leaked token die at the owner's next login. Several devices at once would need a token model of
our own (several rows per user, a device name, revocation one by one) and are not needed yet.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import TokenActivity, User

logger = logging.getLogger(__name__)


class RevokeReason(StrEnum):
    API_LOGOUT = "api_logout"
    PAGE_LOGOUT = "page_logout"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"


def issue_token(*, user: User) -> Token:
    """A fresh token for a login: the user's previous token stops working."""
    with transaction.atomic():
        # Two logins of one user at once would both delete and then both insert, and the second
        # insert would break the one-token-per-user constraint (a 500): the user row's lock
        # makes the second wait and then replace the first's token.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        # Last use starts now (core.authentication): the first request need not write it.
        TokenActivity.objects.create(token=token, last_used_at=timezone.now())
    return token


def revoke_tokens(*, user: User, reason: RevokeReason) -> int:
    """Delete the user's API tokens (their activity rows go with them); how many there were."""
    _, per_model = Token.objects.filter(user_id=user.pk).delete()
    count = per_model.get(Token._meta.label, 0)
    if count:
        logger.info("API token of user %s revoked: %s", user.pk, reason.value)
    return count
