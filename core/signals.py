"""API tokens end with the credentials and the account that issued them (core.services).

- A password change revokes the user's tokens on every path that saves the user: the admin's
  password forms, a password change or reset view, ``set_password()`` and ``save()`` in code,
  ``manage.py changepassword``, or a hash written to ``password`` directly. Django's own re-hash
  of an outdated hash at login (a new hasher or iteration count after an upgrade) keeps the same
  password, and the tokens.
- A deactivation revokes them, so a reactivated account logs in again. A deactivation by
  ``QuerySet.update()`` sends no signal: the authentication class refuses an inactive user's
  token on every request anyway (core.authentication).
- A page logout (/accounts/logout/, the admin's logout) revokes them: staff share desk PCs, and
  "log out" is expected to end that person's access from the desk, the API client included.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from .models import User
from .services import RevokeReason, revoke_tokens

# Set on the instance by pre_save, read and cleared by post_save.
_PENDING = "_token_revocation"


def _rehash_of_the_same_password(old_hash: str) -> bool:
    """Whether Django would re-hash ``old_hash`` at the next correct login (check_password's
    setter), which changes the stored hash but not the password."""
    try:
        hasher = identify_hasher(old_hash)
    except ValueError:  # an unusable password ("!..."): a new hash is a new password
        return False
    return hasher.algorithm != get_hasher().algorithm or hasher.must_update(old_hash)


@receiver(pre_save, sender=User, dispatch_uid="core.tokens.pre_save")
def _note_credential_change(
    sender: type[User], instance: User, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    if instance.pk is None or kwargs.get("raw"):
        return
    if update_fields is not None and not {"password", "is_active"} & update_fields:
        return  # e.g. login's last_login: no query
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    reason: RevokeReason | None = None
    if old["is_active"] and not instance.is_active:
        reason = RevokeReason.DEACTIVATED
    elif instance._password is not None or (  # type: ignore[attr-defined]
        old["password"] != instance.password and not _rehash_of_the_same_password(old["password"])
    ):
        reason = RevokeReason.PASSWORD_CHANGED
    setattr(instance, _PENDING, reason)


@receiver(post_save, sender=User, dispatch_uid="core.tokens.post_save")
def _revoke_after_credential_change(sender: type[User], instance: User, **kwargs: Any) -> None:
    reason = instance.__dict__.pop(_PENDING, None)
    if reason is not None:
        revoke_tokens(user=instance, reason=reason)


@receiver(user_logged_out, dispatch_uid="core.tokens.logged_out")
def _revoke_at_page_logout(
    sender: Any, request: HttpRequest, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        revoke_tokens(user=user, reason=RevokeReason.PAGE_LOGOUT)
