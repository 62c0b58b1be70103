"""The load run's report (scripts/bench_load.sh): throughput and latency from locust's --csv stats,
and the server's CPU per API call (issue 21 §4), into bench/results/<date>-load.json and .md.

The CPU is sampled over a window that starts after a warm-up (LOAD_WARMUP, default 10 s: the
workers' first requests, the logins, locust's ramp-up) and ends with the run; only the requests
locust completed inside that window are counted (its per-second totals, load_stats_history.csv).

Two commands:

    python bench/load_report.py sample OUT.json --gunicorn PID --worker PID --db NAME
        Runs beside locust until SIGTERM/SIGINT, every 0.5 s reading /proc: the CPU time
        (utime + stime) of the gunicorn master and its workers, of the Celery worker and its pool
        processes, and of the PostgreSQL backends connected to the load database (their pids
        from pg_stat_activity; this sampler's own connection left out), and the machine's busy
        CPU time (/proc/stat). Each process counts from its first reading (or from zero when it
        started during the run) to its last. pg_stat_statements is not used: it records time
        spent, not CPU, and needs shared_preload_libraries on the server.
    python bench/load_report.py report STATS_CSV OUT USERS DURATION [CPU.json]
        Writes OUT.json and OUT.md: requests, failures, requests/s and p50/p95/p99 per request
        and in total; with CPU.json, the server CPU per request served (app = gunicorn, db =
        PostgreSQL backends, worker = Celery), and requests per server CPU-second.

Limits: a backend that connects and exits between two readings is missed (gunicorn and the worker
keep their connections, CONN_MAX_AGE); PostgreSQL's background processes (WAL writer,
checkpointer) serve every database of the server and are not counted.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
TARGET_CPU_MS_PER_CALL = 8.0  # issue 21 §4: 200 requests/s on two cores


# --- sampling ----------------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is field 3 (state) of proc(5): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """Direct children of a process (every thread's children file)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def machine_busy_seconds() -> float:
    """All cores' non-idle time since boot (first line of /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


class Group:
    """CPU of a changing set of processes: first and last reading of each pid."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def read(self, pids: list[int], started: bool) -> None:
        for pid in pids:
            cpu = process_cpu_seconds(pid)
            if cpu is None:
                continue
            # A process first seen after the start ran only during the run: count it from zero.
            self.first.setdefault(pid, cpu if not started else 0.0)
            self.last[pid] = cpu

    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def sample(
    out: str, gunicorn: int, worker: int, db: str, delay: float = 0.0, interval: float = 0.5
) -> None:
    import psycopg2

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    groups = {"app": Group(), "worker": Group(), "db": Group()}

    def backends() -> list[int]:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db],
            )
            return [int(row[0]) for row in cursor.fetchall()]

    def read(started: bool) -> None:
        groups["app"].read([gunicorn, *children(gunicorn)], started)
        groups["worker"].read([worker, *children(worker)], started)
        groups["db"].read(backends(), started)

    # The window starts after the warm-up (workers' first requests, logins, ramp-up): only
    # requests locust completed inside it are divided into the CPU (load_stats_history.csv).
    deadline = time.monotonic() + delay
    while not stop and time.monotonic() < deadline:
        time.sleep(0.1)
    read(started=False)
    busy_before, wall_before, started_at = machine_busy_seconds(), time.monotonic(), time.time()
    while not stop:
        time.sleep(interval)
        read(started=True)
    result = {
        "warmup_s": delay,
        "started_at": started_at,
        "ended_at": time.time(),
        "wall_s": round(time.monotonic() - wall_before, 2),
        "cpu_s": {name: round(group.seconds(), 2) for name, group in groups.items()},
        "processes": {name: len(group.last) for name, group in groups.items()},
        "machine_busy_s": round(machine_busy_seconds() - busy_before, 2),
        "cpus": os.cpu_count(),
        "db_source": "/proc of the load database's backends (pg_stat_activity), every "
        f"{interval:g} s",
    }
    Path(out).write_text(json.dumps(result, indent=2) + "\n")


# --- the report ------------------------------------------------------------------------------------


def requests_between(history_csv: str, started_at: float, ended_at: float) -> int | None:
    """Requests locust completed between two moments, from its per-second cumulative totals."""
    path = Path(history_csv)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as f:
        totals = [
            (int(r["Timestamp"]), int(r["Total Request Count"]))
            for r in csv.DictReader(f)
            if r["Name"] == "Aggregated"
        ]
    if not totals:
        return None

    def at(moment: float) -> int:
        seen = [count for stamp, count in totals if stamp <= moment]
        return seen[-1] if seen else 0

    return at(ended_at) - at(started_at)


def cpu_per_call(cpu: dict[str, Any], requests: int) -> dict[str, Any]:
    """Server CPU per request served and requests per server CPU-second."""
    seconds = cpu["cpu_s"]
    cpu = {**cpu, "requests_in_window": requests}
    server = seconds["app"] + seconds["db"] + seconds["worker"]
    per = {
        name: round(seconds[name] * 1000 / requests, 2) if requests else None
        for name in ("app", "db", "worker")
    }
    total = round(server * 1000 / requests, 2) if requests else None
    return {
        **cpu,
        "ms_per_call": {**per, "server": total},
        "requests_per_server_cpu_s": round(requests / server, 1) if server else None,
        "target_ms_per_call": TARGET_CPU_MS_PER_CALL,
        "target_met": total is not None and total <= TARGET_CPU_MS_PER_CALL,
    }


def report(
    stats_csv: str, out: str, users: str, duration: str, cpu_json: str | None = None
) -> dict[str, Any]:
    with Path(stats_csv).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def row(r: dict[str, str]) -> dict[str, Any]:
        return {
            "method": r["Type"],
            "name": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "rps": round(float(r["Requests/s"]), 2),
            "p50_ms": float(r["50%"] or 0),
            "p95_ms": float(r["95%"] or 0),
            "p99_ms": float(r["99%"] or 0),
            "max_ms": round(float(r["Max Response Time"] or 0), 1),
        }

    per = [row(r) for r in rows if r["Name"] != "Aggregated"]
    total = next((row(r) for r in rows if r["Name"] == "Aggregated"), {})
    load = [round(x, 2) for x in os.getloadavg()]
    target = {"rps": 200, "p95_ms": 100, "failures": 0}
    met = bool(total) and (
        total["rps"] >= target["rps"]
        and total["p95_ms"] <= target["p95_ms"]
        and total["failures"] == 0
    )
    cpu = None
    if cpu_json and Path(cpu_json).exists():
        sampled = json.loads(Path(cpu_json).read_text())
        history = stats_csv.replace("_stats.csv", "_stats_history.csv")
        served = requests_between(history, sampled["started_at"], sampled["ended_at"])
        cpu = cpu_per_call(sampled, total.get("requests", 0) if served is None else served)
    pinning = os.environ.get("LOAD_PINNING", "not pinned: locust shares the cores with the server")
    result = {
        "users": int(users),
        "rate_per_user": float(os.environ.get("LOAD_RATE", "4")),
        "load_average_end": load,
        "target": target,
        "target_met": met,
        "duration": duration,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "database": os.environ.get("LOAD_DB_NOTE", ""),
        "pinning": pinning,
        "server_cpu": cpu,
        "total": total,
        "requests": per,
    }
    Path(out + ".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    lines = [
        f"# Load test ({users} users at {result['rate_per_user']} task runs/s each, {duration}, "
        f"{os.cpu_count()} CPUs, load average at the end {load})",
        "",
        f"Target: >= {target['rps']} requests/s, p95 <= {target['p95_ms']} ms, 0 errors: "
        f"**{'met' if met else 'missed'}**. gunicorn, the Celery worker and PostgreSQL run on "
        f"this machine. CPU pinning: {pinning}.",
    ]
    if result["database"]:
        lines += ["", f"Database: {result['database']}."]
    if cpu is not None:
        ms, secs = cpu["ms_per_call"], cpu["cpu_s"]
        lines += [
            "",
            f"Server CPU per request served: {cpu['requests_in_window']} requests completed in "
            f"the {cpu['wall_s']} s sampled after {cpu.get('warmup_s', 0):g} s of warm-up "
            f"(PostgreSQL from {cpu['db_source']}):",
            "",
            "| | CPU s | ms per request |",
            "|---|---:|---:|",
            f"| app (gunicorn master + {cpu['processes']['app'] - 1} workers) | {secs['app']} "
            f"| {ms['app']} |",
            f"| PostgreSQL ({cpu['processes']['db']} backends of the load database) "
            f"| {secs['db']} | {ms['db']} |",
            f"| Celery worker (notifications after commit) | {secs['worker']} | {ms['worker']} |",
            f"| **server** | {round(secs['app'] + secs['db'] + secs['worker'], 2)} "
            f"| **{ms['server']}** |",
            "",
            f"Requests per server CPU-second: **{cpu['requests_per_server_cpu_s']}**. "
            f"Target <= {TARGET_CPU_MS_PER_CALL:g} ms of server CPU per request: "
            f"**{'met' if cpu['target_met'] else 'missed'}**. The whole machine was busy "
            f"{cpu['machine_busy_s']} CPU-s of {round(cpu['wall_s'] * (cpu['cpus'] or 1), 1)} "
            "(locust, other processes and the server).",
        ]
    lines += [
        "",
        "| request | n | failures | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [*per, {**total, "method": "", "name": "**total**"}]:
        lines.append(
            f"| {r['method']} {r['name']} | {r['requests']} | {r['failures']} | {r['rps']} "
            f"| {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} |"
        )
    Path(out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


def main(argv: list[str]) -> None:
    if argv and argv[0] == "sample":
        import argparse

        parser = argparse.ArgumentParser(prog="load_report.py sample")
        parser.add_argument("out")
        parser.add_argument("--gunicorn", type=int, required=True)
        parser.add_argument("--worker", type=int, required=True)
        parser.add_argument("--db", required=True)
        parser.add_argument("--delay", type=float, default=0.0, help="warm-up seconds")
        args = parser.parse_args(argv[1:])
        sample(args.out, args.gunicorn, args.worker, args.db, args.delay)
    elif argv and argv[0] == "report":
        report(*argv[1:6])
    else:  # the old form: STATS_CSV OUT USERS DURATION
        report(*argv[0:4])


if __name__ == "__main__":
    main(sys.argv[1:])
