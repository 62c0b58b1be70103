"""The session store: database-backed and cached (Django's ``cached_db``), with the idle expiry
of an unchanged session written at most once a minute.

- Reads come from the shared cache (Redis), falling back to the database: no session query per
  request once the session is cached.
- ``SESSION_SAVE_EVERY_REQUEST`` slides a session's expiry (8 idle hours) on every request, which
  cost every request a transaction and an UPDATE of the session row even when nothing in it had
  changed (three statements of the 45 of a registration over HTTP, issue 10). Here an unchanged
  session is written again only when it was last written ``REFRESH_INTERVAL`` ago or more, as
  API tokens record their last use (core.authentication): the idle limit holds to within a
  minute. A session whose data changed is saved at once, as before.

The time of the last write is kept in the session data under ``REFRESHED_KEY`` (set while saving,
so it never marks the session modified). Configured by ``SESSION_ENGINE = "core.sessions"``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseStore
from django.utils import timezone

REFRESH_INTERVAL = timedelta(minutes=1)
REFRESHED_KEY = "_refreshed_at"


class SessionStore(CachedDatabaseStore):
    def load(self) -> dict[str, Any]:
        data: dict[str, Any] = super().load()
        refreshed = data.get(REFRESHED_KEY)
        if isinstance(refreshed, int | float):
            # Served from the cache, whose entry outlives the session only if the clock was
            # moved; the expiry is checked here as the database query checks it.
            expiry = self.get_expiry_date(
                modification=datetime.fromtimestamp(refreshed, tz=UTC),
                expiry=data.get("_session_expiry"),
            )
            if expiry <= timezone.now():
                self._session_key = None
                return {}
        return data

    def save(self, must_create: bool = False) -> None:
        now = timezone.now().timestamp()
        if not must_create and not self.modified and self.session_key is not None:
            refreshed = self._get_session().get(REFRESHED_KEY)  # type: ignore[attr-defined]
            if isinstance(refreshed, int | float) and 0 <= now - refreshed < (
                REFRESH_INTERVAL.total_seconds()
            ):
                return  # nothing changed and written less than a minute ago
        data: dict[str, Any] = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        data[REFRESHED_KEY] = now  # the dict itself: not a modification of the session
        super().save(must_create=must_create)
