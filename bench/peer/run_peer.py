"""The peer's side of bench/bench_peer.py, run inside the peer's own virtualenv (var/peer/venv):

    PEER_DATABASE_URL=postgres://.../petition_peer python run_peer.py fill --tickets 100000
    ... run_peer.py sweep            # django-helpdesk's escalate_tickets, timed, as JSON
    ... run_peer.py list --iterations 50     # staff ticket list (datatables JSON, first page)
    ... run_peer.py create --iterations 50   # staff ticket creation over HTTP (test Client)

Same shape as our bench data: 4 queues, 20 staff officers, every ticket open, about 30% past the
queue's escalation threshold, 3 follow-ups each. Every figure is measured at the server, in-process,
as ours are (bench/common.py), and printed as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

OFFICERS = 20
QUEUES = 4
ESCALATE_DAYS = 3
OVERDUE_SHARE = 0.3
FOLLOWUPS = 3


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def _summary(name: str, samples: list[float], queries: int) -> dict[str, object]:
    return {
        "name": name,
        "iterations": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 95), 2),
        "queries": queries,
    }


def fill(tickets: int) -> dict[str, object]:
    from helpdesk.models import FollowUp, Queue, Ticket

    call_command("migrate", verbosity=0)
    if Ticket.objects.count() == tickets:
        return {"filled": False, "tickets": tickets}
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE helpdesk_ticketchange, helpdesk_followup, helpdesk_ticket CASCADE")
    User = get_user_model()  # noqa: N806
    staff = []
    for i in range(OFFICERS):
        user, _ = User.objects.get_or_create(
            username=f"officer{i}", defaults={"is_staff": True, "email": f"officer{i}@example.org"}
        )
        user.is_staff = True
        user.set_password("bench-pass")
        user.save()
        staff.append(user)
    queues = []
    for i in range(QUEUES):
        queue, _ = Queue.objects.get_or_create(
            slug=f"q{i}", defaults={"title": f"Queue {i}", "escalate_days": ESCALATE_DAYS}
        )
        queues.append(queue)
    now = timezone.now()
    overdue = int(tickets * OVERDUE_SHARE)
    batch = 10_000
    for start in range(0, tickets, batch):
        rows = []
        for n in range(start, min(tickets, start + batch)):
            created = now - timedelta(days=10) if n < overdue else now - timedelta(hours=1)
            rows.append(
                Ticket(
                    title=f"Bench ticket {n}",
                    queue=queues[n % QUEUES],
                    created=created,
                    modified=created,
                    submitter_email=f"person{n}@example.org",
                    assigned_to=staff[n % OFFICERS],
                    status=Ticket.OPEN_STATUS,
                    description="A bench ticket with a short description of the matter.",
                    priority=3,
                    secret_key=f"{n:012d}",
                )
            )
        made = Ticket.objects.bulk_create(rows)
        follow = [
            FollowUp(
                ticket=t,
                date=t.created,
                title=f"Follow-up {k}",
                comment="Progress noted.",
                public=True,
                user=t.assigned_to,
            )
            for t in made
            for k in range(FOLLOWUPS)
        ]
        FollowUp.objects.bulk_create(follow, batch_size=5_000)
    with connection.cursor() as cur:
        # bulk_create lets the model stamp ``created`` with now(): age the overdue share in SQL.
        cur.execute(
            "UPDATE helpdesk_ticket SET created = now() - interval '10 days', "
            "modified = now() - interval '10 days' WHERE id IN "
            "(SELECT id FROM helpdesk_ticket ORDER BY id LIMIT %s)",
            [overdue],
        )
        cur.execute(
            "UPDATE helpdesk_followup f SET date = t.created FROM helpdesk_ticket t "
            "WHERE f.ticket_id = t.id"
        )
        cur.execute("VACUUM ANALYZE")
    return {"filled": True, "tickets": tickets, "fill_s": round(time.perf_counter() - t0, 1)}


def reset() -> None:
    """Undo a previous escalation run: the same tickets become due again."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM helpdesk_ticketchange WHERE followup_id IN "
            "(SELECT id FROM helpdesk_followup WHERE title = 'Ticket Escalated')"
        )
        cur.execute("DELETE FROM helpdesk_followup WHERE title = 'Ticket Escalated'")
        cur.execute("UPDATE helpdesk_ticket SET priority = 3, last_escalation = NULL")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE helpdesk_ticket")


def sweep() -> dict[str, object]:
    from django.core import mail

    reset()
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        call_command("escalate_tickets")
        elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM helpdesk_followup WHERE title = 'Ticket Escalated'")
        escalated = cur.fetchone()[0]
    mail.outbox = []
    return {
        "name": "escalate_tickets",
        "seconds": round(elapsed, 3),
        "escalated": escalated,
        "queries": len(ctx.captured_queries),
    }


def _staff_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="officer0"))
    return client


def ticket_list(iterations: int, warmup: int, budget_s: float = 30.0) -> dict[str, object]:
    """First page of the staff ticket list. At most ``budget_s`` seconds of timed calls (at least
    5): at 1,000,000 tickets one call takes seconds, and 3 rounds x 50 calls would take hours."""
    from helpdesk.query import query_to_base64

    client = _staff_client()
    query = query_to_base64(
        {"filtering": {"status__in": [1, 2, 3]}, "sorting": "created", "search_string": ""}
    )
    path = f"/datatables_ticket_list/{query}?draw=1&start=0&length=25"
    samples: list[float] = []
    stop_at = None
    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        response = client.get(path)
        ms = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"peer list answered {response.status_code}")
        if i >= warmup:
            samples.append(ms)
            stop_at = stop_at or (t0 + budget_s)
            if len(samples) >= 5 and time.perf_counter() > stop_at:
                break
    with CaptureQueriesContext(connection) as ctx:
        client.get(path)
    return _summary("ticket list (datatables JSON, first page)", samples, len(ctx.captured_queries))


def create(iterations: int, warmup: int) -> dict[str, object]:
    from helpdesk.models import Queue, Ticket

    client = _staff_client()
    queue = Queue.objects.order_by("pk").first()
    samples = []
    made_before = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def post(i: int) -> None:
        response = client.post(
            "/tickets/submit/",
            {
                "queue": queue.pk,
                "title": f"Bench created {i}",
                "body": "A matter registered by staff at the counter.",
                "priority": 3,
                "submitter_email": f"new{i}@example.org",
                "assigned_to": "",
                "due_date": "",
            },
        )
        if response.status_code != 302:
            raise SystemExit(
                f"peer create answered {response.status_code}: {response.content[:300]!r}"
            )

    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        post(i)
        ms = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            samples.append(ms)
    with CaptureQueriesContext(connection) as ctx:
        post(warmup + iterations)
    queries = len(ctx.captured_queries)
    # Keep N unchanged for the next round.
    Ticket.objects.filter(pk__gt=made_before).delete()
    return _summary("staff ticket creation over HTTP", samples, queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["fill", "sweep", "list", "create"])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if args.what == "fill":
        out = fill(args.tickets)
    elif args.what == "sweep":
        out = sweep()
    elif args.what == "list":
        out = ticket_list(args.iterations, args.warmup)
    else:
        out = create(args.iterations, args.warmup)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
