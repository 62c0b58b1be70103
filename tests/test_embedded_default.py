"""Smoke test of the embedded default used by `make run` on a bare machine: SQLite under var/ and
Kombu's filesystem broker, no servers. Runs the real commands in subprocesses."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory):
    """One embedded installation (SQLite file + filesystem broker) shared by this module's tests:
    migrating SQLite from scratch is the slow part."""
    var = tmp_path_factory.mktemp("embedded") / "var"
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    run(env, "migrate", "--noinput")
    return env


def run(env, *args, timeout=180):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result


def wait_http(url: str, timeout: float = 30) -> tuple[int, bytes]:
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
                return r.status, r.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)


def test_embedded_default_serves_login_and_is_ready(embedded_env):
    out = run(embedded_env, "seed_demo").stdout
    assert "reception" in out
    assert (Path(embedded_env["VAR_DIR"]) / "db.sqlite3").exists()
    # the scheduled deadline checks run on the embedded database too (ORM path of the sweep)
    assert "warning levels changed" in run(embedded_env, "run_deadline_checks").stdout
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status, body = wait_http(f"http://127.0.0.1:{port}/readyz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
        status, body = wait_http(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and "登录".encode() in body
    finally:
        server.terminate()
        server.wait(10)


def test_embedded_broker_delivers_tasks_to_a_worker(embedded_env, tmp_path):
    """Scheduled checks must run on a bare machine: a task sent through the filesystem broker is
    executed by a real worker process."""
    marker = tmp_path / "pong.txt"
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-l",
            "warning",
            "--pool",
            "solo",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        code = f"from core.tasks import write_marker; write_marker.delay({str(marker)!r})"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=embedded_env,
            check=True,
            timeout=60,
            capture_output=True,
        )
        end = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < end:
            time.sleep(0.3)
        assert marker.read_text() == "pong"
    finally:
        worker.terminate()
        worker.wait(20)


WRITER = """
from core.models import User
from petitions.testing import register
user = User.objects.get(username="reception")
for _ in range({n}):
    register(user)
print("ok")
"""

DELIVERER = """
from clocks.tasks import deliver_pending_notifications
from clocks.sweep import run_deadline_checks
for _ in range({n}):
    deliver_pending_notifications()
    run_deadline_checks()
print("ok")
"""


def test_concurrent_writers_do_not_lock_the_embedded_database(embedded_env):
    """Issue #11: cases registered quickly while the worker delivers notifications and sweeps
    deadlines, each in its own process on the one SQLite file, as `make run` does. WAL and
    IMMEDIATE transactions with a busy timeout make writers wait, never fail with "database is
    locked"."""
    import sqlite3

    run(embedded_env, "seed_demo")
    db = Path(embedded_env["VAR_DIR"]) / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT count(*) FROM petitions_case").fetchone()[0]
    scripts = [WRITER.format(n=12)] * 3 + [DELIVERER.format(n=12)]
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=embedded_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in scripts
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0 and "ok" in out, err[-3000:]
        assert "database is locked" not in err
    with sqlite3.connect(db) as conn:
        after = conn.execute("SELECT count(*) FROM petitions_case").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert after - before == 36
    assert mode == "wal"


@pytest.mark.django_db
def test_every_page_names_a_favicon_the_app_serves(client):
    """Issue #11: a favicon of our own (no external asset), linked from base.html."""
    import re

    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    html = client.get("/accounts/login/").content.decode()
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match, "base.html must link a favicon"
    href = match.group(1)
    assert href.startswith(static(""))  # served by the app, not a CDN
    assert finders.find(href.removeprefix(static(""))) is not None
