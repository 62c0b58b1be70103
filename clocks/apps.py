from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClocksConfig(AppConfig):
    """The clock engine: holiday calendar, deadline rules, deadlines, the sweep and the
    notification outbox. Below routing, supervision and closure, which all run on its clocks."""

    name = "clocks"
    verbose_name = _("deadlines and notifications")

    def ready(self) -> None:
        from core.reference_data import register_seeder
        from petitions.hooks import ClockEngine, register_clock_engine

        from .deadlines import meet_deadline, plan_deadline
        from .models import Deadline
        from .notify import notify_event

        # What petitions asks of the clocks (petitions.hooks: it never imports clocks).
        register_clock_engine(
            ClockEngine(
                plan=plan_deadline, model=Deadline, meet=meet_deadline, notify_event=notify_event
            )
        )

        from .calendar import seed_holidays
        from .defaults import seed_deadline_rules, seed_escalation_steps
        from .models import CalendarYear, DeadlineRule, EscalationStep

        # Reference data put back after a transactional test's flush (core.reference_data).
        register_seeder(DeadlineRule.objects.exists, seed_deadline_rules)
        register_seeder(EscalationStep.objects.exists, seed_escalation_steps)

        def holidays() -> None:
            seed_holidays()

        register_seeder(CalendarYear.objects.exists, holidays)
