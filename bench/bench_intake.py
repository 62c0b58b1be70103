"""Front-desk and list benchmarks against a database of N demo cases (see bench/README.md).

    scripts/bench.sh [--cases N] [--iterations 500] [--warmup 50] [--page /some/list/ ...]

(a) find a petitioner by ID number and that person's visible cases (target p95 < 10 ms)
(b) register a case: upsert_petitioner + register_case (target p95 < 20 ms)
(c) GET the case list page and the API case list as the supervisor (skipped if not there yet)
(d) EXPLAIN ANALYZE of the lookup, to show the index it uses
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_DB,
    RESULTS,
    Result,
    bench_database_url,
    environment,
    fill,
    log,
    measure,
    setup_django,
    table,
    write_section,
)

TARGET_LOOKUP_MS = 10.0
TARGET_REGISTER_MS = 20.0
# List pages measured as the supervisor: (label, path). Add more with --page; a path that does not
# resolve yet, or does not answer 200, is reported as skipped rather than failing the run.
PAGES: list[tuple[str, str]] = [
    ("(c) GET /cases/ (case list page)", "/cases/"),
    ("(c) GET /api/v1/cases/ (API case list)", "/api/v1/cases/"),
]
SAMPLE_NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "孙丽"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the bench database")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated cases")
    parser.add_argument("--batch", type=int, default=5000, help="rows per bulk insert")
    parser.add_argument("--iterations", type=int, default=500, help="timed calls per scenario")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls first")
    parser.add_argument(
        "--page-iterations",
        type=int,
        default=None,
        help="timed requests per page (default: --iterations)",
    )
    parser.add_argument(
        "--page-budget",
        type=float,
        default=60.0,
        help="seconds of timed requests per page at most (at least 20 requests)",
    )
    parser.add_argument(
        "--page", action="append", default=[], metavar="PATH", help="another list page to GET"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown results file")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write results")
    return parser.parse_args(argv)


def person_cases(user: Any, petitioner: Any) -> list[Any]:
    """What the front desk shows next to a person: their cases the user may see, newest first
    (case_list_for's rows; ids first, then the rows by primary key)."""
    from petitions.selectors import person_cases_for

    return person_cases_for(user, petitioner, 50)


def sample_id_numbers(count: int, rng: random.Random) -> list[str]:
    """Clear ID numbers of random petitioners on file (decrypted once, outside the timing)."""
    from django.db.models import Max, Min

    from core import pii
    from petitions.models import IdType, Petitioner

    residents = Petitioner.objects.filter(id_type=IdType.RESIDENT).exclude(id_number_hash="")
    bounds = residents.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        raise SystemExit("bench: no petitioners in the bench database")
    span = range(bounds["lo"], bounds["hi"] + 1)
    picks = rng.sample(span, min(len(span), count * 2))
    encrypted = residents.filter(pk__in=picks).values_list("id_number_enc", flat=True)
    numbers = [pii.decrypt(token) for token in encrypted][:count]
    rng.shuffle(numbers)
    return numbers


def run(args: argparse.Namespace) -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("bench: set DATABASE_URL (scripts/bench.sh starts PostgreSQL for you)")
    bench_url = bench_database_url(url)
    redis = os.environ.get("REDIS_URL", "")
    if redis:
        # Its own Redis database: notifications queued by the registrations below must never
        # reach a development worker, which would look their ids up in the wrong database.
        os.environ["REDIS_URL"] = urlsplit(redis)._replace(path="/15").geturl()
    setup_django(bench_url)
    how = fill(bench_url, cases=args.cases, seed=args.seed, batch=args.batch)

    from django.test import Client
    from django.urls import Resolver404, resolve

    from core.models import User
    from core.pii import blind_index
    from petitions.models import Case, Channel, ContentCategory, Organ, Petitioner, Purpose
    from petitions.services import (
        CaseData,
        PetitionerData,
        find_petitioner_by_id_number,
        register_case,
        registration_warnings,
        upsert_petitioner,
    )
    from petitions.testing import resident_id

    n_cases = Case.objects.count()
    reception = User.objects.get(username="reception")
    supervisor = User.objects.get(username="supervisor")
    rng = random.Random(args.seed * 7919)
    total = args.warmup + args.iterations + 1
    numbers = sample_id_numbers(total, rng)
    results: list[Result] = []

    # (a) front-desk lookup
    def lookup(i: int) -> None:
        person = find_petitioner_by_id_number(numbers[i % len(numbers)])
        if person is None:
            raise RuntimeError("a sampled ID number was not found")
        person_cases(reception, person)

    def lookup_with_warnings(i: int) -> None:
        person = find_petitioner_by_id_number(numbers[i % len(numbers)])
        if person is None:
            raise RuntimeError("a sampled ID number was not found")
        person_cases(reception, person)
        registration_warnings(person)

    log("(a) lookup by ID number ...")
    results.append(
        measure(
            "(a) find petitioner by ID number + their visible cases",
            lookup,
            iterations=args.iterations,
            warmup=args.warmup,
            target_p95_ms=TARGET_LOOKUP_MS,
        )
    )
    results.append(
        measure(
            "(a) same, plus registration warnings",
            lookup_with_warnings,
            iterations=args.iterations,
            warmup=args.warmup,
        )
    )

    # The desk's own read (intake.selectors, another app): reported when it is there.
    try:
        from intake.selectors import find_petitioners, petitioner_file
    except ImportError:
        results.append(Result(name="(a) desk: intake.selectors", skipped="not there yet"))
    else:

        def desk_lookup(i: int) -> None:
            people = find_petitioners(reception, id_number=numbers[i % len(numbers)])
            if not people:
                raise RuntimeError("a sampled ID number was not found")
            petitioner_file(reception, people[0])

        results.append(
            measure(
                "(a) desk: intake.selectors.find_petitioners + petitioner_file",
                desk_lookup,
                iterations=args.iterations,
                warmup=args.warmup,
                target_p95_ms=TARGET_LOOKUP_MS,
            )
        )

    # (b) registration
    channel = Channel.objects.get(code="visit")
    purpose = Purpose.objects.get(code="appeal")
    category = ContentCategory.objects.get(code="court.execution")
    organ = Organ.objects.get(code="court")
    created_cases: list[int] = []
    created_people: list[int] = []
    reg_rng = random.Random(args.seed * 104729)
    # People made by the benchmark have higher ids than everyone on file before it; a random ID
    # number that is already on file updates that file (the upsert) and is not deleted after.
    last_before = Petitioner.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def register(i: int) -> None:
        person = upsert_petitioner(
            actor=reception,
            data=PetitionerData(
                name=SAMPLE_NAMES[i % len(SAMPLE_NAMES)],
                id_number=resident_id(reg_rng),
                phone=f"139{reg_rng.randrange(10**8):08d}",
                address="河北省石家庄市长安区建设大街1号",
            ),
        )
        registration = register_case(
            actor=reception,
            petitioner=person,
            data=CaseData(
                channel=channel,
                purpose=purpose,
                category=category,
                organ=organ,
                request="请求法院依法执行（2025）冀0102执123号民事判决。",
                facts_reasons="判决生效已一年，至今未执行到位。",
            ),
        )
        created_cases.append(registration.case.pk)
        if person.pk > last_before:
            created_people.append(person.pk)

    log("(b) registration ...")
    try:
        results.append(
            measure(
                "(b) register a case (upsert_petitioner + register_case)",
                register,
                iterations=args.iterations,
                warmup=args.warmup,
                target_p95_ms=TARGET_REGISTER_MS,
            )
        )
    finally:
        cleanup(created_cases, created_people)

    # (c) list pages
    client = Client()
    client.force_login(supervisor)
    pages = PAGES + [(f"(c) GET {path}", path) for path in args.page]
    for label, path in pages:
        try:
            resolve(urlsplit(path).path)
        except Resolver404:
            results.append(Result(name=label, skipped="URL not defined yet"))
            continue
        first = client.get(path)
        if first.status_code != 200:
            results.append(Result(name=label, skipped=f"HTTP {first.status_code}"))
            continue

        def get(_i: int, path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")

        log(f"{label} ...")
        results.append(
            measure(
                f"{label} as supervisor",
                get,
                iterations=args.page_iterations or args.iterations,
                warmup=min(args.warmup, 3),
                budget_s=args.page_budget,
            )
        )

    # (d) the plan of the lookup
    sample = numbers[0]
    lookup_qs = Petitioner.objects.filter(id_number_hash=blind_index(sample)).order_by("pk")[:1]
    lookup_plan = lookup_qs.explain(analyze=True, buffers=True)
    person = find_petitioner_by_id_number(sample)
    from petitions.selectors import case_list_for

    cases_qs = (
        case_list_for(reception)
        .filter(case_petitioners__petitioner=person)
        .order_by("-registered_at")[:50]
    )
    cases_plan = cases_qs.explain(analyze=True, buffers=True)
    uses_index = "Index" in lookup_plan and "Seq Scan" not in lookup_plan

    text = report(args, n_cases, how, results, lookup_plan, cases_plan, uses_index)
    print(text)
    if not args.no_write:
        write_section(f"N={args.cases}", text, args.output)
        log(f"results written to {args.output}")
    return 0


def cleanup(cases: list[int], people: list[int]) -> None:
    """Delete the cases the registration benchmark made, so the case count keeps matching and
    the database is reused next time. Their history rows stay (they are not counted)."""
    from petitions.models import Case, Petitioner

    try:
        Case.objects.filter(pk__in=cases).delete()
        Petitioner.objects.filter(pk__in=people).delete()
    except Exception as exc:  # noqa: BLE001 - the results are still worth writing
        log(f"could not remove the {len(cases)} benchmark registrations: {exc!r}")


def report(
    args: argparse.Namespace,
    n_cases: int,
    how: str,
    results: list[Result],
    lookup_plan: str,
    cases_plan: str,
    uses_index: bool,
) -> str:
    env = environment()
    lines = [
        f"## N = {args.cases:,} cases",
        "",
        f"- Database: `{BENCH_DB}` with {n_cases:,} cases; {how}.",
        *(f"- {k}: {v}" for k, v in env.items()),
        f"- Timing: {args.iterations} timed iterations after {args.warmup} warm-up calls, "
        "in-process (`config.settings.local`, `DEBUG=false`); queries counted on one more call.",
        "",
        table(results),
        "",
        "### (d) EXPLAIN ANALYZE: lookup by ID number",
        "",
        "`find_petitioner_by_id_number` (keyed hash of the number, then the first match):",
        "",
        "```",
        lookup_plan,
        "```",
        "",
        f"Index used: {'yes' if uses_index else '**no**'}.",
        "",
        "That person's cases visible to the reception user:",
        "",
        "```",
        cases_plan,
        "```",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run(parse_args(sys.argv[1:])))
