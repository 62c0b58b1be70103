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

    pages = [
        ("GET /inbox/ (new assignments) as the police officer", "police", "/inbox/", 20),
        ("GET /inbox/?tab=overdue as the police officer", "police", "/inbox/?tab=overdue", 20),
        ("GET /triage/ (screening queue) as triage", "triage", "/triage/", 20),
        ("GET /supervision/ (dashboard) as the supervisor", "supervisor", "/supervision/", 50),
        ("GET /api/v1/inbox/ as the police officer", "police", "/api/v1/inbox/", 20),
    ]
    results = []
    for name, user, path, target in pages:
        client = client_for(user)

        def get(_i: int, client: Client = client, path: str = path) -> None:
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
