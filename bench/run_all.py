"""`make bench`: every benchmark of bench/ in one invocation, ours and the peer side by side, on one
PostgreSQL server and machine (issue 10). Writes bench/results/<date>-<N>.json (machine, load,
versions, every figure) and bench/results/<date>-<N>.md (the tables), N = the number of cases.

    DATABASE_URL=postgres://... python bench/run_all.py --cases 100000 [--sweep-items 10000]
        [--rounds 3] [--skip intake,pages,sweep,reports,campaigns,peer]

Stages (each a child process, its own bench database derived from DATABASE_URL's server):
intake (fills petition_bench; lookup, registration, list pages), pages (inbox, triage, dashboard),
reports, sweep (petition_bench_sweep: N open clocks, N/10 going overdue), campaigns (the
campaign sweep's one query, several criteria, over all N cases), peer (django-helpdesk
2.6.1 beside our sweep, inbox and registration, interleaved rounds). A failing stage is recorded
and the others still run. Wall-clock figures on a shared machine are noisy: every row carries the
load average, and the CPU ms/call and query counts are the steadier evidence.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
STAGES = ("intake", "pages", "reports", "sweep", "campaigns", "peer")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    import django

    out = {"python": platform.python_version(), "django": django.get_version()}
    try:
        from urllib.parse import urlsplit

        import psycopg2

        url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
        conn = psycopg2.connect(url.replace("postgres://", "postgresql://", 1))
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            out["postgresql"] = cur.fetchone()[0]
            for name in ("shared_buffers", "work_mem", "plan_cache_mode", "jit"):
                cur.execute(f"SHOW {name}")
                out[f"pg_{name}"] = cur.fetchone()[0]
        conn.close()
    except Exception as exc:  # noqa: BLE001 - recorded, not fatal
        out["postgresql"] = f"unknown ({exc})"
    peer_py = ROOT / "var" / "peer" / "venv" / "bin" / "python"
    if peer_py.exists():
        got = subprocess.run(
            [str(peer_py), "-c", "import helpdesk, django; print(django.get_version())"],
            capture_output=True,
            text=True,
            check=False,
        )
        out["peer"] = f"django-helpdesk 2.6.1 on Django {got.stdout.strip() or '?'}"
    return out


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {"arch": platform.machine(), "cpus": os.cpu_count(), "cpu": model, "memory": mem}


def stage_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    n = str(args.cases)
    return {
        "intake": [
            PY, "bench/bench_intake.py", "--cases", n,
            "--iterations", str(args.iterations), "--warmup", str(args.warmup),
            "--page-budget", "30",
        ],
        "pages": [PY, "bench/bench_pages.py", "--iterations", str(args.iterations), "--warmup", "10"],
        "reports": [PY, "bench/bench_reports.py", "--iterations", "10", "--warmup", "2"],
        "sweep": [
            PY, "bench/bench_sweep.py", "--cases", n,
            "--changed", str(max(1, args.cases // 10)), "--no-write",
        ],
        "campaigns": [
            PY, "bench/bench_campaigns.py", "--iterations", "10", "--warmup", "1",
        ],
        "peer": [
            PY, "bench/bench_peer.py", "--cases", n,
            "--sweep-items", str(args.sweep_items), "--rounds", str(args.rounds),
            "--iterations", str(args.peer_iterations),
        ],
    }  # fmt: skip


def markdown(result: dict) -> str:  # type: ignore[type-arg]
    m, v = result["machine"], result["versions"]
    lines = [
        f"## Benchmarks, N = {result['cases']:,} cases — {result['date']}",
        "",
        f"- Machine: {m['arch']}, {m['cpus']} CPUs ({m.get('cpu') or '?'}), memory {m.get('memory')};"
        f" load average at start {result['load_start']}, at end {result['load_end']}",
        f"- Software: Python {v.get('python')}, Django {v.get('django')}, PostgreSQL "
        f"{v.get('postgresql')} (shared_buffers {v.get('pg_shared_buffers')}, work_mem "
        f"{v.get('pg_work_mem')}, plan_cache_mode {v.get('pg_plan_cache_mode')}); {v.get('peer', '')}",
        "- Stages: "
        + ", ".join(
            f"{s['stage']} {s['seconds']:.0f} s{'' if s['ok'] else ' (FAILED)'}"
            for s in result["stages"]
        )
        + f"; total {result['seconds']:.0f} s",
        "- Wall-clock figures on a shared 2-core machine are noisy; compare CPU ms/call (this"
        " process + its PostgreSQL backend) and query counts, which other load barely changes.",
        "",
        "| stage | scenario | n | p50 ms | p95 ms | CPU ms/call app + db | queries | target p95 | | load 1 min |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in result["figures"]:
        if row.get("stage") in ("peer", "sweep"):
            continue
        if row.get("skipped"):
            lines.append(
                f"| {row['stage']} | {row['name']} | – | – | – | – | – | – | skipped: {row['skipped']} | |"
            )
            continue
        cpu = f"{row.get('app_cpu_ms')}" + (
            f" + {row['db_cpu_ms']}" if row.get("db_cpu_ms") is not None else ""
        )
        target = f"{row['target_p95_ms']:g}" if row.get("target_p95_ms") is not None else "–"
        verdict = {True: "met", False: "**missed**", None: ""}[row.get("met")]
        lines.append(
            f"| {row['stage']} | {row['name']} | {row.get('iterations')} | {row.get('p50_ms')} "
            f"| {row.get('p95_ms')} | {cpu} | {row.get('queries')} | {target} | {verdict} "
            f"| {row.get('load', ['?'])[0]} |"
        )  # fmt: skip
    sweeps = [r for r in result["figures"] if r.get("stage") == "sweep"]
    if sweeps:
        lines += ["", "| sweep | changed | escalated | wall s | app CPU s | queries | history / events / outbox | rerun s | load |",
                  "|---|---:|---:|---:|---:|---:|---|---:|---:|"]  # fmt: skip
        for s in sweeps:
            lines.append(
                f"| {s['name']} | {s['changed']:,} | {s['escalated']:,} | {s['seconds']} "
                f"| {s.get('app_cpu_seconds')} | {s['queries']} | {s['history']:,} / {s['events']:,} / "
                f"{s['notifications']:,} | {s['rerun_seconds']} | {s['load'][0]} |"
            )  # fmt: skip
    peers = [r for r in result["figures"] if r.get("stage") == "peer"]
    for p in peers:
        lines += [
            "",
            f"Side by side with django-helpdesk 2.6.1 (same server, interleaved, median of "
            f"{p['rounds']} rounds; sweep on {p['sweep_items']:,} items, 30% due; load "
            f"{p['machine']['load_before_report'][0]}):",
            "",
            "| pair | peer | ours | peer ÷ ours | queries peer / ours |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in p["summary"]:
            ratio = row["peer"] / row["ours"] if row["ours"] else float("nan")
            lines.append(
                f"| {row['pair']} | {row['peer']} | {row['ours']} | {ratio:.1f}× "
                f"| {row['peer_queries']} / {row['our_queries']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--sweep-items", type=int, default=10_000, help="peer sweep size")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved peer rounds")
    parser.add_argument("--iterations", type=int, default=100, help="timed calls per scenario")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--peer-iterations", type=int, default=30)
    parser.add_argument("--skip", default="", help="comma-separated stages to leave out")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench: set DATABASE_URL (any database on the server to use)")
    skip = {s for s in args.skip.split(",") if s}
    # One database per N (petition_bench for the default 100,000, petition_bench_<N> otherwise), so
    # a 1,000,000 run does not throw away the 100,000 fill and the other way round.
    os.environ.setdefault(
        "BENCH_DB", "petition_bench" if args.cases == 100_000 else f"petition_bench_{args.cases}"
    )
    started = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    figures_file = Path(tempfile.mkstemp(prefix="bench-", suffix=".jsonl")[1])
    stages = []
    for name, cmd in stage_commands(args).items():
        if name in skip:
            continue
        log(f"{name}: {' '.join(cmd[1:])}")
        t0 = time.perf_counter()
        env = {**os.environ, "BENCH_JSON": str(figures_file), "BENCH_STAGE": name}
        rc = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
        stages.append({"stage": name, "seconds": round(time.perf_counter() - t0, 1), "ok": rc == 0})
        log(f"{name}: {'done' if rc == 0 else f'FAILED ({rc})'} in {stages[-1]['seconds']} s")
    figures = [json.loads(line) for line in figures_file.read_text().splitlines() if line.strip()]
    figures_file.unlink(missing_ok=True)
    now = datetime.now(UTC)
    result = {
        "date": now.isoformat(timespec="seconds"),
        "cases": args.cases,
        "arguments": vars(args),
        "machine": machine(),
        "versions": versions(),
        "load_start": load_start,
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - started, 1),
        "stages": stages,
        "figures": figures,
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stem = f"{now:%Y-%m-%d}-{args.cases}"
    k = 1
    while (out_dir / f"{stem}.json").exists():  # never overwrite an earlier run of the day
        k += 1
        stem = f"{now:%Y-%m-%d}-{args.cases}-{k}"
    (out_dir / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    md = markdown(result)
    (out_dir / f"{stem}.md").write_text(md)
    print(md)
    log(f"written bench/results/{stem}.json and .md ({result['seconds']:.0f} s)")
    if not all(s["ok"] for s in stages):
        sys.exit(1)


if __name__ == "__main__":
    main()
