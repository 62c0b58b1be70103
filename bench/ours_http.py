"""Our side of bench/bench_peer.py, on the bench database (petition_bench, N demo cases):

    python bench/ours_http.py fill --cases 100000
    python bench/ours_http.py list --iterations 50     # GET /api/v1/inbox/ and /inbox/ as an officer
    python bench/ours_http.py create --iterations 50   # POST /api/v1/cases/ as reception (new person)

Measured in-process at the server with Django's test Client, as the peer is (bench/peer/run_peer.py);
prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_database_url, fill, setup_django  # noqa: E402


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def _summary(name: str, samples: list[float], queries: int) -> dict[str, object]:
    return {
        "name": name,
        "iterations": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 95), 2),
        "queries": queries,
    }


def _client(username: str):  # type: ignore[no-untyped-def]
    from django.test import Client

    from core.models import User

    client = Client()
    client.force_login(
        User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
    )
    return client


def _timed(fn, iterations: int, warmup: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        fn(i)
        ms = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            samples.append(ms)
    return samples


def _queries(fn) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn(10**6)
    return len(ctx.captured_queries)


def inbox(iterations: int, warmup: int) -> list[dict[str, object]]:
    out = []
    client = _client("police")
    for name, path in [
        ("department inbox API (JSON, first page)", "/api/v1/inbox/"),
        ("department inbox page (HTML, first page)", "/inbox/"),
    ]:

        def get(_i: int, path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")

        out.append(_summary(name, _timed(get, iterations, warmup), _queries(get)))
    return out


def create(iterations: int, warmup: int) -> dict[str, object]:
    from petitions.models import Case, Channel, ContentCategory, Petitioner, Purpose
    from petitions.testing import resident_id

    client = _client("reception")
    rng = random.Random(20261202)
    channel = Channel.objects.order_by("pk").values_list("code", flat=True).first()
    purpose = Purpose.objects.order_by("pk").values_list("code", flat=True).first()
    category = ContentCategory.objects.order_by("pk").values_list("code", flat=True).first()
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_person = Petitioner.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def post(i: int) -> None:
        body = {
            "petitioner": {
                "name": "基准新人",
                "sex": "F",
                "id_type": "resident",
                "id_number": resident_id(rng=rng),
                "phone": f"139{rng.randrange(10**8):08d}",
                "address": "石家庄市长安区",
            },
            "channel": channel,
            "purpose": purpose,
            "category": category,
            "request": "请求依法处理。",
            "headcount": 1,
        }
        response = client.post("/api/v1/cases/", body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(
                f"register answered {response.status_code}: {response.content[:300]!r}"
            )

    samples = _timed(post, iterations, warmup)
    queries = _queries(post)
    # Keep N unchanged for the next round (as bench_intake.py's cleanup does).
    Case.objects.filter(pk__gt=last).delete()
    Petitioner.objects.filter(pk__gt=last_person).delete()
    return _summary("register a case over HTTP (POST /api/v1/cases/, new person)", samples, queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["fill", "list", "create"])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    url = bench_database_url(os.environ.get("DATABASE_URL", ""))
    setup_django(url)
    if args.what == "fill":
        print(json.dumps({"filled": fill(url, cases=args.cases, seed=1, batch=20_000)}))
    elif args.what == "list":
        print(json.dumps(inbox(args.iterations, args.warmup)))
    else:
        print(json.dumps(create(args.iterations, args.warmup)))


if __name__ == "__main__":
    main()
