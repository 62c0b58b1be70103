"""Development / `make run`: embedded defaults when DATABASE_URL / REDIS_URL are not set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", True)

# The embedded default (no DATABASE_URL): SQLite shared by the web server, the Celery worker and
# beat. WAL lets readers go on while one connection writes; IMMEDIATE takes the write lock when a
# transaction begins, so a writer waits (up to "timeout" seconds) instead of failing with
# "database is locked" when it upgrades a read lock mid-transaction.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
