"""Reference data that migrations seed (code tables, deadline rules, holidays). Tests that run in
transactions with a flush (browser and concurrency tests) remove it; this puts it back."""

from __future__ import annotations

import importlib

from django.apps import apps


def ensure_reference_data() -> None:
    Channel = apps.get_model("petitions", "Channel")
    if not Channel.objects.exists():
        from petitions.defaults import seed_code_tables

        seed_code_tables()
    DeadlineRule = apps.get_model("supervision", "DeadlineRule")
    if not DeadlineRule.objects.exists():
        module = importlib.import_module("supervision.migrations.0002_seed_deadline_rules")
        module.seed(apps, None)
    EscalationStep = apps.get_model("supervision", "EscalationStep")
    if not EscalationStep.objects.exists():
        module = importlib.import_module("supervision.migrations.0005_seed_escalation_steps")
        module.seed(apps, None)
    CalendarYear = apps.get_model("supervision", "CalendarYear")
    if not CalendarYear.objects.exists():
        from supervision.calendar import seed_holidays

        seed_holidays()
