"""Benchmark of the routing and supervision pages (issues 4 and 5) on the bench database that
bench_intake.py filled (petition_bench, N demo cases with their lead assignments and deadlines):
the department inbox and the triage queue (target p95 < 20 ms), the supervisor dashboard
(target p95 < 50 ms), measured in-process at the server with the test Client.

    DATABASE_URL=postgres://... python bench/bench_pages.py [--iterations 200]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_database_url, environment, log, measure, setup_django, table, write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    url = bench_database_url(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition"
    )
    setup_django(url)
    from django.test import Client

    from core.models import User
    from petitions.models import Case

    total = Case.objects.count()
    if not total:
        raise SystemExit("bench database is empty: run bench/bench_intake.py first (make bench)")

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(
            User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
        )
        return client

    from petitions.selectors import case_list_for

    # Case pages: 50 cases of the supervisor's scope with the longest timelines, taken in turn.
    supervisor = User.objects.get(username="supervisor")
    busy = list(
        case_list_for(supervisor)
        .filter(state__in=["handling", "replied", "closed"])
        .order_by("-registered_at")
        .values_list("pk", flat=True)[:50]
    )
    # (name, user, path or paths taken in turn, target p95 ms from issue 10)
    pages: list[tuple[str, str, list[str], int]] = [
        ("GET /inbox/ (new assignments) as the police officer", "police", ["/inbox/"], 25),
        ("GET /inbox/?tab=overdue as the police officer", "police", ["/inbox/?tab=overdue"], 25),
        ("GET /triage/ (screening queue) as triage", "triage", ["/triage/"], 25),
        (
            "GET /api/v1/cases/?state=registered (screening queue API) as triage",
            "triage",
            ["/api/v1/cases/?state=registered"],
            25,
        ),
        ("GET /api/v1/inbox/ as the police officer", "police", ["/api/v1/inbox/"], 25),
        ("GET /cases/ (case list, first page) as the supervisor", "supervisor", ["/cases/"], 30),
        (
            "GET /cases/<id>/ (case page with its timeline) as the supervisor",
            "supervisor",
            [f"/cases/{pk}/" for pk in busy],
            30,
        ),
        ("GET /supervision/ (dashboard) as the supervisor", "supervisor", ["/supervision/"], 50),
    ]
    results = []
    for name, user, paths, target in pages:
        client = client_for(user)

        def get(i: int, client: Client = client, paths: list[str] = paths) -> None:
            path = paths[i % len(paths)]
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")

        log(name)
        results.append(
            measure(
                name,
                get,
                iterations=args.iterations,
                warmup=args.warmup,
                target_p95_ms=target,
                budget_s=60,
            )
        )
    env = environment()
    body = "\n".join(
        [
            f"## Routing and supervision pages, N = {total:,} cases",
            "",
            *(f"- {k}: {v}" for k, v in env.items()),
            "",
            table(results),
        ]
    )
    print(body)
    write_section(f"pages:N={total}", body)


if __name__ == "__main__":
    main()
