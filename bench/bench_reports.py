"""Benchmark of the reports (issue 9) on the bench database that bench_intake.py filled
(petition_bench, N demo cases): the indicator API for one year over the whole province (target
p95 < 1 s at 1M cases), the reports page with its charts (target p95 < 300 ms), and a ledger export
of 100,000 rows written by the export task in a separate process, whose peak memory (max RSS) is
reported (target < 200 MB).

Before measuring, the daily report counters (reports.counters) are built the way a deployment
builds them: ``manage.py refresh_report_counters --since <day of the first case>`` over the whole
history (timed, and shown as a figure), unless they already cover it up to yesterday; the nightly
task then keeps them. The run checks that each measured request is answered from the counters
(plus today live), and prints how its figures compare with the full live computation.
``--counters off`` measures the live computation instead (the figure before the counters).

    DATABASE_URL=postgres://... python bench/bench_reports.py [--iterations 20]
        [--export-rows 100000 | 0] [--counters build|rebuild|off] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

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


def prepare_counters(mode: str) -> list[str]:
    """Build the daily counters over the whole history when missing or stale (or always, with
    ``rebuild``) through the management command a deployment runs; returns the report lines."""
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command

    from petitions.models import Case
    from reports.counters import refresh_days
    from reports.filters import CHINA_TZ, today
    from reports.models import ReportCounterRun, ReportDailyCount

    if mode == "off":
        settings.REPORTS_USE_COUNTERS = False
        return ["- Daily report counters: off (every figure computed live from the rows)."]
    settings.REPORTS_USE_COUNTERS = True
    first_case = Case.objects.order_by("registered_at").values_list("registered_at", flat=True)[:1]
    first_day = first_case[0].astimezone(CHINA_TZ).date()
    yesterday = today() - timedelta(days=1)
    run = ReportCounterRun.objects.first()
    covered = run is not None and run.built_from <= first_day and run.built_through >= yesterday
    if covered and mode == "build":
        assert run is not None
        return [
            f"- Daily report counters: reused ({ReportDailyCount.objects.count():,} rows, days "
            f"{run.built_from}..{run.built_through}, built {run.built_at:%Y-%m-%d %H:%M}); "
            "`--counters rebuild` times a full rebuild."
        ]
    days = (yesterday - first_day).days + 1
    log(f"building the daily report counters over {days} days (refresh_report_counters) ...")
    started = time.perf_counter()
    call_command("refresh_report_counters", since=first_day.isoformat(), stdout=StringIO())
    full_s = time.perf_counter() - started
    rows = ReportDailyCount.objects.count()
    log(f"built {rows:,} counter rows in {full_s:.1f} s; the nightly refresh ...")
    started = time.perf_counter()
    call_command("refresh_report_counters", stdout=StringIO())
    nightly_s = time.perf_counter() - started
    return [
        f"- Daily report counters built over the whole history (`manage.py "
        f"refresh_report_counters --since {first_day}`, {days} days): **{full_s:.1f} s**, "
        f"{rows:,} rows; the nightly refresh of the last {refresh_days()} days "
        f"(`reports.tasks.refresh_report_counters`): **{nightly_s:.1f} s**."
    ]


def counter_path_lines(pages: list[tuple[str, Any, str, float | None]]) -> list[str]:
    """Check that the measured requests are answered from the counters, and compare their
    figures with the full live computation on the same data."""
    from django.http import QueryDict
    from django.utils import timezone

    from reports.counters import compute_with_counters
    from reports.filters import parse_filters
    from reports.indicators import compute_live

    lines = []
    seen = set()
    for _name, user, path, _target in pages:
        if "?" not in path:
            continue
        query = path.split("?", 1)[1]
        if (user.pk, query) in seen:
            continue
        seen.add((user.pk, query))
        filters, _form = parse_filters(QueryDict(query), user=user)
        assert filters is not None
        now = timezone.now()
        from_counters = compute_with_counters(filters, now)
        if from_counters is None:
            lines.append(f"- {user.username} {query}: **live** (the counters do not answer it)")
            continue
        live = compute_live(filters, now=now)
        diffs = []
        for a, b in zip(from_counters.indicators, live.indicators, strict=True):
            if (a.numerator, a.denominator) != (b.numerator, b.denominator):
                diffs.append(
                    f"{a.code} {a.numerator}/{a.denominator} vs {b.numerator}/{b.denominator}"
                )
        for key, value in from_counters.counts.items():
            if value != live.counts[key]:
                diffs.append(f"{key} {value} vs {live.counts[key]}")
        same = (
            "same figures as the live computation" if not diffs else "differs: " + "; ".join(diffs)
        )
        lines.append(f"- {user.username} {query}: from the counters ({same})")
    return lines


def export(rows: int, owner: Any, today: Any, url: str) -> list[str]:
    """The ledger export of the last ``rows`` registered cases, written by the export task in a
    child process; returns the report line."""
    from petitions.models import Case
    from reports.filters import CHINA_TZ
    from reports.models import ExportJob
    from reports.services import job_queryset

    boundary = Case.objects.order_by("-registered_at").values_list("registered_at", flat=True)[
        rows - 1 : rows
    ]
    first = (
        boundary[0] if boundary else Case.objects.order_by("registered_at").first().registered_at
    )
    filters = {"from": first.astimezone(CHINA_TZ).date().isoformat(), "to": today.isoformat()}
    job = ExportJob.objects.create(
        owner=owner,
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
        return [
            f"- Ledger export (.xlsx, write-only, server-side cursor) of {job.rows_written:,} rows: "
            f"{float(elapsed):.1f} s in the task ({wall:.1f} s with process start), "
            f"worker peak memory (max RSS) **{rss_mb:.0f} MB** (target < 200 MB), "
            f"state {job.state}, file {Path(job.file.path).stat().st_size / 1e6:.1f} MB."
        ]
    except (ValueError, IndexError, OSError):
        return [f"- Ledger export failed: {out.stderr[-500:]}"]
    finally:
        if job.file:
            Path(job.file.path).unlink(missing_ok=True)
        job.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--export-rows", type=int, default=100_000, help="rows of the ledger export (0: skip it)"
    )
    parser.add_argument(
        "--counters",
        choices=("build", "rebuild", "off"),
        default="build",
        help="daily report counters: build them over the data's whole history when missing or "
        "stale, as a deployment does (default); rebuild them anyway; or measure without them",
    )
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_DB") or "petition_bench",
        help="database to measure (default: the bench one of this N, $BENCH_DB)",
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
    from django.conf import settings

    # measure the computation, not the few-minute cache in front of it (reports.cache)
    settings.REPORTS_CACHE_SECONDS = 0

    from django.test import Client

    from core.models import User
    from petitions.models import Case
    from reports.filters import today as report_today

    total = Case.objects.count()
    if not total:
        raise SystemExit("bench database is empty: run bench/bench_intake.py first (make bench)")
    counter_lines = prepare_counters(args.counters)
    # the province's supervisor in the bulk demo data sees every center; the city one a subtree
    province_user = User.objects.get(username="prov_supervisor")
    supervisor = User.objects.get(username="supervisor")
    today = report_today()
    year = f"from={today - timedelta(days=364)}&to={today}"

    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    pages: list[tuple[str, Any, str, float | None]] = [
        (
            f"GET /api/v1/reports/indicators/ one year, whole province ({province_user.username})",
            province_user,
            f"/api/v1/reports/indicators/?{year}",
            1000,
        ),
        (
            "GET /api/v1/reports/indicators/ one year, city supervisor (subtree)",
            supervisor,
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
            supervisor,
            f"/reports/league/?{year}",
            None,
        ),
    ]
    path_lines = counter_path_lines(pages) if args.counters != "off" else []
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
    if args.export_rows > 0:
        export_lines = export(args.export_rows, province_user, today, url)

    body = "\n".join(
        [
            f"## Reports, N = {total:,} cases",
            "",
            *(f"- {k}: {v}" for k, v in environment().items()),
            *counter_lines,
            *path_lines,
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
