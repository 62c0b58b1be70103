"""Turn locust's --csv stats into bench/results/<date>-load.json and .md (scripts/bench_load.sh)."""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
from pathlib import Path


def main(stats_csv: str, out: str, users: str, duration: str) -> None:
    with Path(stats_csv).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def row(r: dict[str, str]) -> dict[str, object]:
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
    result = {
        "users": int(users),
        "rate_per_user": float(os.environ.get("LOAD_RATE", "4")),
        "load_average_end": load,
        "target": target,
        "target_met": met,
        "duration": duration,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "total": total,
        "requests": per,
    }
    Path(out + ".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    lines = [
        f"# Load test ({users} users at {result['rate_per_user']} task runs/s each, {duration}, "
        f"{os.cpu_count()} CPUs, load average at the end {load})",
        "",
        f"Target: >= {target['rps']} requests/s, p95 <= {target['p95_ms']} ms, 0 errors: "
        f"**{'met' if met else 'missed'}**. gunicorn, the Celery worker, PostgreSQL and locust "
        "share the same machine.",
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


if __name__ == "__main__":
    main(*sys.argv[1:5])
