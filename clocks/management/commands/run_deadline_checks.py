from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clocks.sweep import run_deadline_checks


class Command(BaseCommand):
    help = "Run the deadline sweep once (the same code as the Celery beat task)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_deadline_checks()
        self.stdout.write(
            f"warning levels changed: {result.levels_changed}; escalated: {result.escalated}"
        )
