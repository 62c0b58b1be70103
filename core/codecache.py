"""In-process caches of small tables that change rarely (code tables, deadline rules).

Registering a case read three or four code tables and the deadline rule on every request (issue
10); these tables change a few times a year, through the admin. A ``TableCache`` keeps what its
loader built in process memory and drops it:

- in this process, at once, when a row of one of its models is saved or deleted (post_save,
  post_delete; a ``QuerySet.update`` or ``bulk_create`` sends no signal: call ``invalidate``);
- in every process, through a version number in the shared cache (Redis): a save bumps it at once
  and again when the transaction commits, so another process cannot keep what it re-read between
  the save and the commit. A process compares its version with the shared one at most once per
  ``VERSION_CHECK_SECONDS`` (one Redis GET, no SQL), so another process sees an edit within that
  time after the commit;
- after ``MAX_AGE_SECONDS`` in any case, so an edit made behind the ORM's back (SQL, a restore)
  is picked up within minutes. While the shared cache is unreachable a process reloads at every
  version check (at most once per ``VERSION_CHECK_SECONDS``).

A value read inside the transaction that changed one of the tables is dropped again when that
transaction turns out to have rolled back (the next ``get`` outside it). A cached value is shared
by the requests of a process: callers must not modify the model instances it holds (the lookups
of petitions.codetables and core.orgcache hand out copies).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from core.dbrouter import use_primary

T = TypeVar("T")
logger = logging.getLogger(__name__)

VERSION_CHECK_SECONDS = 1.0
MAX_AGE_SECONDS = 300.0
_KEY_PREFIX = "codecache:v:"

_registry: list[TableCache[Any]] = []


def _shared_version(name: str) -> int | None:
    try:
        value = cache.get(_KEY_PREFIX + name)
    except Exception:  # noqa: BLE001 - the shared cache down: reload at every check
        return None
    return int(value) if value is not None else 0


def _bump_shared(name: str) -> None:
    key = _KEY_PREFIX + name
    try:
        try:
            cache.incr(key)
        except ValueError:  # no key yet
            cache.set(key, 1, timeout=None)
    except Exception:  # noqa: BLE001 - other processes notice at their next version check
        logger.warning("code cache %s: the shared version could not be bumped", name)


def _outermost_atomic() -> Any:
    blocks = connection.atomic_blocks
    return blocks[0] if connection.in_atomic_block and blocks else None


class TableCache[T]:
    """``loader()``'s result, kept until one of ``models`` ("app_label.ModelName") changes."""

    def __init__(self, name: str, loader: Callable[[], T], models: tuple[str, ...]) -> None:
        self.name = name
        self.loader = loader
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._version: int | None = None
        # The transaction (its outermost atomic block) that changed the tables, until it commits.
        self._changed_in: weakref.ref[Any] | None = None
        for model in models:
            post_save.connect(self._changed, sender=model, weak=False)
            post_delete.connect(self._changed, sender=model, weak=False)
        _registry.append(self)

    def get(self) -> T:
        changed_in = self._changed_in
        if changed_in is not None and (
            changed_in() is None or changed_in() is not _outermost_atomic()
        ):
            # The transaction that changed the tables ended without its commit hook: rolled
            # back. What was read inside it may hold its uncommitted rows.
            self._changed_in = None
            self.clear()
        now = time.monotonic()
        value = self._value
        if value is not None and now - self._loaded_at < MAX_AGE_SECONDS:
            if now - self._checked_at < VERSION_CHECK_SECONDS:
                return value
            shared = _shared_version(self.name)
            self._checked_at = now
            if shared is not None and shared == self._version:
                return value
        with self._lock:
            version = _shared_version(self.name)
            # Always the primary (core.dbrouter): rows of a lagging replica must not be kept
            # under a version bumped at the primary's commit.
            with use_primary():
                value = self.loader()
            self._value, self._version = value, version
            self._loaded_at = self._checked_at = time.monotonic()
        return value

    def clear(self) -> None:
        """Forget the value in this process only (tests that flush or roll back the tables)."""
        self._value = None

    def invalidate(self) -> None:
        """A change of the tables: forget it here and in every process, now and at commit."""
        self.clear()
        outermost = _outermost_atomic()
        self._changed_in = weakref.ref(outermost) if outermost is not None else None
        _bump_shared(self.name)

        def after_commit() -> None:
            self._changed_in = None
            self.clear()
            _bump_shared(self.name)

        transaction.on_commit(after_commit)

    def _changed(self, sender: Any, **kwargs: Any) -> None:
        self.invalidate()


def clear_all() -> None:
    """Forget every cache in this process (test set-up: each test's tables are its own)."""
    for table_cache in _registry:
        table_cache._changed_in = None
        table_cache.clear()
