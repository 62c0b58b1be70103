"""CPU per call of the API list endpoints (issue 21 §3): the inbox API, the screening queue API
and the case list API, in-process with the test Client on a filled database (``BENCH_DB``, e.g.
a ``seed_demo`` fill), each measured as bench/common.py measures (this process's CPU from
``time.process_time``, the PostgreSQL backend's from /proc, the queries of one call).

    BENCH_DB=petition_bench DATABASE_URL=postgres://... python bench/bench_api_lists.py \
        [--iterations 100] [--dump responses.json]

``--dump`` writes the JSON of every endpoint's first and second page, for every inbox tab and a
few users, so two versions of the code can be compared byte for byte on one database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_database_url, environment, log, measure, setup_django, table  # noqa: E402

ENDPOINTS = [
    (
        "GET /api/v1/inbox/counts/ (no list: the fixed cost of a call)",
        "police",
        "/api/v1/inbox/counts/",
    ),
    ("GET /api/v1/inbox/ as the police officer", "police", "/api/v1/inbox/"),
    (
        "GET /api/v1/inbox/?tab=mine (a full page) as the police officer",
        "police",
        "/api/v1/inbox/?tab=mine",
    ),
    (
        "GET /api/v1/cases/?state=registered (screening queue API) as triage",
        "triage",
        "/api/v1/cases/?state=registered",
    ),
    ("GET /api/v1/cases/ (case list API) as the supervisor", "supervisor", "/api/v1/cases/"),
]

DUMPED = [
    *(("police", f"/api/v1/inbox/?tab={tab}") for tab in ("new", "mine", "due_soon", "overdue")),
    ("police", "/api/v1/inbox/?tab=returned"),
    ("police", "/api/v1/inbox/?tab=mine&role=assist"),
    ("triage", "/api/v1/cases/?state=registered"),
    ("supervisor", "/api/v1/cases/"),
    ("supervisor", "/api/v1/cases/?state=handling&page_size=50"),
    ("reception", "/api/v1/cases/"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--dump", help="write the responses of DUMPED (two pages each) here")
    args = parser.parse_args()
    url = bench_database_url(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition"
    )
    setup_django(url)
    from django.test import Client

    from core.models import User
    from petitions.models import Case

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(
            User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
        )
        return client

    if args.dump:
        out: dict[str, object] = {}
        for user, path in DUMPED:
            client = client_for(user)
            pages = []
            next_path: str | None = path
            for _ in range(2):
                if not next_path:
                    break
                response = client.get(next_path)
                assert response.status_code == 200, (path, response.status_code)
                body = response.json()
                pages.append(body)
                next_path = body.get("next")
            out[f"{user} {path}"] = pages
        Path(args.dump).write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True))
        log(f"wrote {args.dump}")

    results = []
    for name, user, path in ENDPOINTS:
        client = client_for(user)

        def get(i: int, client: Client = client, path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")

        log(name)
        results.append(measure(name, get, iterations=args.iterations, warmup=args.warmup))
    env = environment()
    print(f"## API lists, N = {Case.objects.count():,} cases\n")
    print("\n".join(f"- {k}: {v}" for k, v in env.items()) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
