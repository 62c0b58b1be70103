from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from demo.organisation import DEMO_PASSWORD, DEMO_USERS, seed_organisation, seed_users


class Command(BaseCommand):
    help = (
        "Create the demo organisation and its users, every role at every center (idempotent); "
        "optionally N bulk cases and the work waiting for every demo user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases", type=int, default=0, help="generate this many demo cases (bulk)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed for the generated cases"
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per bulk insert")
        parser.add_argument(
            "--no-worklist",
            action="store_true",
            help="with --cases: do not add the cases waiting for every demo user (demo.worklist)",
        )
        parser.add_argument(
            "--no-campaigns",
            action="store_true",
            help=(
                "do not add the demo campaigns and outreach (demo.campaigns: a backlog campaign "
                "and a review; demo.outreach: a tour, visits, reception days, judicial aid)"
            ),
        )
        parser.add_argument(
            "--no-report-counters",
            action="store_true",
            help="do not build the daily report counters after generating cases",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        centers = seed_organisation()
        seed_users(centers)
        self.stdout.write(
            f"Demo organisation: {len(centers)} centers; {len(DEMO_USERS)} users "
            f"(reception, police, head, prov_supervisor, jx_court_head, … see README) "
            f"(password {DEMO_PASSWORD})"
        )
        if options["cases"]:
            from demo.cases import generate_cases

            made = generate_cases(
                options["cases"], seed=options["seed"], batch=options["batch"], stdout=self.stdout
            )
            self.stdout.write(f"Generated {made} demo cases.")
            if not options["no_worklist"]:
                import time

                from demo.worklist import seed_worklist

                started = time.perf_counter()
                work = seed_worklist(centers)
                self.stdout.write(
                    f"Work waiting for every demo user: {work} cases through the services "
                    f"({time.perf_counter() - started:.1f} s)."
                )
        # After the bulk cases (which number their cases themselves) and the worklist: the
        # campaigns' cases are registered through the services, as the worklist's are.
        if not options["no_campaigns"]:
            self.seed_campaigns(centers)
        if options["cases"] and not options["no_report_counters"]:
            self.build_report_counters()
        if options["cases"]:
            self.recount_kept_counters()

    def seed_campaigns(self, centers: dict[str, Any]) -> None:
        from demo.campaigns import seed_campaigns

        if seed_campaigns(centers):
            self.stdout.write(
                "Demo campaigns: a backlog campaign of the city handed down to 井陉县 (12 matters) "
                "and a quality review with an outside reviewer (demo_deputy)."
            )
        from demo.outreach import seed_outreach

        if seed_outreach(centers):
            self.stdout.write(
                "Demo outreach: a tour of the city to 井陉县 carrying three matters, 下访 and 约访, "
                "reception days, judicial aid in every state."
            )

    def recount_kept_counters(self) -> None:
        """The triage tabs' and the dashboard's kept counters (supervision.counters): the bulk
        cases are loaded with triggers off (demo.cases), so they are counted once afterwards."""
        import time

        from supervision.counters import recount_kept_counters

        started = time.perf_counter()
        recount_kept_counters()
        self.stdout.write(f"Kept counters rebuilt in {time.perf_counter() - started:.1f} s.")

    def build_report_counters(self) -> None:
        """The daily report counters over the generated history, as a deployment builds them
        (``manage.py refresh_report_counters --since``), so that the reports of a demo
        deployment are read from them at once instead of computed over every case."""
        import time
        from datetime import timedelta

        from petitions.models import Case
        from reports.counters import refresh_counters
        from reports.filters import CHINA_TZ, today

        first = Case.objects.order_by("registered_at").values_list("registered_at", flat=True)[:1]
        last = today() - timedelta(days=1)
        if not first or first[0].astimezone(CHINA_TZ).date() > last:
            return
        since = first[0].astimezone(CHINA_TZ).date()
        started = time.perf_counter()
        rows = refresh_counters(since, last)
        self.stdout.write(
            f"Report counters {since}..{last}: {rows} rows in {time.perf_counter() - started:.1f} s."
        )
