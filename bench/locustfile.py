"""Load test (issue 11): a mixed workload of the three kinds of user against the API of a running
server (scripts/bench.sh starts gunicorn and a Celery worker; `make bench`).

- Desk (weight 3): registers a person's case (a new valid resident ID each time) and looks
  people and cases up.
- Officer (weight 4): works the inbox: inbox counts, the inbox list, a case of the inbox.
- Supervisor (weight 1): the supervision dashboard and the report indicators.

Demo users (demo.organisation, password Demo-pass-2026). Each role takes one API token at the start
of the test (as a client application keeps its token), so the run measures the daily work, not 50
password hashes at once. Each simulated user runs its tasks at a constant rate of LOAD_RATE task
runs per second (default 4), so ``-u 50`` offers about 200 requests/s; the result shows what the
server sustained and at which latency.
Run: locust -f bench/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8001
"""

from __future__ import annotations

import os
import random
import threading
from datetime import date, timedelta

from locust import FastHttpUser, constant_throughput, task

PASSWORD = "Demo-pass-2026"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def resident_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    body = f"130102{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + CHECK[total % 11]


_TOKENS: dict[str, str] = {}
_TOKEN_LOCK = threading.Lock()


class ApiUser(FastHttpUser):
    abstract = True
    username = ""
    wait_time = constant_throughput(float(os.environ.get("LOAD_RATE", "4")))

    def on_start(self) -> None:
        with _TOKEN_LOCK:
            token = _TOKENS.get(self.username)
            if token is None:
                response = self.client.post(
                    "/api/v1/auth/token/", json={"username": self.username, "password": PASSWORD}
                )
                token = response.json().get("token", "") if response.ok else ""
                _TOKENS[self.username] = token
        self.auth = {"Authorization": f"Token {token}"}
        self.rng = random.Random()
        self.case_ids: list[int] = []


class Desk(ApiUser):
    weight = 3
    username = "reception"

    @task(2)
    def register(self) -> None:
        body = {
            "petitioner": {
                "name": "压测" + "".join(self.rng.choice("张王李赵刘陈杨黄") for _ in range(2)),
                "id_number": resident_id(self.rng),
                "phone": f"139{self.rng.randrange(10**8):08d}",
            },
            "channel": "visit",
            "purpose": "appeal",
            "category": "court.execution",
            "organ": "court",
            "request": "请求依法执行判决。",
            "facts_reasons": "判决生效后未执行到位。",
            "legal_case_number": f"（2025）冀0102执{self.rng.randrange(10**6)}号",
        }
        with self.client.post(
            "/api/v1/cases/", json=body, headers=self.auth, catch_response=True
        ) as r:
            if r.status_code == 201:
                self.case_ids.append(r.json()["id"])
                r.success()
            else:
                r.failure(f"{r.status_code} {r.text[:200]}")

    @task(3)
    def look_up(self) -> None:
        self.client.get(
            "/api/v1/cases/?page_size=20", name="/api/v1/cases/ (list)", headers=self.auth
        )
        if self.case_ids:
            pk = self.rng.choice(self.case_ids)
            self.client.get(f"/api/v1/cases/{pk}/", name="/api/v1/cases/[id]/", headers=self.auth)


class Officer(ApiUser):
    weight = 4
    username = "police"

    @task(2)
    def counts(self) -> None:
        self.client.get("/api/v1/inbox/counts/", headers=self.auth)

    @task(3)
    def inbox(self) -> None:
        r = self.client.get("/api/v1/inbox/?page_size=20", name="/api/v1/inbox/", headers=self.auth)
        if r.ok:
            rows = r.json().get("results", [])
            ids = [
                row.get("case", {}).get("id")
                if isinstance(row.get("case"), dict)
                else row.get("case_id")
                for row in rows
            ]
            ids = [i for i in ids if i]
            if ids:
                self.client.get(
                    f"/api/v1/cases/{self.rng.choice(ids)}/",
                    name="/api/v1/cases/[id]/",
                    headers=self.auth,
                )


class Supervisor(ApiUser):
    weight = 1
    username = "supervisor"

    @task(2)
    def dashboard(self) -> None:
        self.client.get(
            "/api/v1/cases/?state=handling&page_size=20",
            name="/api/v1/cases/ (filter)",
            headers=self.auth,
        )

    @task(1)
    def indicators(self) -> None:
        self.client.get("/api/v1/reports/indicators/", headers=self.auth)
