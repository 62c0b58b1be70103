"""Benchmark of the reports (issue 9) on the bench database that bench_intake.py filled
(petition_bench, N demo cases): the indicator API for one year over the whole province (target
p95 < 1 s at 1M cases), the reports page with its charts (target p95 < 300 ms), and a ledger export
of 100,000 rows written by the export task in a separate process, whose peak memory (max RSS) is
reported (target < 200 MB).

    DATABASE_URL=postgres://... python bench/bench_reports.py [--iterations 20] [--export-rows 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    bench_database_url,
    environment,
    log,
    measure,
    setup_django,
    table,
    write_section,
)

EXPORT_CHILD = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
import django
django.setup()
from reports.services import run_export
started = time.perf_counter()
run_export({job_id})
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument(
        "--db-name", default="petition_bench", help="database to measure (default: the bench one)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the results, do not write results.md"
    )
    args = parser.parse_args()
    url = bench_database_url(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition",
        args.db_name,
    )
    setup_django(url)
    from datetime import timedelta

    from django.conf import settings

    # measure the computation, not the few-minute cache in front of it (reports.cache)
    settings.REPORTS_CACHE_SECONDS = 0

    from django.test import Client
    from django.utils import timezone

    from core.models import User
    from petitions.models import Case
    from reports.filters import CHINA_TZ
    from reports.models import ExportJob
    from reports.services import job_queryset

    total = Case.objects.count()
    if not total:
        raise SystemExit("bench database is empty: run bench/bench_intake.py first (make bench)")
    # the province's supervisor in the bulk demo data sees every center; the city one a subtree
    province_user = (
        User.objects.filter(username__startswith="staff_", center__parent__isnull=True)
        .order_by("pk")
        .first()
    ) or User.objects.get(username="supervisor")
    today = timezone.now().astimezone(CHINA_TZ).date()
    year = f"from={today - timedelta(days=364)}&to={today}"

    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    pages = [
        (
            f"GET /api/v1/reports/indicators/ one year, whole province ({province_user.username})",
            province_user,
            f"/api/v1/reports/indicators/?{year}",
            1000,
        ),
        (
            "GET /api/v1/reports/indicators/ one year, city supervisor (subtree)",
            User.objects.get(username="supervisor"),
            f"/api/v1/reports/indicators/?{year}",
            1000,
        ),
        (
            f"GET /reports/ (indicators and charts) one year ({province_user.username})",
            province_user,
            f"/reports/?{year}",
            300,
        ),
        (
            "GET /reports/league/ one year (supervisor)",
            User.objects.get(username="supervisor"),
            f"/reports/league/?{year}",
            None,
        ),
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
                budget_s=120,
                min_iterations=5,
            )
        )

    # --- export: the last N registered cases of the province, written in a child process -------
    export_lines: list[str] = []
    boundary = Case.objects.order_by("-registered_at").values_list("registered_at", flat=True)[
        args.export_rows - 1 : args.export_rows
    ]
    first = (
        boundary[0] if boundary else Case.objects.order_by("registered_at").first().registered_at
    )
    filters = {"from": first.astimezone(CHINA_TZ).date().isoformat(), "to": today.isoformat()}
    job = ExportJob.objects.create(
        owner=province_user,
        format="xlsx",
        columns=[
            "number",
            "registered_at",
            "center",
            "channel",
            "category",
            "petitioner",
            "id_number",
            "state",
            "lead_department",
            "next_due_at",
        ],
        filters=filters,
    )
    job.total_rows = job_queryset(job).count()
    job.save(update_fields=["total_rows"])
    log(f"export of {job.total_rows:,} rows ({filters})")
    env = dict(os.environ, DATABASE_URL=url)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_CHILD.format(root=str(ROOT), job_id=job.pk)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    job.refresh_from_db()
    try:
        elapsed, max_rss_kb = out.stdout.strip().splitlines()[-1].split()
        rss_mb = int(max_rss_kb) / 1024
        export_lines = [
            f"- Ledger export (.xlsx, write-only, server-side cursor) of {job.rows_written:,} rows: "
            f"{float(elapsed):.1f} s in the task ({wall:.1f} s with process start), "
            f"worker peak memory (max RSS) **{rss_mb:.0f} MB** (target < 200 MB), "
            f"state {job.state}, file {Path(job.file.path).stat().st_size / 1e6:.1f} MB."
        ]
    except (ValueError, IndexError, OSError):
        export_lines = [f"- Ledger export failed: {out.stderr[-500:]}"]
    finally:
        if job.file:
            Path(job.file.path).unlink(missing_ok=True)
        job.delete()

    body = "\n".join(
        [
            f"## Reports, N = {total:,} cases",
            "",
            *(f"- {k}: {v}" for k, v in environment().items()),
            "",
            table(results),
            "",
            *export_lines,
        ]
    )
    print(body)
    if not args.no_write:
        write_section(f"reports:N={total}", body)


if __name__ == "__main__":
    main()
