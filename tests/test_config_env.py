import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import Env, EnvError, parse_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "raw,expected", [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False)]
)
def test_bool_accepts_the_usual_spellings(raw, expected):
    assert Env({"DEBUG": raw}).bool("DEBUG", default=not expected) is expected


def test_bool_rejects_anything_else_naming_the_variable():
    with pytest.raises(EnvError, match="DEBUG") as exc:
        Env({"DEBUG": "treu"}).bool("DEBUG", default=False)
    assert "treu" in str(exc.value)


def test_missing_values_take_the_default_and_required_ones_fail():
    env = Env({})
    assert env.bool("DEBUG", default=True) is True
    assert env.int("PORT", default=7) == 7
    with pytest.raises(EnvError, match="SECRET_KEY.*required"):
        env.str("SECRET_KEY")


def test_int_and_list_are_strict():
    with pytest.raises(EnvError, match="EMAIL_PORT"):
        Env({"EMAIL_PORT": "25x"}).int("EMAIL_PORT", 25)
    assert Env({"ALLOWED_HOSTS": "a.gov.cn, b.gov.cn"}).list("ALLOWED_HOSTS") == [
        "a.gov.cn",
        "b.gov.cn",
    ]
    with pytest.raises(EnvError, match="ALLOWED_HOSTS"):
        Env({"ALLOWED_HOSTS": "a.gov.cn,,b"}).list("ALLOWED_HOSTS")


def test_database_url_postgres_is_parsed_into_django_settings():
    cfg = parse_database_url("postgres://u%40x:p%2Fw@db.local:5433/petition?sslmode=require")
    assert cfg["ENGINE"] == "django.db.backends.postgresql"
    assert (cfg["USER"], cfg["PASSWORD"], cfg["HOST"], cfg["PORT"], cfg["NAME"]) == (
        "u@x",
        "p/w",
        "db.local",
        "5433",
        "petition",
    )
    assert cfg["OPTIONS"] == {"sslmode": "require"}


def test_database_url_refuses_sqlite():
    """One engine everywhere: a SQLite URL is an error, not a second code path."""
    with pytest.raises(EnvError, match="use postgres://"):
        parse_database_url("sqlite:////abs/db.sqlite3")


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "postgres://h:notaport/db", "postgres://h:5432/", "sqlite://"]
)
def test_bad_database_urls_are_rejected(url):
    with pytest.raises(EnvError, match="DATABASE_URL"):
        parse_database_url(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:6379", "redis://:6379/0", "redis://h:6379/abc", "redis://h:xx/0"]
)
def test_bad_redis_urls_are_rejected(url):
    with pytest.raises(EnvError, match="REDIS_URL"):
        Env({"REDIS_URL": url}).redis("REDIS_URL")


def _run_check(settings: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "PII_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE=settings)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_malformed_variable_stops_startup_with_its_name():
    result = _run_check("config.settings.local", DEBUG="maybe")
    assert result.returncode != 0
    assert "Environment variable DEBUG" in result.stderr


def test_production_requires_its_secrets():
    result = _run_check("config.settings.production", ALLOWED_HOSTS="petition.example.gov.cn")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _run_check(
        "config.settings.production",
        SECRET_KEY="k" * 20 + "-Production-Secret-Key-With-Enough-Entropy-1234567890",
        PII_KEY="another-long-random-pii-key-1234567890",
        ALLOWED_HOSTS="petition.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
