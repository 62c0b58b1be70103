"""bench/load_report.py: the load run's server CPU per request (issue 21 §4)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import load_report  # noqa: E402

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,"
    "80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _write_stats(tmp_path: Path) -> Path:
    stats = tmp_path / "load_stats.csv"
    stats.write_text(
        STATS_HEADER
        + "\nGET,/api/v1/inbox/,900,0,20,25,5,300,100,30.0,0,20,22,24,25,40,60,80,90,300,300,300"
        + "\n,Aggregated,1200,1,21,26,5,400,100,40.0,0,21,23,25,26,45,70,90,110,400,400,400\n"
    )
    history = tmp_path / "load_stats_history.csv"
    rows = ["Timestamp,User Count,Type,Name,Total Request Count"]
    # Cumulative totals: 40 requests a second from t=1000 on.
    rows += [f"{1000 + s},50,,Aggregated,{40 * s}" for s in range(31)]
    history.write_text("\n".join(rows) + "\n")
    return stats


def test_requests_are_counted_inside_the_sampled_window_only(tmp_path: Path) -> None:
    stats = _write_stats(tmp_path)
    history = str(stats).replace("_stats.csv", "_stats_history.csv")
    # 1010.5 → the total at 1010 (400); the end after the last line → the final total (1200).
    assert load_report.requests_between(history, 1010.5, 1099.0) == 800
    assert load_report.requests_between(history, 990.0, 1005.0) == 200
    assert load_report.requests_between(str(tmp_path / "missing.csv"), 0, 1) is None


def test_cpu_per_call_and_requests_per_cpu_second() -> None:
    cpu = {"cpu_s": {"app": 6.0, "db": 2.0, "worker": 0.4}, "wall_s": 20.0}
    out = load_report.cpu_per_call(cpu, 800)
    # 8.4 CPU-s over 800 requests: 7.5 + 2.5 + 0.5 = 10.5 ms a request, 95.2 requests a CPU-s.
    assert out["ms_per_call"] == {"app": 7.5, "db": 2.5, "worker": 0.5, "server": 10.5}
    assert out["requests_per_server_cpu_s"] == 95.2
    assert out["target_met"] is False
    assert load_report.cpu_per_call(cpu, 1200)["target_met"] is True  # 7.0 ms


def test_report_writes_the_cpu_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = _write_stats(tmp_path)
    cpu_json = tmp_path / "cpu.json"
    cpu_json.write_text(
        json.dumps(
            {
                "warmup_s": 10,
                "started_at": 1010.2,
                "ended_at": 1031.0,
                "wall_s": 20.8,
                "cpu_s": {"app": 6.0, "db": 2.0, "worker": 0.4},
                "processes": {"app": 5, "db": 6, "worker": 3},
                "machine_busy_s": 41.0,
                "cpus": 2,
                "db_source": "/proc of the load database's backends",
            }
        )
    )
    monkeypatch.setenv("LOAD_PINNING", "locust on CPU 1, gunicorn and the Celery worker on CPU 0")
    result = load_report.report(str(stats), str(tmp_path / "out"), "50", "30s", str(cpu_json))
    # 1200 - 400 requests completed inside the window.
    assert result["server_cpu"]["requests_in_window"] == 800
    assert result["server_cpu"]["ms_per_call"]["server"] == 10.5
    md = (tmp_path / "out.md").read_text()
    assert "locust on CPU 1" in md
    assert "| app (gunicorn master + 4 workers) | 6.0 | 7.5 |" in md
    assert "Requests per server CPU-second: **95.2**" in md
    assert json.loads((tmp_path / "out.json").read_text())["total"]["requests"] == 1200


def test_group_counts_processes_started_during_the_run_from_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings = {1: [5.0, 7.0], 2: [1.5]}
    monkeypatch.setattr(load_report, "process_cpu_seconds", lambda pid: readings[pid].pop(0))
    group = load_report.Group()
    group.read([1], started=False)  # baseline: 5.0
    group.read([1, 2], started=True)  # pid 2 appeared during the run
    assert group.seconds() == 2.0 + 1.5


def test_this_process_cpu_is_read_from_proc() -> None:
    assert load_report.process_cpu_seconds(os.getpid()) is not None
    assert os.getpid() not in load_report.children(os.getpid())
