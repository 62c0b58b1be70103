"""HTTP hardening (issue 13, items 10-13): Content-Security-Policy and the other security headers
on every kind of page, Cache-Control: no-store, API tokens that expire and follow the account's
lockout and deactivation, 401 with WWW-Authenticate, and an OpenAPI schema that states its
bounds and needs a login."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.conf import settings as django_settings
from django.db import DataError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import PASSWORD
from core.api import exception_handler
from core.middleware import NoStoreMiddleware
from core.models import TokenActivity
from petitions.testing import register

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TOKEN_URL = "/api/v1/auth/token/"
ME = "/api/v1/me/"


def obtain_token(username: str, password: str = PASSWORD) -> Any:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- item 10/11: headers on every page kind ------------------------------------------------------


def page_kinds(cast: dict[str, Any]) -> dict[str, tuple[Client, str]]:
    anonymous = Client()
    staff = Client()
    staff.force_login(cast["reception"])
    admin = Client()
    admin_user = cast["admin"]
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    admin.force_login(admin_user)
    case = register(cast["reception"]).case
    return {
        "login page": (anonymous, "/accounts/login/"),
        "public status page": (anonymous, "/status/"),
        "health": (anonymous, "/healthz"),
        "staff home": (staff, "/"),
        "front desk": (staff, "/desk/"),
        "case page": (staff, f"/cases/{case.pk}/"),
        "API (session)": (staff, "/api/v1/cases/"),
        "API (anonymous)": (anonymous, "/api/v1/cases/"),
        "API schema": (staff, "/api/schema/"),
        "API docs": (staff, "/api/docs/"),
        "admin": (admin, "/admin/"),
        "not found": (staff, "/no-such-page/"),
    }


def test_every_page_kind_has_csp_and_the_security_headers(cast):
    for kind, (client, url) in page_kinds(cast).items():
        response = client.get(url)
        assert response.status_code < 500, (kind, response.status_code)
        csp = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp, (kind, csp)
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, kind
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src and "'unsafe-inline'" not in script_src.group(1), (kind, csp)
        assert "'unsafe-eval'" not in csp, kind
        assert response["X-Frame-Options"] == "DENY", kind
        assert response["Referrer-Policy"] == "same-origin", kind
        assert response["X-Content-Type-Options"] == "nosniff", kind
        assert "no-store" in response["Cache-Control"], (kind, response.get("Cache-Control"))


def test_csp_nonce_changes_per_response_and_is_only_sent_when_used(cast):
    client = Client()
    client.force_login(cast["reception"])
    docs = [client.get("/api/docs/")["Content-Security-Policy"] for _ in range(2)]
    nonces = [re.search(r"'nonce-([^']+)'", csp) for csp in docs]
    assert all(nonces) and nonces[0].group(1) != nonces[1].group(1)  # type: ignore[union-attr]
    # A page that uses no nonce sends none (nothing to guess from).
    assert "nonce-" not in client.get("/desk/")["Content-Security-Policy"]
    html = client.get("/api/docs/").content.decode()
    assert re.search(r'<style nonce="[^"]+">', html)
    assert "<script>" not in html  # the split view serves its start-up script as a file


def test_static_files_keep_their_caching():
    """WhiteNoise answers /static/ before NoStoreMiddleware; should one reach it, it is left as is."""
    middleware = MIDDLEWARE_ORDER()
    assert middleware.index("core.middleware.NoStoreMiddleware") > middleware.index(
        "whitenoise.middleware.WhiteNoiseMiddleware"
    )
    static = HttpResponse("x")
    static["Cache-Control"] = "max-age=31536000, public, immutable"
    response = NoStoreMiddleware(lambda request: static)(RequestFactory().get("/static/js/app.js"))
    assert response["Cache-Control"] == "max-age=31536000, public, immutable"
    page = HttpResponse("x")
    page["Cache-Control"] = "max-age=600, public"
    response = NoStoreMiddleware(lambda request: page)(RequestFactory().get("/cases/"))
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def MIDDLEWARE_ORDER() -> list[str]:  # noqa: N802
    return list(django_settings.MIDDLEWARE)


def test_templates_have_no_inline_script_style_or_event_handler():
    """CSP blocks them: every script and style is a static file (or carries the nonce)."""
    offenders = []
    patterns = [
        (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I), "inline <script>"),
        (re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I), "<style> without nonce"),
        (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
        (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
        (re.compile(r"javascript:", re.I), "javascript: URL"),
    ]
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in patterns:
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(ROOT)}: {what}: {match.group()[:60]}")
    assert not offenders, "\n".join(offenders)


def test_static_javascript_injects_no_inline_handlers_or_styles():
    offenders = []
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        text = path.read_text()
        for pattern in (
            r"\bon[a-z]+\s*=\s*['\"]",
            r"\bstyle\s*=\s*['\"]",
            r"\beval\(",
            r"new Function",
        ):
            if re.search(pattern, text):
                offenders.append(f"{path.name}: {pattern}")
    assert not offenders, offenders


def test_session_and_csrf_cookies_are_httponly_and_samesite(cast):
    client = Client()
    client.post("/accounts/login/", {"username": "reception", "password": PASSWORD})
    session = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"


PRODUCTION_PROBE = r"""
import json, django
django.setup()
from django.http import HttpResponse
from django.test import Client, RequestFactory
client = Client()
out = {}
for url in ("/healthz", "/accounts/login/", "/api/schema/", "/api/docs/"):
    r = client.get(url, secure=True, headers={"host": "petition.example.gov.cn"})
    out[url] = {
        "status": r.status_code,
        "headers": {k: v for k, v in r.headers.items()},
        "cookies": {n: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"])}
                    for n, c in r.cookies.items()},
    }
r = client.get("/healthz", headers={"host": "petition.example.gov.cn"})
out["http"] = {"status": r.status_code, "location": r.get("Location", "")}
print(json.dumps(out))
"""


def test_production_settings_send_hsts_secure_cookies_and_hide_the_schema():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "PII_KEY", "ALLOWED_HOSTS", "API_DOCS_PUBLIC"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 20 + "-Production-Secret-Key-With-Enough-Entropy-1234567890",
        PII_KEY="another-long-random-pii-key-1234567890",
        ALLOWED_HOSTS="petition.example.gov.cn",
        API_DOCS_PUBLIC="true",  # production ignores it
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    health = out["/healthz"]["headers"]
    assert health["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in health["Strict-Transport-Security"]
    login = out["/accounts/login/"]
    assert "default-src 'self'" in login["headers"]["Content-Security-Policy"]
    assert login["headers"]["X-Frame-Options"] == "DENY"
    assert "no-store" in login["headers"]["Cache-Control"]
    csrf = login["cookies"][django_settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    # The schema and docs need a login in production, whatever the environment says.
    assert out["/api/schema/"]["status"] == 401
    assert out["/api/docs/"]["status"] == 302
    assert "/accounts/login/" in out["/api/docs/"]["headers"]["Location"]
    # Plain HTTP is redirected to HTTPS.
    assert out["http"]["status"] == 301 and out["http"]["location"].startswith("https://")


def test_production_session_cookie_is_secure_and_httponly():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 60,
        PII_KEY="p" * 40,
        ALLOWED_HOSTS="petition.example.gov.cn",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.API_DOCS_PUBLIC)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "True", "False"], result.stderr


# --- item 12: API authentication ---------------------------------------------------------------


def test_unauthenticated_api_calls_answer_401_with_www_authenticate(db):
    for method, url in (("get", ME), ("get", "/api/v1/cases/"), ("post", "/api/v1/cases/")):
        response = getattr(APIClient(), method)(url)
        assert response.status_code == 401, (url, response.status_code)
        assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_answers_401(db):
    response = token_client("0" * 40).get(ME)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert token_client("x" * 5000).get(ME).status_code == 401


def test_session_users_without_the_role_still_get_403(cast):
    client = APIClient()
    client.force_login(cast["reception"])
    assert client.get("/api/v1/inbox/").status_code == 403


def test_a_token_expires_after_the_idle_time(cast, settings):
    settings.TOKEN_IDLE_MINUTES = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = obtain_token("police").json()["token"]
        clock.move_to(start + timedelta(minutes=50))
        assert token_client(key).get(ME).status_code == 200  # use keeps it alive
        clock.move_to(start + timedelta(minutes=105))
        assert token_client(key).get(ME).status_code == 200
        clock.move_to(start + timedelta(minutes=166))
        response = token_client(key).get(ME)
        assert response.status_code == 401
        assert "60" in response.json()["detail"]
        assert not Token.objects.filter(key=key).exists()
        # Logging in again gives a new token that works.
        new = obtain_token("police").json()["token"]
        assert new != key and token_client(new).get(ME).status_code == 200


def test_the_default_idle_time_is_eight_hours(cast):
    assert django_settings.TOKEN_IDLE_MINUTES == 480
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = obtain_token("police").json()["token"]
        clock.move_to(start + timedelta(hours=7, minutes=59))
        assert token_client(key).get(ME).status_code == 200
        clock.move_to(start + timedelta(hours=16, minutes=1))
        assert token_client(key).get(ME).status_code == 401


def test_an_old_token_without_activity_counts_from_its_creation(cast):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        token = Token.objects.create(user=cast["police"])
    assert token_client(token.key).get(ME).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(cast, django_assert_max_num_queries):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = obtain_token("police").json()["token"]
        first = TokenActivity.objects.get(token_id=key).last_used_at
        clock.move_to(start + timedelta(seconds=30))
        assert token_client(key).get(ME).status_code == 200
        assert TokenActivity.objects.get(token_id=key).last_used_at == first
        clock.move_to(start + timedelta(seconds=61))
        assert token_client(key).get(ME).status_code == 200
        assert TokenActivity.objects.get(token_id=key).last_used_at > first


def _fail_logins(username: str, times: int) -> None:
    for _ in range(times):
        Client().post("/accounts/login/", {"username": username, "password": "wrong"})


def test_a_locked_out_accounts_token_stops_working(cast, settings):
    key = obtain_token("police").json()["token"]
    assert token_client(key).get(ME).status_code == 200
    _fail_logins("police", settings.AXES_FAILURE_LIMIT)
    response = token_client(key).get(ME)
    assert response.status_code == 401
    assert "locked" in response.json()["detail"].lower() or "锁定" in response.json()["detail"]
    # Another account's token is unaffected.
    other = obtain_token("court").json()["token"]
    assert token_client(other).get(ME).status_code == 200


def test_the_token_endpoint_says_the_account_is_locked(cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert obtain_token("police", "wrong").status_code == 400
    # The failure that reaches the limit already says so.
    response = obtain_token("police", "wrong")
    assert response.status_code == 429
    assert response.json()["code"] == "account_locked"
    assert response["Retry-After"] == str(15 * 60)
    # And so does the right password while locked.
    response = APIClient().post(
        TOKEN_URL,
        {"username": "police", "password": PASSWORD},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]
    assert "15 minutes" in response.json()["detail"]


def test_the_lock_ends_after_the_cool_off_time(cast, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = obtain_token("police").json()["token"]
        _fail_logins("police", settings.AXES_FAILURE_LIMIT)
        assert token_client(key).get(ME).status_code == 401
        clock.move_to(start + settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
        assert token_client(key).get(ME).status_code == 200


@pytest.mark.parametrize("username", ["a\x00b", "x" * 5000, ["police"], {"a": 1}, None])
def test_the_token_endpoint_refuses_garbage_with_400(cast, username):
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": "a\x00"}, format="json"
    )
    assert response.status_code == 400


def test_a_deactivated_users_token_fails(cast):
    key = obtain_token("police").json()["token"]
    user = cast["police"]
    user.is_active = False
    user.save()
    response = token_client(key).get(ME)
    assert response.status_code == 401
    assert obtain_token("police").status_code == 400


# --- item 13: the schema -----------------------------------------------------------------------


def test_schema_and_docs_need_a_login(db, settings):
    assert settings.API_DOCS_PUBLIC is False
    assert APIClient().get("/api/schema/").status_code == 401
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    assert Client().get("/api/docs/?script=").status_code == 302


def test_schema_and_docs_open_with_a_token(cast):
    key = obtain_token("police").json()["token"]
    assert token_client(key).get("/api/schema/").status_code == 200


@pytest.fixture
def schema(cast) -> dict[str, Any]:
    client = APIClient()
    client.force_login(cast["reception"])
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _request_components(doc: dict[str, Any]) -> set[str]:
    schemas = doc["components"]["schemas"]
    roots: set[str] = set()
    for operations in doc["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref")
                if ref:
                    roots.add(ref.rsplit("/", 1)[-1])
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)

        def refs(node: Any) -> None:
            if isinstance(node, dict):
                if "$ref" in node:
                    visit(node["$ref"].rsplit("/", 1)[-1])
                for value in node.values():
                    refs(value)
            elif isinstance(node, list):
                for value in node:
                    refs(value)

        refs(schemas[name])

    for root in roots:
        visit(root)
    return seen


def _gaps(name: str, node: dict[str, Any], path: str, required: bool, out: list[str]) -> None:
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            _gaps(name, sub, path, required, out)
    if "$ref" in node or node.get("readOnly"):
        return
    kind = node.get("type")
    if kind == "integer" and ("maximum" not in node or "minimum" not in node):
        out.append(f"{name}{path}: integer without minimum/maximum")
    if kind == "string" and required and not {"enum", "format", "minLength", "pattern"} & set(node):
        out.append(f"{name}{path}: required string without minLength")
    if kind == "object" or "properties" in node:
        needed = set(node.get("required", []))
        for key, value in (node.get("properties") or {}).items():
            _gaps(name, value, f"{path}.{key}", key in needed, out)
    if kind == "array" and isinstance(node.get("items"), dict):
        _gaps(name, node["items"], f"{path}[]", False, out)


def test_every_request_body_states_bounds_and_min_lengths(schema):
    components = _request_components(schema)
    assert len(components) > 10
    gaps: list[str] = []
    for name in sorted(components):
        _gaps(name, schema["components"]["schemas"][name], "", False, gaps)
    assert not gaps, "\n".join(gaps)


def test_every_integer_parameter_states_its_maximum(schema):
    gaps = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema_ = parameter.get("schema", {})
                if schema_.get("type") == "integer" and "maximum" not in schema_:
                    gaps.append(f"{method.upper()} {path} {parameter['name']}")
    assert not gaps, gaps


def test_schema_spot_checks(schema):
    components = schema["components"]["schemas"]
    intake = components["CaseIntakeRequest"]["properties"]
    assert intake["request"]["minLength"] == 1
    assert intake["headcount"]["maximum"] <= 2**31 - 1
    assert intake["channel"]["minLength"] == 1
    # A choice field is an enum.
    screen = components["ScreenInputRequest"]["properties"]
    decision = screen["decision"]
    decision_schema = (
        components[decision["$ref"].rsplit("/", 1)[-1]] if "$ref" in decision else decision
    )
    assert decision_schema.get("enum")
    transfer = components["TransferInputRequest"]["properties"]
    assert transfer["expected_version"]["maximum"] == 2**31 - 1
    # The case list's filters: state is an enum, center an id with bounds.
    params = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert params["center"]["schema"]["maximum"] == 2**63 - 1
    state = params["state"]["schema"]
    assert state.get("items", {}).get("enum") or state.get("enum")


def test_data_errors_that_slip_through_answer_400_not_500():
    response = exception_handler(DataError("integer out of range"), {})
    assert response is not None and response.status_code == 400
