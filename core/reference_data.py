"""Reference data that migrations seed (code tables, deadline rules, holidays). Tests that run in
transactions with a flush (browser and concurrency tests) remove it; this puts it back."""

from __future__ import annotations

from django.apps import apps


def ensure_reference_data() -> None:
    Channel = apps.get_model("petitions", "Channel")
    if not Channel.objects.exists():
        from petitions.defaults import seed_code_tables

        seed_code_tables()
    DeadlineRule = apps.get_model("clocks", "DeadlineRule")
    if not DeadlineRule.objects.exists():
        from clocks.defaults import seed_deadline_rules

        seed_deadline_rules()
    EscalationStep = apps.get_model("clocks", "EscalationStep")
    if not EscalationStep.objects.exists():
        from clocks.defaults import seed_escalation_steps

        seed_escalation_steps()
    CalendarYear = apps.get_model("clocks", "CalendarYear")
    if not CalendarYear.objects.exists():
        from clocks.calendar import seed_holidays

        seed_holidays()
