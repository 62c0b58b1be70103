"""Reference data that migrations seed (code tables, deadline rules, holidays). Tests that run in
transactions with a flush (browser and concurrency tests) remove it; this puts it back.

Each app that owns reference data registers a seeder from its ``AppConfig.ready()``
(``register_seeder``): core knows no app above it. Seeders run in registration order (the apps'
order in INSTALLED_APPS), each only when its data is missing."""

from __future__ import annotations

from collections.abc import Callable

# (is it there?, seed it)
Seeder = tuple[Callable[[], bool], Callable[[], None]]
_seeders: list[Seeder] = []


def register_seeder(present: Callable[[], bool], seed: Callable[[], None]) -> None:
    if (present, seed) not in _seeders:
        _seeders.append((present, seed))


def ensure_reference_data() -> None:
    for present, seed in _seeders:
        if not present():
            seed()
