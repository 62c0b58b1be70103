"""The active rows of the code tables (channel, purpose, content category, organ), cached in
process (core.codecache: dropped on save or delete, in every process through the shared cache).
Registering a case reads them on every request; they change a few times a year.

Lookups return copies, so a caller may attach them to a new case without touching the shared
instances."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TypeVar

from core.codecache import TableCache

from .models import Channel, CodeItem, ContentCategory, Organ, Purpose

C = TypeVar("C", bound=CodeItem)
CODE_MODELS: tuple[type[CodeItem], ...] = (Channel, Purpose, ContentCategory, Organ)


@dataclass(frozen=True)
class _Table:
    rows: tuple[CodeItem, ...]  # active, in the tables' order (sort_order, code)
    by_code: dict[str, CodeItem]
    by_pk: dict[str, CodeItem]


def _load() -> dict[type[CodeItem], _Table]:
    tables: dict[type[CodeItem], _Table] = {}
    for model in CODE_MODELS:
        qs = model._default_manager.filter(is_active=True).order_by("sort_order", "code")
        if model is ContentCategory:
            qs = qs.select_related("parent")  # type: ignore[misc]
        rows = tuple(qs)
        tables[model] = _Table(
            rows=rows,
            by_code={r.code: r for r in rows},
            by_pk={str(r.pk): r for r in rows},
        )
    return tables


_cache: TableCache[dict[type[CodeItem], _Table]] = TableCache(
    "petitions.code_tables",
    _load,
    tuple(f"petitions.{m.__name__}" for m in CODE_MODELS),
)


def active_codes[C: CodeItem](model: type[C]) -> tuple[C, ...]:
    """The active rows, in order. Shared instances: read them, never change them."""
    return _cache.get()[model].rows  # type: ignore[return-value]


def active_by_code[C: CodeItem](model: type[C], code: object) -> C | None:
    found = _cache.get()[model].by_code.get(str(code))
    return copy.copy(found) if found is not None else None  # type: ignore[return-value]


def active_by_pk[C: CodeItem](model: type[C], pk: object) -> C | None:
    found = _cache.get()[model].by_pk.get(str(pk))
    return copy.copy(found) if found is not None else None  # type: ignore[return-value]


def invalidate() -> None:
    """After a change that sends no signal (QuerySet.update, bulk_create)."""
    _cache.invalidate()
