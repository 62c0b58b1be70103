"""Strict parsing of configuration from the environment.

A malformed value stops start-up with a message naming the variable: a typo in
``DEBUG`` must not silently turn into ``False`` (or ``True``) in production.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# Method names below shadow builtins inside the class body; these aliases keep annotations clear.
_Str = str
_StrList = list[str]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ImproperlyConfigured):
    """A configuration variable is present but malformed."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"Environment variable {name}: {problem}")


class Env:
    def __init__(self, environ: Mapping[_Str, _Str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: _Str) -> _Str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: _Str, default: _Str | None = None) -> _Str:
        value = self.raw(name)
        if value is None:
            if default is None:
                raise EnvError(name, "is required but not set")
            return default
        return value

    def bool(self, name: _Str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise EnvError(name, f"expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")

    def int(self, name: _Str, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise EnvError(name, f"expected an integer, got {value!r}") from None

    def list(self, name: _Str, default: _StrList | None = None) -> _StrList:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        items = [item.strip() for item in value.split(",")]
        if any(item == "" for item in items):
            raise EnvError(name, f"empty item in comma-separated list {value!r}")
        return items

    def database(self, name: _Str) -> dict[_Str, Any] | None:
        value = self.raw(name)
        if value is None:
            return None
        return parse_database_url(value, name)

    def redis(self, name: _Str) -> _Str | None:
        value = self.raw(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
            raise EnvError(name, f"expected redis://host:port/db, got {value!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise EnvError(name, f"invalid port in {value!r}") from None
        db = parts.path.lstrip("/")
        if db and not db.isdigit():
            raise EnvError(name, f"database number must be an integer in {value!r}")
        return value


def parse_database_url(value: str, name: str = "DATABASE_URL") -> dict[str, Any]:
    parts = urlsplit(value)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        try:
            port = parts.port
        except ValueError:
            raise EnvError(name, f"invalid port in {value!r}") from None
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise EnvError(name, "no database name in the URL")
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    # PostgreSQL only: the code is written for it, and a local default on another engine would
    # run other queries than production (without DATABASE_URL, config/embedded_pg.py).
    raise EnvError(name, f"unsupported scheme {parts.scheme!r}; use postgres://")
