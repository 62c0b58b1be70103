from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clocks.schedule import enter_official_schedule, parse_schedule


class Command(BaseCommand):
    help = (
        "Enter a year's official holiday schedule from a CSV file (date,kind,name; kind is "
        "holiday/休 or workday/班), mark the year known and recompute the provisional deadlines. "
        "See clocks/schedule.py for the format."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="UTF-8 CSV: date,kind,name")
        parser.add_argument("--year", type=int, help="the year the file is for (default: its own)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="remove that year's days that the file does not list",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        try:
            year, rows = parse_schedule(text, year=options["year"])
            result = enter_official_schedule(year=year, rows=rows, replace=options["replace"])
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            f"{result.year}: {result.holidays} holidays, {result.workdays} make-up working days; "
            f"{result.recomputed} provisional deadlines recomputed"
        )
