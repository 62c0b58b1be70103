"""`make run` and `manage.py` in a checkout: the product as deployed (DEBUG off unless asked for),
with embedded defaults when DATABASE_URL / REDIS_URL are not set: a PostgreSQL server from a pip
package under var/postgres (config/embedded_pg.py, started here when it is not running) and Kombu's
filesystem broker under var/broker."""

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR, env

DEBUG = env.bool("DEBUG", False)

if not DATABASES["default"]:
    from config.embedded_pg import database_settings

    DATABASES["default"] = database_settings(VAR_DIR)
