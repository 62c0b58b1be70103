"""CPU per API call at the server, in-process (issue 21 §4): the calls of the load run's mixed
workload with a token, as a client application sends them, through the whole middleware stack.

    DATABASE_URL=... python bench/api_cpu.py --calls 200 [--profile inbox] [--db petition_load]

For each call: CPU ms of this process per call (``time.process_time`` over ``--calls`` calls after
10 warm-up calls), CPU ms of its PostgreSQL backend per call (/proc, when the server is local) and
the queries of one call. ``--profile NAME`` prints the cProfile of that call's loop (top 40 by
cumulative time) instead. Uses the demo users of ``seed_demo`` (reception, police, supervisor).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backend_cpu_seconds, bench_database_url, setup_django  # noqa: E402

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(rng: random.Random) -> str:
    """A valid resident ID number (as bench/locustfile.py makes them), so each call is a new file."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    body = f"130102{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def _setup(db: str) -> None:
    setup_django(bench_database_url(os.environ["DATABASE_URL"], db))


def _calls() -> dict[str, Callable[[int], object]]:
    from django.test import Client

    from core.models import User
    from core.services import issue_token

    def client(username: str) -> Client:
        user = User.objects.get(username=username)
        token = issue_token(user=user)
        return Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    officer, desk, supervisor = client("police"), client("reception"), client("supervisor")
    inbox = officer.get("/api/v1/inbox/?page_size=20").json()["results"]
    case_id = inbox[0]["case"]["id"] if isinstance(inbox[0].get("case"), dict) else inbox[0]["id"]
    rng = random.Random()  # a new person each call, on every run

    def register(i: int) -> object:
        body = {
            "petitioner": {
                "name": "压测" + rng.choice("张王李赵"),
                "id_number": resident_id(rng),
                "phone": f"139{rng.randrange(10**8):08d}",
            },
            "channel": "visit",
            "purpose": "appeal",
            "category": "court.execution",
            "organ": "court",
            "request": "请求依法执行判决。",
            "facts_reasons": "判决生效后未执行到位。",
            "legal_case_number": f"（2025）冀0102执{rng.randrange(10**6)}号",
        }
        response = desk.post("/api/v1/cases/", body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        return response

    def get(c: Client, url: str) -> Callable[[int], object]:
        def call(i: int) -> object:
            response = c.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return call

    return {
        "inbox": get(officer, "/api/v1/inbox/?page_size=20"),
        "inbox_counts": get(officer, "/api/v1/inbox/counts/"),
        "case": get(officer, f"/api/v1/cases/{case_id}/"),
        "case_list": get(desk, "/api/v1/cases/?page_size=20"),
        "indicators": get(supervisor, "/api/v1/reports/indicators/"),
        "me": get(officer, "/api/v1/me/"),
        "register": register,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "petition_load"))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    _setup(args.db)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    calls = _calls()
    names = [n for n in calls if not args.only or n in args.only.split(",")]
    if args.profile:
        call = calls[args.profile]
        for i in range(10):
            call(i)
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall (waits on PostgreSQL)
        profiler.enable()
        for i in range(args.calls):
            call(i)
        profiler.disable()
        st = pstats.Stats(profiler).sort_stats("cumulative")
        st.print_stats(int(os.environ.get("TOP", "40")))
        if os.environ.get("CALLEES"):
            st.print_callees(os.environ["CALLEES"])
        return
    out = {}
    for name in names:
        call = calls[name]
        for i in range(10):
            call(i)
        with CaptureQueriesContext(connection) as queries:
            call(10)
        # Read now: the next request's request_started signal clears the connection's query log.
        query_count = len(queries)
        backend_before = backend_cpu_seconds()
        before = time.process_time()
        for i in range(args.calls):
            call(i)
        app_ms = (time.process_time() - before) * 1000 / args.calls
        backend_after = backend_cpu_seconds()
        db_ms = None
        if backend_before and backend_after and backend_before[0] == backend_after[0]:
            db_ms = round((backend_after[1] - backend_before[1]) * 1000 / args.calls, 2)
        out[name] = {"app_cpu_ms": round(app_ms, 2), "db_cpu_ms": db_ms, "queries": query_count}
        print(name, out[name], file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
