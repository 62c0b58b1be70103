from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.organisation import DEMO_PASSWORD, DEMO_USERS, seed_organisation, seed_users


class Command(BaseCommand):
    help = (
        "Create the demo organisation and one user per role (idempotent); optionally N bulk cases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases", type=int, default=0, help="generate this many demo cases (bulk)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed for the generated cases"
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per bulk insert")

    def handle(self, *args: Any, **options: Any) -> None:
        centers = seed_organisation()
        seed_users(centers)
        self.stdout.write(
            f"Demo organisation: {len(centers)} centers; users: {', '.join(DEMO_USERS)} "
            f"(password {DEMO_PASSWORD})"
        )
        if options["cases"]:
            from demo.cases import generate_cases

            made = generate_cases(
                options["cases"], seed=options["seed"], batch=options["batch"], stdout=self.stdout
            )
            self.stdout.write(f"Generated {made} demo cases.")
