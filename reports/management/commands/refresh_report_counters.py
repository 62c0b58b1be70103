"""Build or rebuild the daily report counters (reports.counters)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.counters import refresh_counters, refresh_recent
from reports.filters import today


class Command(BaseCommand):
    help = "Rebuild the daily report counters: the recent days, or --since a date up to yesterday."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="first day to rebuild (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["since"]:
            try:
                first = date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError("--since takes YYYY-MM-DD") from exc
            last = today() - timedelta(days=1)
            if first > last:
                raise CommandError("--since must be before today")
            rows = refresh_counters(first, last)
        else:
            rows = refresh_recent()
        self.stdout.write(f"{rows} counter rows written")
