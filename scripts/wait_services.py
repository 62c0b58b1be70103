"""Fail fast, naming the server, when DATABASE_URL or REDIS_URL cannot be reached."""

import os
import sys
import time
from urllib.parse import urlsplit


def main() -> int:
    import psycopg2
    import redis

    db = os.environ.get("DATABASE_URL", "")
    rd = os.environ.get("REDIS_URL", "")
    deadline = time.monotonic() + 20
    for name, check in (
        ("DATABASE_URL", lambda: psycopg2.connect(_pg_dsn(db), connect_timeout=3).close()),
        ("REDIS_URL", lambda: redis.Redis.from_url(rd, socket_timeout=3).ping()),
    ):
        while True:
            try:
                check()
                break
            except Exception as exc:  # noqa: BLE001
                if time.monotonic() > deadline:
                    host = urlsplit(db if name == "DATABASE_URL" else rd).netloc.rsplit("@", 1)[-1]
                    print(f"[test] cannot reach {name} ({host}): {exc}".strip(), file=sys.stderr)
                    return 2
                time.sleep(0.5)
    return 0


def _pg_dsn(url: str) -> str:
    # Connect to the maintenance database: the test database is created by the test run.
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)


if __name__ == "__main__":
    sys.exit(main())
