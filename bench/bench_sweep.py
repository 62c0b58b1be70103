"""Benchmark of the deadline sweep (issue 5): a million open cases, one sweep that changes 100,000
of them. Compared with django-helpdesk's escalate_tickets (about 100 tickets/s on 10,000 tickets).

    DATABASE_URL=postgres://.../petition_bench_sweep python bench/bench_sweep.py --cases 1000000 --changed 100000

Uses its own database (created if missing; never the test database). Fills it with set-based SQL
(generate_series), so filling a million rows takes seconds, then times one sweep at the server.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition"
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=100_000)
    parser.add_argument("--db", default="petition_bench_sweep")
    parser.add_argument(
        "--no-write", action="store_true", help="print only (bench_peer.py); keep results_sweep.md"
    )
    parser.add_argument("--refill", action="store_true", help="fill again even if the size matches")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="clocks per batch (default: the sweep's own)"
    )
    parser.add_argument(
        "--cold-broker",
        action="store_true",
        help="do not open the broker connection before timing (a fresh process, not a worker)",
    )
    args = parser.parse_args()

    url = bench_database_url(args.db)
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from clocks.sweep import run_deadline_checks
    from core.models import Center, User
    from demo.organisation import seed_organisation, seed_users
    from petitions.models import Case

    centers = seed_organisation()
    seed_users(centers)
    city = centers["130100"]
    user = User.objects.get(username="reception")
    now = timezone.now()

    existing = Case.objects.count()
    fill_seconds = None
    if existing != args.cases or args.refill:
        print(f"filling {args.cases:,} cases with one open handling clock each ...", flush=True)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE petitions_case, petitions_petitioner, supervision_deadline, "
                "supervision_historicaldeadline, supervision_notification, petitions_caseevent CASCADE"
            )
            cur.execute("""
                INSERT INTO petitions_petitioner (name, name_key, sex, id_type, id_number_enc, id_number_hash, id_number_masked,
                       phone_enc, phone_hash, phone_masked, address, household_registration, occupation, notes, created_at,
                       sms_opt_out)
                VALUES ('基准', '基准', 'U', 'none', '', '', '', '', '', '', '', '', '', '', now(), false) RETURNING id""")
            petitioner_id = cur.fetchone()[0]
            channel = Case._meta.get_field("channel").related_model.objects.first().pk
            purpose = Case._meta.get_field("purpose").related_model.objects.first().pk
            category = Case._meta.get_field("category").related_model.objects.first().pk
            cur.execute(
                """
                INSERT INTO petitions_case (number, query_code_hash, center_id, origin_center_id, state, state_changed_at,
                       version, channel_id, purpose_id, category_id, legal_case_number, problem_region_code,
                       is_law_related, is_major_urgent, is_safety_risk, is_skip_level, is_group, headcount, request,
                       facts_reasons, main_petitioner_id, visit_count, registered_at, registered_by_id, outcome)
                SELECT 'B' || lpad(g::text, 12, '0'), '', %(center)s, %(center)s, 'handling', %(now)s, 1, %(channel)s,
                       %(purpose)s, %(category)s, '', '', true, false, false, false, false, 1, 'bench', '',
                       %(petitioner)s, 1, %(now)s - interval '30 days', %(user)s, ''
                  FROM generate_series(1, %(n)s) g""",
                {
                    "center": city.pk,
                    "now": now,
                    "channel": channel,
                    "purpose": purpose,
                    "category": category,
                    "petitioner": petitioner_id,
                    "user": user.pk,
                    "n": args.cases,
                },
            )
            # Every case gets an open handling clock; the first --changed ones are due an hour ago,
            # the rest in 40 days (on time: the sweep must not touch them).
            cur.execute(
                """
                INSERT INTO supervision_deadline (case_id, kind, basis, day_type, starts_at, due_at, is_provisional,
                       paused_days, extended_days, extension_reason, warning_level, escalation_step, created_at)
                SELECT c.id, 'handling', 'bench', 'calendar', %(now)s - interval '60 days',
                       CASE WHEN row_number() OVER (ORDER BY c.id) <= %(changed)s
                            THEN %(now)s - interval '1 hour' ELSE %(now)s + interval '40 days' END,
                       false, 0, 0, '', 'on_time', 0, %(now)s
                  FROM petitions_case c""",
                {"now": now, "changed": args.changed},
            )
            cur.execute("ANALYZE")
        fill_seconds = time.perf_counter() - t0
        print(f"filled in {fill_seconds:.1f}s", flush=True)
    else:
        with connection.cursor() as cur:
            # Reset a previous run: the same --changed clocks become due again, nothing swept yet.
            cur.execute(
                "TRUNCATE supervision_historicaldeadline, supervision_notification, petitions_caseevent "
                "CASCADE"  # supervision_notificationread refers to the notifications
            )
            cur.execute(
                "UPDATE supervision_deadline SET warning_level='on_time', overdue_since=NULL, escalation_step=0"
            )
            cur.execute("VACUUM ANALYZE supervision_deadline")

    open_clocks = Case.objects.filter(deadlines__met_at__isnull=True).count()
    if not args.cold_broker:
        # A Celery worker (where the sweep runs) has imported kombu's transport and holds a broker
        # connection before its first task; do the same here, so the timing is the sweep's own.
        from clocks.tasks import deliver_pending_notifications

        with deliver_pending_notifications.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)

    def backend_cpu() -> float | None:
        """CPU seconds of this connection's PostgreSQL backend (same machine only)."""
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    sweep_kwargs = {"batch_size": args.batch_size} if args.batch_size else {}
    load_before = os.getloadavg()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from django.test.utils import CaptureQueriesContext

    db_cpu0 = backend_cpu()
    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        result = run_deadline_checks(now=now, **sweep_kwargs)
        elapsed = time.perf_counter() - t0
        app_cpu = time.process_time() - cpu0
    db_cpu1 = backend_cpu()
    db_cpu = None if db_cpu0 is None or db_cpu1 is None else db_cpu1 - db_cpu0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t1 = time.perf_counter()
    again = run_deadline_checks(now=now, **sweep_kwargs)
    rerun = time.perf_counter() - t1
    # a later sweep with nothing to do (the beat five minutes on): reads, changes nothing
    idle_db0 = backend_cpu()
    t1 = time.perf_counter()
    idle = run_deadline_checks(now=now + timedelta(minutes=5), **sweep_kwargs)
    idle_seconds = time.perf_counter() - t1
    idle_db1 = backend_cpu()
    idle_db = None if idle_db0 is None or idle_db1 is None else idle_db1 - idle_db0
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM supervision_historicaldeadline")
        history = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM petitions_caseevent")
        events = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM supervision_notification")
        notes = cur.fetchone()[0]
    changed = result.levels_changed
    lines = [
        f"## Deadline sweep ({args.cases:,} open cases, {open_clocks:,} open clocks; {Center.objects.count()} centers)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| clocks moved to overdue | {changed:,} |",
        f"| escalations (step 1, to the department head) | {result.escalated:,} |",
        f"| sweep wall time | {elapsed:.2f} s (CPU: this process {app_cpu:.2f} s, PostgreSQL backend "
        f"{'n/a' if db_cpu is None else f'{db_cpu:.2f} s'}; load {load_before[0]:.1f}) |",
        f"| queries | {len(captured.captured_queries):,} |",
        f"| rate | {changed / elapsed:,.0f} clocks/s (helpdesk escalate_tickets: ~100 tickets/s; x{changed / elapsed / 100:,.0f}) |",
        f"| history rows written | {history:,} |",
        f"| case events written | {events:,} |",
        f"| notification rows written | {notes:,} |",
        f"| peak RSS of the process (before → after) | {rss_before / 1024:.0f} MB → {rss_after / 1024:.0f} MB |",
        f"| second sweep right after (idempotence) | {again.levels_changed} changed, {again.escalated} escalated, {rerun:.2f} s |",
        f"| sweep with nothing to do (5 minutes later) | {idle.levels_changed + idle.escalated} changed, {idle_seconds:.3f} s "
        f"(backend CPU {'n/a' if idle_db is None else f'{idle_db:.3f} s'}) |",
    ]
    if fill_seconds is not None:
        lines.append(
            f"| fill ({args.cases:,} cases and clocks, set-based SQL) | {fill_seconds:.1f} s |"
        )
    if os.environ.get("BENCH_JSON"):
        import json

        with open(os.environ["BENCH_JSON"], "a", encoding="utf-8") as out:
            row = {
                "stage": os.environ.get("BENCH_STAGE", "sweep"),
                "name": f"sweep: {changed:,} of {open_clocks:,} clocks going overdue",
                "cases": args.cases,
                "changed": changed,
                "escalated": result.escalated,
                "seconds": round(elapsed, 3),
                "app_cpu_seconds": round(app_cpu, 3),
                "db_cpu_seconds": None if db_cpu is None else round(db_cpu, 3),
                "idle_seconds": round(idle_seconds, 3),
                "fill_seconds": None if fill_seconds is None else round(fill_seconds, 1),
                "queries": len(captured.captured_queries),
                "history": history,
                "events": events,
                "notifications": notes,
                "rerun_seconds": round(rerun, 3),
                "rerun_changed": again.levels_changed,
                "load": [round(x, 2) for x in os.getloadavg()],
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        out = ROOT / "bench" / "results_sweep.md"
        out.write_text(report + "\n")


if __name__ == "__main__":
    main()
