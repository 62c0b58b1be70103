"""Reads of the heavy read-only screens on a streaming replica, everything else on the primary.

A province of several million cases a year puts its reports, ledger exports, the supervisor
dashboard and the campaign summaries on a read replica (issue 21). That is configuration:
``DATABASE_REPLICA_URL`` adds the ``replica`` alias and this router (config/settings/base.py);
without it there is no router and every query runs on ``default``.

What goes to the replica is opt-in, never inferred: only reads inside an explicit
``use_replica()`` scope (a context variable, so it follows the request's thread and a task's
run and never leaks into the next one) or a view marked ``@replica_reads``. Everything else
stays on the primary, on purpose:

- **Writes** always go to ``default`` (a hot standby refuses them anyway).
- **Reads inside a write path** stay on the primary: inside ``transaction.atomic`` on default
  (a service locks rows with ``select_for_update`` and reads what it is about to change; the
  replica has no locks and may be seconds behind), and, in a request's scope, every read after
  the scope's first write (the user must read their own writes: a replica applies the primary's
  WAL some milliseconds to seconds later, so a page that wrote and then re-read from the replica
  could show the state before its own change).
- **The user and the session** are read before the scope opens (``replica_reads`` resolves
  ``request.user`` first): a session or token created a moment ago may not have reached the
  replica, and the user would be logged out by replication lag.
- **Pages that show what the user just did** (an export job's progress page right after it was
  started, the campaign page after a hand-down, the suggestions workflow) are not marked.
- **Unsafe methods** (POST, PUT, PATCH, DELETE) of a marked view never use the replica: they
  are write paths.
- **In-process caches of code tables** (core.codecache) load under ``use_primary()``: a version
  bumped at the primary's commit must not be paired with rows a lagging replica still has.

What the replica serves may therefore be a few seconds old; the screens that use it are
aggregates (indicators, counters, breakdowns) and bulk files, where that is acceptable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"


@dataclass
class _Scope:
    wrote: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("replica_scope", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def use_replica() -> Iterator[None]:
    """Reads in this block go to the replica when one is configured (module docstring for
    the exceptions). A nested block keeps the outer block's state (a write seen by either counts
    for both)."""
    outer = _scope.get()
    token = _scope.set(outer if outer is not None else _Scope())
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def use_primary() -> Iterator[None]:
    """Reads in this block go to the primary, even inside a ``use_replica`` scope."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def in_replica_scope() -> bool:
    return _scope.get() is not None


def replica_task[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """A task (or any function) whose reads go to the replica (``use_replica()`` around it)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with use_replica():
            return func(*args, **kwargs)

    return wrapper


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def replica_reads[**P, R](view: Callable[P, R]) -> Callable[P, R]:
    """A view (a function view, or a DRF handler through ``method_decorator``) whose reads go
    to the replica on GET and HEAD. The request's user (and so the session or token) is
    resolved on the primary before the scope opens; unsafe methods never use the replica."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        request = next((a for a in args if hasattr(a, "method") and hasattr(a, "META")), None)
        if request is None or getattr(request, "method", None) not in _SAFE_METHODS:
            return view(*args, **kwargs)
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 - resolves the lazy user on the primary
        with use_replica():
            return view(*args, **kwargs)

    return wrapper


def replica_rows[T](rows: Iterable[T]) -> Iterator[T]:
    """Each item of ``rows`` (a lazy query, a generator of chunked reads) fetched inside
    ``use_replica()``, the caller's work between items (a progress counter, an audit row)
    outside it, on the primary. For batch work that writes while it streams a large read."""
    with use_replica():
        iterator = iter(rows)
    while True:
        with use_replica():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


class ReplicaRouter:
    """Reads inside a ``use_replica`` scope → ``replica``; everything else → ``default``.

    Returns ``default`` (not None) outside a scope, so an object read from the replica does not
    pull its related reads there afterwards (Django's fallback follows the instance's database).
    """

    replica_alias = REPLICA

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        scope = _scope.get()
        if scope is None or self.replica_alias not in connections.settings:
            return DEFAULT_DB_ALIAS
        if scope.wrote:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            # A write path's transaction: reads under its locks, of its own changes.
            return DEFAULT_DB_ALIAS
        return self.replica_alias

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # One database seen through two connections: rows of either may be related.
        aliases = {DEFAULT_DB_ALIAS, self.replica_alias}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # The replica replays the primary's WAL, schema included.
        return db == DEFAULT_DB_ALIAS
