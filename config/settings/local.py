"""Development / `make run`: embedded defaults when DATABASE_URL / REDIS_URL are not set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", True)
