"""API tokens can be revoked and rotate (issue 18 item 11): an API logout, a fresh token at every
login, and no token outliving a password change, a deactivation or a page logout."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import PASSWORD
from core.models import User

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME = "/api/v1/me/"
NEW_PASSWORD = "Another-pass-2026"


def log_in(username: str, password: str = PASSWORD) -> str:
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    key: str = response.json()["token"]
    return key


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def status_of(key: str) -> int:
    return token_client(key).get(ME).status_code  # type: ignore[no-any-return]


# --- API logout ----------------------------------------------------------------------------------


def test_api_logout_revokes_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    assert status_of(key) == 200
    response = token_client(key).delete(TOKEN_URL)
    assert response.status_code == 204
    assert status_of(key) == 401
    assert not Token.objects.filter(key=key).exists()


def test_api_logout_leaves_other_users_tokens_alone(cast: dict[str, User]) -> None:
    mine, theirs = log_in("police"), log_in("court")
    assert token_client(mine).delete(TOKEN_URL).status_code == 204
    assert status_of(theirs) == 200


def test_api_logout_without_credentials_is_401_not_405(cast: dict[str, User]) -> None:
    response = APIClient().delete(TOKEN_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_api_logout_with_a_revoked_token_is_401(cast: dict[str, User]) -> None:
    key = log_in("police")
    assert token_client(key).delete(TOKEN_URL).status_code == 204
    assert token_client(key).delete(TOKEN_URL).status_code == 401


def test_api_logout_with_a_session_revokes_the_users_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    client = APIClient(enforce_csrf_checks=True)
    client.get(reverse("login"))  # the login form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    client.force_login(cast["police"])
    # A session caller is CSRF-checked like any other unsafe session request.
    assert client.delete(TOKEN_URL).status_code == 403
    assert status_of(key) == 200
    assert client.delete(TOKEN_URL, HTTP_X_CSRFTOKEN=csrf).status_code == 204
    assert status_of(key) == 401


def test_the_schema_documents_the_api_logout(cast: dict[str, User]) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    operations = schema["paths"]["/api/v1/auth/token/"]
    assert set(operations) >= {"post", "delete"}
    assert set(operations["delete"]["responses"]) == {"204", "401"}
    assert {"tokenAuth": []} in operations["delete"]["security"]  # the login needs none


# --- rotation on login ---------------------------------------------------------------------------


def test_each_login_issues_a_fresh_token_and_the_old_one_stops_working(
    cast: dict[str, User],
) -> None:
    first = log_in("police")
    second = log_in("police")
    assert second != first
    assert status_of(first) == 401
    assert status_of(second) == 200
    assert Token.objects.filter(user=cast["police"]).count() == 1


def test_a_failed_login_keeps_the_current_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    response = APIClient().post(
        TOKEN_URL, {"username": "police", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert status_of(key) == 200


# --- password change -----------------------------------------------------------------------------


def test_set_password_and_save_revokes_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    user = User.objects.get(username="police")
    user.set_password(NEW_PASSWORD)
    user.save()
    assert status_of(key) == 401
    assert status_of(log_in("police", NEW_PASSWORD)) == 200


def test_a_password_hash_written_directly_revokes_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    user = User.objects.get(username="police")
    user.password = make_password(NEW_PASSWORD)
    user.save(update_fields=["password"])
    assert status_of(key) == 401


def test_saving_other_fields_keeps_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    user = User.objects.get(username="police")
    user.full_name = "Officer Wang"
    user.save()
    assert status_of(key) == 200


def test_the_admin_password_change_revokes_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    root = User.objects.create_superuser("root", password=PASSWORD)
    admin = Client()
    admin.force_login(root)
    url = reverse("admin:auth_user_password_change", args=[cast["police"].pk])
    response = admin.post(
        url,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert status_of(key) == 401


def test_the_own_password_change_view_revokes_the_token(cast: dict[str, User]) -> None:
    user = cast["police"]
    user.is_staff = True
    user.save()
    key = log_in("police")
    page = Client()
    page.force_login(user)
    response = page.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content[:2000]
    assert status_of(key) == 401


def test_a_rehash_of_the_same_password_at_login_keeps_the_token(
    cast: dict[str, User], settings: Any
) -> None:
    """After an upgrade Django re-hashes an outdated hash at the next login: same password."""
    key = log_in("police")  # stored as MD5, the test settings' only hasher
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    page = Client().post(reverse("login"), {"username": "police", "password": PASSWORD})
    assert page.status_code == 302
    assert User.objects.get(username="police").password.startswith("pbkdf2_sha256$")
    assert status_of(key) == 200


# --- deactivation --------------------------------------------------------------------------------


def test_deactivation_revokes_the_token_for_good(cast: dict[str, User]) -> None:
    key = log_in("police")
    user = User.objects.get(username="police")
    user.is_active = False
    user.save()
    assert status_of(key) == 401
    # Reactivated, the account needs a new login: the old token does not come back to life.
    user.is_active = True
    user.save()
    assert status_of(key) == 401
    assert status_of(log_in("police")) == 200


def test_a_deactivation_by_bulk_update_still_refuses_the_token(cast: dict[str, User]) -> None:
    """No signal fires for QuerySet.update(): the per-request is_active check still holds."""
    key = log_in("police")
    User.objects.filter(username="police").update(is_active=False)
    assert status_of(key) == 401


# --- page logout ---------------------------------------------------------------------------------


def test_a_page_logout_revokes_the_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    page = Client()
    page.force_login(cast["police"])
    assert page.post(reverse("logout")).status_code in (200, 302)
    assert status_of(key) == 401


def test_a_page_logout_of_someone_else_keeps_this_token(cast: dict[str, User]) -> None:
    key = log_in("police")
    page = Client()
    page.force_login(cast["court"])
    page.post(reverse("logout"))
    assert status_of(key) == 200
