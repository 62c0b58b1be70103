"""Judicial aid reference data (helper G fills it): the default eligibility checklist and the
example cap rule. Seeded by migration 0002; ``ensure_aid_defaults`` puts it back after a test
flush (the root conftest's ``reference_data``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps


def seed_aid_defaults(apps: Any = global_apps, schema_editor: Any = None) -> None:
    """Add the default checklist and cap rule where missing."""


def ensure_aid_defaults() -> None:
    seed_aid_defaults()
