"""The organisation tree (centers) cached in process (core.codecache: dropped when a center is
saved or deleted, in every process through the shared cache). Every request of center staff needs
its user's center (name, region code, materialised path) and often the ids of the centers below
it (visibility); centers change a few times a year.

Lookups hand out copies: callers may attach them to new rows without touching the cache."""

from __future__ import annotations

import copy

from .codecache import TableCache
from .models import Center, User


def _load() -> tuple[dict[int, Center], tuple[Center, ...]]:
    rows = tuple(Center.objects.order_by("path"))
    return {c.pk: c for c in rows}, rows


_centers: TableCache[tuple[dict[int, Center], tuple[Center, ...]]] = TableCache(
    "core.centers", _load, ("core.Center",)
)


def center_by_pk(pk: int) -> Center | None:
    found = _centers.get()[0].get(pk)
    return copy.copy(found) if found is not None else None


def user_center(user: User) -> Center | None:
    """The user's center, from the cache, and set as ``user.center`` so that later reads of the
    attribute make no query either. A center not in the cache yet is read as before."""
    if user.center_id is None:
        return None
    if User.center.is_cached(user):
        return user.center
    found = center_by_pk(user.center_id)
    if found is None:
        return user.center
    User.center.field.set_cached_value(user, found)
    return found


def subtree_ids(center: Center) -> list[int]:
    """The ids of ``center`` and every center below it, in path order (no query)."""
    return [c.pk for c in _centers.get()[1] if c.path.startswith(center.path)]
