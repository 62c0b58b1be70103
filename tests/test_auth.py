import pytest
from django.urls import reverse

from conftest import PASSWORD


def test_login_page_is_chinese_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_login_page_in_english_on_request(client, db):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Staff login" in response.content.decode()


def test_correct_password_logs_in(client, cast):
    response = client.post(reverse("login"), {"username": "reception", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_shows_a_plain_error(client, cast):
    response = client.post(
        reverse("login"), {"username": "reception", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_and_say_so(client, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "triage", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "triage", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other accounts at the same desk (same IP) are not affected.
    ok = client.post(reverse("login"), {"username": "reception", "password": PASSWORD})
    assert ok.status_code == 302


def test_logout_requires_post_and_ends_the_session(client, cast):
    client.force_login(cast["reception"])
    client.post(reverse("logout"))
    assert client.get("/").status_code == 302


def test_pages_require_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_token_endpoint_issues_a_token_that_authenticates(client, cast):
    response = client.post("/api/v1/auth/token/", {"username": "police", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "police" and me.json()["roles"] == ["officer"]


def test_token_endpoint_rejects_a_wrong_password_with_field_errors(client, cast):
    response = client.post("/api/v1/auth/token/", {"username": "police", "password": "nope"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_api_requires_authentication(client, db):
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_external_assets(client, cast):
    client.force_login(cast["reception"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger" in docs.lower()
    assert "cdn" not in docs.lower() and "https://" not in docs
