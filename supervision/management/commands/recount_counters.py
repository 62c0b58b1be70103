"""Rebuild the kept counters (the triage tabs' and the dashboard's) from the live tables, after a
fill that ran with triggers off or to check a suspicion: supervision.counters."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from supervision.counters import recount_kept_counters


class Command(BaseCommand):
    help = "Rebuild the kept triage and dashboard counters from scratch (set-based)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        recount_kept_counters()
        self.stdout.write(f"kept counters rebuilt in {time.perf_counter() - started:.2f} s")
