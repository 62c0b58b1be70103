"""Benchmark of the campaign sweep (排查, issue 19) on the bench database that bench_intake.py
filled (petition_bench[_N], N demo cases): the one query of campaigns.sweep.find_candidates for
several combinations of criteria over the widest scope (the province center and every center
below it: all N cases), target p95 < 2 s at 1,000,000 cases. Each row also gives how many cases
met the criteria, exact up to the cap (5,000), else "more than 5,000". The session runs with
``jit = off`` as the deployment's server does (docker-compose.yml);
``BENCH_CAMPAIGNS_JIT=server`` keeps the server's setting instead.

    DATABASE_URL=postgres://... python bench/bench_campaigns.py [--iterations 10] [--warmup 1]

Applies the migrations first (campaigns 0003 adds the sweep's indexes to an existing fill).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    bench_database_url,
    environment,
    log,
    measure,
    setup_django,
    table,
    write_section,
)

# (label, criteria): each criterion alone on the kinds of rows it reads, the example, and
# everything at once in the OR mode (the widest net: every set computed, flags for 5,000 rows).
COMBINATIONS: list[tuple[str, dict[str, Any]]] = [
    ("open > 90 days", {"open_days_over": 90}),
    ("open > 90 days AND >= 3 visits in 12 months", {"open_days_over": 90, "visits_at_least": 3}),
    (">= 3 visits in 12 months", {"visits_at_least": 3}),
    ("group OR skip-level", {"group": True, "skip_level": True, "match": "any"}),
    ("repeat after closure", {"repeat_after_closure": True}),
    ("final matter, keeps coming", {"final_returning": True}),
    ("overdue", {"overdue": True}),
    ("dissatisfied", {"dissatisfied": True}),
    ("overdue AND dissatisfied", {"overdue": True, "dissatisfied": True}),
    (
        "all eight criteria, OR",
        {
            "open_days_over": 90,
            "visits_at_least": 3,
            "group": True,
            "skip_level": True,
            "repeat_after_closure": True,
            "final_returning": True,
            "overdue": True,
            "dissatisfied": True,
            "match": "any",
        },
    ),
]
TARGET_MS = 2000.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    url = bench_database_url(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition"
    )
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from campaigns.sweep import find_candidates, parse_criteria
    from core.models import Center
    from petitions.models import Case

    total = Case.objects.count()
    if not total:
        raise SystemExit("bench database is empty: run bench/bench_intake.py first (make bench)")
    call_command("migrate", interactive=False, verbosity=0)
    jit = os.environ.get("BENCH_CAMPAIGNS_JIT", "off")
    with connection.cursor() as cursor:
        # a plan gone wrong must not hold the run (and the shared server) for an hour
        cursor.execute("SET statement_timeout = '120s'")
        if jit == "off":
            # The deployment's server runs with jit off (docker-compose.yml, docs/performance.md);
            # a shared test server may not: set it on this session only, as deployed. JIT
            # compiling the sweep's many expressions cost 2.8 s of the OR mode's 3.4 s.
            cursor.execute("SET jit = off")
    top = Center.objects.filter(parent__isnull=True).order_by("pk").first()
    assert top is not None
    scope = list(Center.objects.filter(path__startswith=top.path).values_list("pk", flat=True))
    now = timezone.now()
    results = []
    found: dict[str, str] = {}
    for label, raw in COMBINATIONS:
        criteria = parse_criteria(raw)

        def sweep(_i: int, criteria: Any = criteria, label: str = label) -> None:
            run = find_candidates(center_ids=scope, criteria=criteria, now=now)
            found[label] = f"more than {run.total:,}" if run.truncated else f"{run.total:,}"

        name = f"sweep: {label}"
        log(name)
        result = measure(
            name, sweep, iterations=args.iterations, warmup=args.warmup, target_p95_ms=TARGET_MS
        )
        if label in found:
            result.note = f"{found[label]} cases met it"
        results.append(result)
    env = environment()
    body = "\n".join(
        [
            f"## Campaign sweep (排查), N = {total:,} cases, scope: {top.name} and below",
            "",
            *(f"- {k}: {v}" for k, v in env.items()),
            f"- Session: jit {jit} (statement_timeout 120s)",
            "",
            table(results),
        ]
    )
    print(body)
    write_section(f"campaigns:N={total}", body)


if __name__ == "__main__":
    main()
