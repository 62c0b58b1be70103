"""Test settings: the suite runs on real PostgreSQL and Redis given by DATABASE_URL / REDIS_URL."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REDIS_URL

if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "Tests need PostgreSQL: set DATABASE_URL=postgres://... (make test starts one for you)."
    )
if not REDIS_URL:
    raise ImproperlyConfigured(
        "Tests need Redis: set REDIS_URL=redis://... (make test starts one for you)."
    )

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The replica router's tests (tests/test_dbrouter.py) switch DATABASE_ROUTERS on and read through
# this alias, Django's test mirror of default (the same database over a second connection). The
# rest of the suite runs without the router, as a deployment without DATABASE_REPLICA_URL does.
DATABASES.setdefault("replica", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})
DATABASE_ROUTERS = []

# Under pytest-xdist (`make test` runs two workers) each worker has its own test database (pytest-django
# suffixes the name) and here its own Redis database, so one worker's Celery worker never takes
# another's tasks and rate-limit counters in the cache never mix.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and REDIS_URL:
    _parts = urlsplit(REDIS_URL)
    _base_db = int(_parts.path.strip("/") or 0)
    REDIS_URL = _parts._replace(path=f"/{(_base_db + 1 + int(_xdist_worker[2:])) % 16}").geturl()
    CELERY_BROKER_URL = REDIS_URL
    CACHES["default"]["LOCATION"] = REDIS_URL
