"""The nearest open-source peer, measured beside us in one run (issue 10): django-helpdesk 2.6.1,
installed from PyPI into a throwaway virtualenv under var/peer/ (bench/peer/requirements.txt; never
vendored), on the same PostgreSQL server and machine, filled with the same shape of data.

    DATABASE_URL=postgres://... python bench/bench_peer.py --cases 100000 [--sweep-items 10000]

Pairs, run interleaved (peer, ours, peer, ours, ...) for --rounds rounds; the median of the rounds
is reported with the ratio:
- its `escalate_tickets` against our deadline sweep, on --sweep-items open items with 30% past
  their threshold (its own databases: petition_peer_sweep, petition_bench_sweep_peer);
- its staff ticket list (datatables JSON, first page) against our department inbox (API and page);
- its staff ticket creation over HTTP against our registration over HTTP (POST /api/v1/cases/).
Writes bench/results/<date>-<N>-peer.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "var" / "peer"
PEER_PY = PEER_DIR / "venv" / "bin" / "python"
REQS = ROOT / "bench" / "peer" / "requirements.txt"
OUR_PY = ROOT / ".venv" / "bin" / "python"


def log(message: str) -> None:
    print(f"[peer] {message}", file=sys.stderr, flush=True)


def with_db(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def ensure_db(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
    conn.close()


def ensure_peer_venv() -> None:
    stamp = PEER_DIR / ".installed"
    if PEER_PY.exists() and stamp.exists() and stamp.read_text() == REQS.read_text():
        return
    log("installing django-helpdesk into var/peer/venv ...")
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_DIR / "venv")], check=True)
    subprocess.run(
        [
            str(PEER_PY),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            str(REQS),
        ],
        check=True,
    )
    stamp.write_text(REQS.read_text())


def peer(args: list[str], db_url: str) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PEER_DATABASE_URL": db_url}
    out = subprocess.run(
        [str(PEER_PY), "run_peer.py", *args],
        cwd=ROOT / "bench" / "peer",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ours(args: list[str]) -> object:
    out = subprocess.run(
        [str(OUR_PY), "bench/ours_http.py", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def our_sweep(items: int) -> dict[str, object]:
    out = subprocess.run(
        [
            str(OUR_PY),
            "bench/bench_sweep.py",
            "--cases",
            str(items),
            "--changed",
            str(int(items * 0.3)),
            "--db",
            "petition_bench_sweep_peer",
            "--no-write",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "BENCH_JSON"},
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = re.search(r"sweep wall time \| ([0-9.]+) s", out.stdout)
    queries = re.search(r"queries \| ([0-9,]+)", out.stdout)
    if not seconds:
        raise SystemExit(f"could not read our sweep's time:\n{out.stdout}\n{out.stderr}")
    return {
        "name": "deadline sweep",
        "seconds": float(seconds.group(1)),
        "queries": int(queries.group(1).replace(",", "")) if queries else None,
    }


def median_of(rows: list[dict], key: str) -> float:  # type: ignore[type-arg]
    return round(statistics.median(float(r[key]) for r in rows), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--sweep-items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:54329/petition"
    os.environ.setdefault(
        "BENCH_DB", "petition_bench" if args.cases == 100_000 else f"petition_bench_{args.cases}"
    )
    ensure_peer_venv()
    # One peer database per N, like ours (bench/common.py BENCH_DB).
    peer_db = with_db(
        base, "petition_peer" if args.cases == 100_000 else f"petition_peer_{args.cases}"
    )
    peer_sweep_db = with_db(base, "petition_peer_sweep")
    for db in (peer_db, peer_sweep_db):
        ensure_db(db)
    log(f"filling the peer with {args.cases:,} tickets (reused when it already holds them) ...")
    log(json.dumps(peer(["fill", "--tickets", str(args.cases)], peer_db)))
    log(json.dumps(peer(["fill", "--tickets", str(args.sweep_items)], peer_sweep_db)))
    log(f"filling ours with {args.cases:,} cases (reused when it already holds them) ...")
    log(json.dumps(ours(["fill", "--cases", str(args.cases)])))

    it = ["--iterations", str(args.iterations)]
    rows: dict[str, list] = {
        k: []
        for k in ("peer_sweep", "our_sweep", "peer_list", "our_list", "peer_create", "our_create")
    }  # type: ignore[type-arg]
    for r in range(args.rounds):
        log(f"round {r + 1}/{args.rounds}")
        rows["peer_sweep"].append(peer(["sweep"], peer_sweep_db))
        rows["our_sweep"].append(our_sweep(args.sweep_items))
        rows["peer_list"].append(peer(["list", *it, "--warmup", "2"], peer_db))
        rows["our_list"].append(ours(["list", *it]))
        rows["peer_create"].append(peer(["create", *it], peer_db))
        rows["our_create"].append(ours(["create", *it]))

    peer_sweep_s = median_of(rows["peer_sweep"], "seconds")
    our_sweep_s = median_of(rows["our_sweep"], "seconds")
    peer_list = median_of(rows["peer_list"], "p50_ms")
    our_api = round(statistics.median(r[0]["p50_ms"] for r in rows["our_list"]), 2)
    our_page = round(statistics.median(r[1]["p50_ms"] for r in rows["our_list"]), 2)
    peer_create = median_of(rows["peer_create"], "p50_ms")
    our_create = median_of(rows["our_create"], "p50_ms")
    load = os.getloadavg()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": args.cases,
        "sweep_items": args.sweep_items,
        "rounds": args.rounds,
        "iterations": args.iterations,
        "machine": {
            "arch": platform.machine(),
            "cpus": os.cpu_count(),
            "load_before_report": [round(x, 2) for x in load],
            "python": platform.python_version(),
        },
        "raw": rows,
        "summary": [
            {
                "pair": "sweep (s, median of rounds)",
                "peer": peer_sweep_s,
                "ours": our_sweep_s,
                "peer_queries": rows["peer_sweep"][-1]["queries"],
                "our_queries": rows["our_sweep"][-1]["queries"],
            },
            {
                "pair": "list first page, p50 ms (peer datatables JSON vs our inbox API)",
                "peer": peer_list,
                "ours": our_api,
                "peer_queries": rows["peer_list"][-1]["queries"],
                "our_queries": rows["our_list"][-1][0]["queries"],
            },
            {
                "pair": "list first page, p50 ms (peer datatables JSON vs our inbox HTML page)",
                "peer": peer_list,
                "ours": our_page,
                "peer_queries": rows["peer_list"][-1]["queries"],
                "our_queries": rows["our_list"][-1][1]["queries"],
            },
            {
                "pair": "create over HTTP, p50 ms (peer staff ticket vs our registration)",
                "peer": peer_create,
                "ours": our_create,
                "peer_queries": rows["peer_create"][-1]["queries"],
                "our_queries": rows["our_create"][-1]["queries"],
            },
        ],
    }
    lines = [
        f"## Side by side with django-helpdesk 2.6.1, N = {args.cases:,} (sweep on {args.sweep_items:,} items)",
        "",
        f"- {result['date']}, {platform.machine()}, {os.cpu_count()} CPUs, load {load[0]:.1f}; "
        f"{args.rounds} interleaved rounds, {args.iterations} timed calls per list/create measurement.",
        "",
        "| pair | peer | ours | peer ÷ ours | queries peer / ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["summary"]:
        ratio = row["peer"] / row["ours"] if row["ours"] else float("nan")
        lines.append(
            f"| {row['pair']} | {row['peer']} | {row['ours']} | {ratio:.1f}× | {row['peer_queries']} / {row['our_queries']} |"
        )
    md = "\n".join(lines)
    print(md)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-{args.cases}-peer"
    (out_dir / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    (out_dir / f"{stem}.md").write_text(md + "\n")
    log(f"written bench/results/{stem}.json and .md")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"stage": "peer", **result}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    log(f"done in {time.perf_counter() - t0:.0f} s")
