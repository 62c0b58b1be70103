"""Shared helpers for the benchmarks in bench/: the separate bench database, Django set-up,
filling, timing and the Markdown report.

The benchmarks never touch the development or test database: they run against a database
named ``petition_bench`` on the server of ``DATABASE_URL`` (created when missing), with
``config.settings.local`` and ``DEBUG=false``, measured in-process (service calls and Django's
test Client), so the figures are server-side time without network or browser.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# One bench database per N, so the 100,000 and the 1,000,000 fills are both kept (run_all sets it).
BENCH_DB = os.environ.get("BENCH_DB") or "petition_bench"
RESULTS = ROOT / "bench" / "results.md"


# --- the bench database ----------------------------------------------------------------------------


def bench_database_url(url: str, name: str = BENCH_DB) -> str:
    """``DATABASE_URL`` with its database name replaced (user, host, port, options kept)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(f"bench: DATABASE_URL must be a PostgreSQL URL, got {parts.scheme!r}")
    return parts._replace(path=f"/{name}").geturl()


def _maintenance_dsn(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)


def _admin(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    conn = psycopg2.connect(_maintenance_dsn(url))
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        conn.close()


def ensure_database(url: str) -> bool:
    """Create the bench database if missing; True if it was created."""
    name = urlsplit(url).path.lstrip("/")
    rows = _admin(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if rows:
        return False
    _admin(url, f'CREATE DATABASE "{name}"')
    return True


def recreate_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("petition_bench"):
        raise SystemExit(f"bench: refusing to drop database {name!r}")
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    """config.settings.local on the bench database, DEBUG off, the test Client's host allowed."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get(
        "BENCH_SETTINGS_MODULE", "config.settings.local"
    )
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    hosts = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
    os.environ["ALLOWED_HOSTS"] = f"{hosts},testserver"
    import django

    django.setup()


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fill(url: str, *, cases: int, seed: int, batch: int) -> str:
    """Make the bench database hold exactly ``cases`` demo cases: reuse it when it already does,
    otherwise recreate it and generate them. Returns what was done, for the report."""
    from django.core.management import call_command
    from django.db import connection

    ensure_database(url)
    call_command("migrate", interactive=False, verbosity=0)
    from petitions.models import Case

    have = Case.objects.count()
    name = urlsplit(url).path.lstrip("/")
    # seed_demo --cases N writes N generated cases plus the demo's few scenario cases (1,000,005
    # for N = 1,000,000): the fill records its N on the database, and a database filled for N is
    # reused whatever that exact count.
    marker = _admin(
        url,
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'",
    )
    filled_for = (marker[0][0] or "") if marker else ""
    if have == cases or (have and filled_for == f"bench cases={cases}"):
        log(f"reusing {BENCH_DB}: it holds {have:,} cases")
        return f"reused (already held {have:,} cases)"
    if have:
        log(f"{BENCH_DB} holds {have:,} cases, not {cases:,}: recreating it")
        recreate_database(url)
        call_command("migrate", interactive=False, verbosity=0)
    log(f"generating {cases:,} cases (seed {seed}) ...")
    started = time.perf_counter()
    call_command("seed_demo", cases=cases, seed=seed, batch=batch, stdout=sys.stderr)
    generated = time.perf_counter() - started
    log(f"generated in {generated:.0f} s; VACUUM ANALYZE ...")
    # Statistics and the visibility map, as autovacuum would leave them on a settled database.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _admin(url, f"COMMENT ON DATABASE \"{name}\" IS 'bench cases={cases}'")
    return f"generated in {generated:.0f} s (seed_demo --cases {cases} --seed {seed})"


# --- measuring -------------------------------------------------------------------------------------


def backend_cpu_seconds() -> tuple[int, float] | None:
    """(pid, CPU seconds) of this connection's PostgreSQL backend, when the server runs on this
    machine and /proc shows it; None otherwise."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is field 3 (state) of proc(5): utime and stime are fields 14 and 15
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    app_cpu_ms: float | None = None  # mean CPU time per call: this process
    db_cpu_ms: float | None = None  # mean CPU time per call: its PostgreSQL backend
    target_p95_ms: float | None = None
    note: str = ""
    skipped: str = ""

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the samples."""
        ordered = sorted(self.samples_ms)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    @property
    def verdict(self) -> str:
        if self.skipped or self.target_p95_ms is None:
            return ""
        return "met" if self.percentile(95) < self.target_p95_ms else "**missed**"


def measure(
    name: str,
    action: Callable[[int], object],
    *,
    iterations: int,
    warmup: int,
    target_p95_ms: float | None = None,
    note: str = "",
    budget_s: float | None = None,
    min_iterations: int = 20,
) -> Result:
    """Time ``action(i)`` for i in 0..warmup+iterations-1, keeping the last ``iterations``,
    then count the queries of one more call. With ``budget_s``, stop timing once that many
    seconds are spent and at least ``min_iterations`` samples are taken (a slow page on a big
    database must not hold the run for hours; the table shows how many were taken). Any
    exception skips the scenario, with its reason: a page another engineer is still building
    must not stop the others from being measured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = Result(name=name, target_p95_ms=target_p95_ms, note=note)
    try:
        for i in range(warmup):
            action(i)
        deadline = time.perf_counter() + budget_s if budget_s is not None else None
        backend_before = backend_cpu_seconds()
        app_before = time.process_time()
        for i in range(warmup, warmup + iterations):
            started = time.perf_counter_ns()
            action(i)
            result.samples_ms.append((time.perf_counter_ns() - started) / 1e6)
            if (
                deadline is not None
                and len(result.samples_ms) >= min_iterations
                and time.perf_counter() > deadline
            ):
                result.note = f"stopped after {budget_s:g} s"
                break
        calls = len(result.samples_ms)
        result.app_cpu_ms = (time.process_time() - app_before) * 1000 / calls
        backend_after = backend_cpu_seconds()
        if backend_before and backend_after and backend_before[0] == backend_after[0]:
            result.db_cpu_ms = (backend_after[1] - backend_before[1]) * 1000 / calls
        with CaptureQueriesContext(connection) as captured:
            action(warmup + iterations)
        result.queries = len(captured.captured_queries)
    except Exception as exc:  # noqa: BLE001 - reported in the table instead
        log(f"{name}: {exc!r}")
        traceback.print_exc(file=sys.stderr)
        result.samples_ms = []
        result.skipped = f"error: {type(exc).__name__}: {exc}"[:200]
    return result


# --- reporting ------------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load}",
        "Software": f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"PostgreSQL {pg}",
    }


def record(results: Iterable[Result]) -> None:
    """Append the figures as JSON lines to ``$BENCH_JSON`` when set (bench/run_all.py collects
    them into bench/results/<date>-<N>.json), tagged with ``$BENCH_STAGE``."""
    target = os.environ.get("BENCH_JSON")
    if not target:
        return
    import json

    with open(target, "a", encoding="utf-8") as out:
        for r in results:
            row: dict[str, Any] = {
                "stage": os.environ.get("BENCH_STAGE", ""),
                "name": r.name,
                "skipped": r.skipped or None,
                "note": r.note or None,
                "target_p95_ms": r.target_p95_ms,
            }
            if not r.skipped and r.samples_ms:
                row |= {
                    "iterations": len(r.samples_ms),
                    "p50_ms": round(r.percentile(50), 2),
                    "p95_ms": round(r.percentile(95), 2),
                    "p99_ms": round(r.percentile(99), 2),
                    "max_ms": round(max(r.samples_ms), 2),
                    "app_cpu_ms": None if r.app_cpu_ms is None else round(r.app_cpu_ms, 2),
                    "db_cpu_ms": None if r.db_cpu_ms is None else round(r.db_cpu_ms, 2),
                    "queries": r.queries,
                    "met": r.verdict == "met" if r.target_p95_ms is not None else None,
                    "load": [round(x, 2) for x in os.getloadavg()],
                }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def table(results: Iterable[Result]) -> str:
    results = list(results)
    record(results)
    lines = [
        "| Scenario | Iterations | p50 ms | p95 ms | p99 ms | max ms | CPU ms/call app + db "
        "| Queries | Target p95 | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.name} | – | – | – | – | – | – | – | – | skipped: {r.skipped} |")
            continue
        target = f"< {r.target_p95_ms:g} ms" if r.target_p95_ms is not None else "–"
        cpu = f"{r.app_cpu_ms:.2f}" if r.app_cpu_ms is not None else "–"
        cpu += f" + {r.db_cpu_ms:.2f}" if r.db_cpu_ms is not None else ""
        lines.append(
            f"| {r.name} | {len(r.samples_ms)} | {r.percentile(50):.2f} | {r.percentile(95):.2f} "
            f"| {r.percentile(99):.2f} | {max(r.samples_ms):.2f} | {cpu} | {r.queries} | {target} "
            f"| {' '.join(x for x in (r.verdict, r.note) if x)} |"
        )
    return "\n".join(lines)


def write_section(key: str, body: str, path: Path = RESULTS) -> None:
    """Replace this run's section (one per number of cases) in results.md, keeping the others."""
    begin, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = path.read_text() if path.exists() else ""
    if not text.strip():
        text = (
            "# Benchmark results\n\n"
            "Written by `make bench` (`bench/bench_intake.py`); one section per database size. "
            "See bench/README.md for what is measured.\n"
        )
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _old, tail = rest.split(end, 1)
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
