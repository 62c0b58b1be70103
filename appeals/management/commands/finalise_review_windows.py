"""Close the review windows that ran out unused (the same work as the Celery beat task)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from appeals.tasks import finalise_lapsed_windows


class Command(BaseCommand):
    help = "Make final the matters whose review or re-review window ran out unused (Arts 35-36)."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = finalise_lapsed_windows()
        self.stdout.write(f"{closed}")
