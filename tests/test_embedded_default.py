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
