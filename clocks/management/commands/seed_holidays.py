from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clocks.calendar import DEFAULT_FIRST_SEED_YEAR, package_years, seed_holidays


class Command(BaseCommand):
    help = (
        "Load public holidays and make-up working days from the chinese_calendar package "
        f"(idempotent; existing rows are kept). Default: every year it knows from "
        f"{DEFAULT_FIRST_SEED_YEAR}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=int, nargs="+", help="years to load, e.g. 2025 2026")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[int] = options["years"] or package_years()
        seeded = seed_holidays(wanted)
        skipped = sorted(set(wanted) - set(seeded))
        self.stdout.write(f"Seeded: {', '.join(map(str, seeded)) or 'none'}")
        if skipped:
            self.stdout.write(
                self.style.WARNING(
                    "No data in chinese_calendar for: "
                    + ", ".join(map(str, skipped))
                    + " (enter the notice in the admin; deadlines there stay provisional)."
                )
            )
